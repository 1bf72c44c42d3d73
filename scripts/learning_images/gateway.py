"""The R2 upload gateway's side of the contract: what the Worker enforces, and city keys.

The Worker (``infra/learning_images_infra/r2/gateway``) holds no rule of its own: the stack binds it the document
:func:`worker_contract` makes from :mod:`learning_images.contract`, so the gateway, the AWS
guards and the uploader read one definition. A city's gateway secret is derived from the
gateway secret and the city's access key id (:func:`city_secret`), exactly as the Worker derives
it, so the Worker's KV namespace maps key ids to cities and holds no secret.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Final, TypeVar

from learning_images import b2, contract

#: Domain separation of derived secrets; the Worker's ``SECRET_CONTEXT`` is the same string.
SECRET_CONTEXT: Final = "learning-images-gateway/v1/"  # noqa: S105 (a label, not a secret)
#: The largest image the gateway takes: 32 MiB, a hundred times a camera JPEG. The Worker holds an
#: image in memory to check it (JPEG bytes, SHA-256) before R2 stores it, and a Worker has 128 MB
#: per isolate, shared by the requests it serves at once (Cloudflare docs, "Workers limits"); the
#: request-body limit (100 MB on the Free and Pro plans) would let a few concurrent uploads exhaust
#: it. Larger images would need the checks on a stream: not built.
DEFAULT_MAX_OBJECT_BYTES: Final = 32 * 1024**2
#: An access key id's prefix: tells a gateway key from an R2 token id in any log.
ACCESS_KEY_PREFIX: Final = "LIGW"
#: Random bytes of an access key id after its prefix (the stack's per-city ``RandomId``): 64 bits,
#: so ids of any number of cities never collide in practice.
KEY_ID_BYTES: Final = 8
#: Every access key id the gateway issues; anything else is refused before a lookup (a KV key may
#: not be empty nor above 512 bytes, and the lookup would throw: a 500 that clients retry).
ACCESS_KEY_PATTERN: Final = f"^{ACCESS_KEY_PREFIX}[0-9A-F]{{{2 * KEY_ID_BYTES}}}$"
#: The region R2's S3 API signs for (R2 docs, "S3 API compatibility": region ``auto``); a request
#: signed for another is malformed, as S3 answers one signed for the wrong region.
SIGNING_REGION: Final = "auto"
#: User metadata an upload may carry, keys and values together (S3's user-defined metadata limit,
#: 2 KB; R2's is the same order): above it S3 answers 400 MetadataTooLarge, which the gateway
#: answers too instead of letting R2's put throw.
MAX_METADATA_BYTES: Final = 2048

#: The x-amz-* headers an upload may carry besides its metadata: SigV4's own, and the checksum
#: (botocore sends its algorithm too). Anything else (ACLs, tags, lock, copy source, encryption
#: settings, storage class) is refused: those are the store's to decide.
ALLOWED_AMZ_HEADERS: Final = (
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-checksum-sha256",
    "x-amz-sdk-checksum-algorithm",
)
#: Headers the gateway reads and therefore requires to be signed when sent (x-amz-* always are).
SIGNED_HEADERS: Final = ("content-type", "if-none-match", "if-match")


#: Where a store's event webhook delivers to the gateway (B2's): no bucket name starts with "_", so
#: no S3 request's path is this one.
EVENTS_PATH: Final = "/_events"


def events_url(gateway_url: str) -> str:
    """Where a store's event webhooks reach the gateway at ``gateway_url``."""
    return gateway_url + EVENTS_PATH


#: The largest delivery the gateway reads (B2 coalesces a few events into one).
MAX_EVENT_BODY_BYTES: Final = 1 << 20


def worker_contract(bucket: str, *, max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES) -> dict[str, Any]:
    """The ``CONTRACT`` binding of the Worker: every upload rule, as data."""
    return {
        "bucket": bucket,
        "key_pattern": contract.OBJECT_KEY_PATTERN.pattern,
        "required_metadata": [contract.metadata_key(f) for f in contract.METADATA_FIELDS],
        "optional_metadata": [contract.metadata_key(f) for f in contract.EXTRA_METADATA_FIELDS],
        "city_field": contract.metadata_key(contract.CITY_ID),
        "label_field": contract.metadata_key(contract.LABEL_STATUS),
        "upload_labels": [label.value for label in contract.UPLOAD_LABELS],
        "sha256_field": contract.metadata_key(contract.CONTENT_SHA256),
        "content_type": contract.OBJECT_CONTENT_TYPE,
        "jpeg_magic": list(contract.JPEG_MAGIC),
        "max_object_bytes": max_object_bytes,
        "signed_headers": list(SIGNED_HEADERS),
        "allowed_amz_headers": list(ALLOWED_AMZ_HEADERS),
        "metadata_patterns": {
            contract.metadata_key(field): pattern.pattern for field, pattern in contract.METADATA_PATTERNS.items()
        },
        "control_characters": contract.CONTROL_CHARACTERS.pattern,
        "access_key_pattern": ACCESS_KEY_PATTERN,
        "signing_region": SIGNING_REGION,
        "max_metadata_bytes": MAX_METADATA_BYTES,
        "max_clock_skew_seconds": contract.MAX_CLOCK_SKEW_SECONDS,
        "events_path": EVENTS_PATH,
        "event_signature_header": b2.SIGNATURE_HEADER,
        "event_signature_prefix": b2.SIGNATURE_PREFIX,
        "max_event_body_bytes": MAX_EVENT_BODY_BYTES,
    }


def city_secret(gateway_secret: str, access_key_id: str) -> str:
    """A city's secret access key for the gateway: HMAC-SHA256(gateway secret, context + key id)."""
    return hmac.new(gateway_secret.encode(), (SECRET_CONTEXT + access_key_id).encode(), hashlib.sha256).hexdigest()


def access_key_id(random_hex: str) -> str:
    """A gateway access key id from random hex (the stack's per-city ``RandomId``)."""
    return f"{ACCESS_KEY_PREFIX}{random_hex.upper()}"


#: The Worker's bindings naming an S3-compatible bucket it writes in place of an R2 binding
#: (``src/s3-bucket.js``): which are plain text and which are secrets the gateway alone holds.
S3_TARGET_PLAIN: Final = ("S3_ENDPOINT", "S3_REGION", "S3_BUCKET")
S3_TARGET_SECRET: Final = ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
#: The bindings of a gateway that receives a store's event webhooks (B2's): the queue it sends
#: them to, and the secret their deliveries are signed with.
EVENTS_QUEUE_BINDING: Final = "EVENTS"
EVENTS_SECRET_BINDING: Final = "EVENTS_SIGNING_SECRET"  # noqa: S105 (a binding's name, not a secret)
T = TypeVar("T")


def s3_target_bindings(endpoint: T, region: T, bucket: T, access_key_id: T, secret_access_key: T) -> dict[str, T]:
    """The S3_* bindings' values, by binding name (the stack binds Pulumi inputs, the local runner
    strings)."""
    return dict(
        zip(
            (*S3_TARGET_PLAIN, *S3_TARGET_SECRET),
            (endpoint, region, bucket, access_key_id, secret_access_key),
            strict=True,
        )
    )
