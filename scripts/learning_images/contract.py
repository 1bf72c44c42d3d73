"""The storage contract as data, defined once.

Source: the storage contract, shipped as ``docs/contract.md``. The Pulumi program, the client
commands, the upload gateway's CONTRACT binding and the verifier read this module, and the
self-contained policy pack reads what it needs of it from ``policies/catalogue.json`` (generated
by ``make docs``), so a rule changes in one place. It has no Pulumi or AWS imports on purpose: a
client can read it without the infrastructure toolchain.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final


class Label(StrEnum):
    """The HITL label of a sample (``label_status``)."""

    CORRECT = "correct"
    CHANGED = "changed"
    UNSURE = "unsure"


# --- Object metadata -------------------------------------------------------------------------

CITY_ID: Final = "city_id"
CAMERA_ID: Final = "camera_id"
EVENT_ID: Final = "event_id"
LABEL_STATUS: Final = "label_status"
UPLOADED_AT: Final = "uploaded_at"

#: Every object carries these, both as user metadata (``x-amz-meta-*``, what readers see) and as
#: object tags (what bucket policies and lifecycle rules can see: S3 conditions and lifecycle
#: filters cannot read user metadata).
METADATA_FIELDS: Final[tuple[str, ...]] = (CITY_ID, CAMERA_ID, EVENT_ID, LABEL_STATUS, UPLOADED_AT)


def metadata_key(field: str) -> str:
    """The user-metadata key of a field: ``city_id`` travels as ``x-amz-meta-city-id``.

    HTTP intermediaries drop or mangle header names containing ``_`` (nginx ignores them by
    default; WSGI servers cannot tell them from ``-``), so the metadata a reader sees uses
    ``-``. Tags are not headers and keep the exact field names.
    """
    return field.replace("_", "-")


#: User metadata the uploader adds beside the contract's fields. Never tags: the bucket policy
#: refuses any tag outside :data:`METADATA_FIELDS`.
CAPTURED_AT: Final = "captured_at"
QUALITY: Final = "quality"
#: The image's SHA-256 (hex): finds the same image uploaded under different samples.
CONTENT_SHA256: Final = "content_sha256"
EXTRA_METADATA_FIELDS: Final[tuple[str, ...]] = (CAPTURED_AT, QUALITY, CONTENT_SHA256)
#: A sample's quality score, and the uploader's --min-quality threshold, lie in this range.
QUALITY_RANGE: Final = (0.0, 1.0)

#: What an S3 tag value may hold (S3 User Guide, "Categorizing your storage using tags"), so a
#: field that is also a tag is refused by the client before S3 refuses the upload.
TAG_VALUE_PATTERN: Final = re.compile(r"^[A-Za-z0-9 _.:/=+\-@]{1,256}$")
#: A camera or event id: tag-value characters, with no space at either end and no two in a row.
#: SigV4 signs a header value trimmed and with its spaces collapsed, so a value outside this form
#: is not the value that was signed; and a value of spaces alone is blank.
ID_PATTERN: Final = re.compile(r"^(?! )(?!.*  )[A-Za-z0-9 _.:/=+\-@]{1,256}(?<! )$")
#: ``uploaded_at`` as the uploader writes it: UTC, to the second.
UPLOADED_AT_PATTERN: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
#: ``captured_at``: ISO 8601 with a time zone (fractions of a second allowed).
ZONED_TIMESTAMP_PATTERN: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$")
SHA256_HEX_PATTERN: Final = re.compile(r"^[0-9a-f]{64}$")
#: ``quality`` as Python writes a float from 0 to 1 (``0.9``, ``1.0``, ``1e-05``).
QUALITY_PATTERN: Final = re.compile(r"^\d(?:\.\d+)?(?:e-\d+)?$")
#: C0 and C1 control characters, which no metadata value may hold. Some are blank to Python's
#: ``str.strip()`` and not to JavaScript's ``trim()`` (U+001C to U+001F, U+0085): one definition
#: here, read by the uploader and the gateway, instead of each language's idea of "blank".
CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: Labels a city may upload. ``unsure`` is excluded by the contract's HITL filtering step.
UPLOAD_LABELS: Final[tuple[Label, ...]] = (Label.CORRECT, Label.CHANGED)
EXCLUDED_LABELS: Final[tuple[Label, ...]] = (Label.UNSURE,)

# --- Object naming ---------------------------------------------------------------------------

#: Flat namespace: a lowercase UUID and ``.jpg``; no ``/``, so no city folders, no PII in paths.
#: How every object key ends (the one part of the key shape that Cloud Storage's IAM Conditions hold).
OBJECT_KEY_SUFFIX: Final = ".jpg"
OBJECT_KEY_PATTERN: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jpg$")

#: The same shape as an IAM resource wildcard, for the bucket policy. ``?`` matches any single
#: character, so IAM can hold keys to the 8-4-4-4-12 shape and the suffix but not to lowercase
#: hex; a separate guard denies any key containing ``/``. Clients validate the rest with
#: :data:`OBJECT_KEY_PATTERN`.
OBJECT_KEY_IAM_WILDCARD: Final = "????????-????-????-????-????????????.jpg"

OBJECT_CONTENT_TYPE: Final = "image/jpeg"
#: The principal tag IAM Roles Anywhere sets from a certificate's subject CN (IAM Roles Anywhere User
#: Guide, "Trust model": x509Subject/CN among the session's principal tags). With certificates, a
#: city's id is its certificate's CN, and the policies bind uploads to this tag.
CITY_CERTIFICATE_TAG: Final = "x509Subject/CN"
#: Every JPEG starts with these bytes (SOI marker and the next marker's 0xFF): what is not one is refused.
JPEG_MAGIC: Final = b"\xff\xd8\xff"

#: Never change it: every sample's key is derived from it, and reruns rely on the same keys.
SAMPLE_KEY_NAMESPACE: Final = uuid.UUID("5b0c4a6e-2f64-4a39-9d0e-5f1c8e3b7a21")


#: What makes a sample a sample, in the order the key hashes them: where and when it was seen
#: (city, camera, event), what a human said of it (the label), and the image itself. A change of
#: any of them is a different sample, so a new object; the same five again is the same object.
#: ``uploaded_at`` is not identity (a rerun is the same sample), nor are captured_at and quality,
#: which describe the image the hash already names.
SAMPLE_IDENTITY: Final[tuple[str, ...]] = (CITY_ID, CAMERA_ID, EVENT_ID, LABEL_STATUS, CONTENT_SHA256)


def sample_key(city_id: str, camera_id: str, event_id: str, label_status: str, content_sha256: str) -> str:
    """The object key of a sample: a UUID v5 of its identity (:data:`SAMPLE_IDENTITY`), plus ``.jpg``.

    Deterministic, so a rerun or a second batch maps the same sample to the same key and the
    create-only upload turns the duplicate into "already stored". The label is part of the
    identity: a correction (``correct`` re-labelled ``changed``) is a new object, as the contract
    says ("Corrections/updates create new objects"), never an overwrite and never lost as
    "already present".
    """
    name = "\n".join((city_id, camera_id, event_id, label_status, content_sha256))
    return f"{uuid.uuid5(SAMPLE_KEY_NAMESPACE, name)}.jpg"


#: GDPR's deadline for an erasure, in days (the contract: "Comply with data protection
#: regulations"; GDPR Art. 12(3), one month). On a backend where an erased object's bytes outlive
#: the erasure (noncurrent versions, soft delete), those windows together must fit in it.
GDPR_ERASURE_DAYS: Final = 30

#: Every store of the contract speaks the S3 API, which refuses a request signed more than this far
#: from its own clock (RequestTimeTooSkewed; S3 API Reference, "Common Request Headers"). The
#: uploader's pre-flight, the sandbox's front and the R2 gateway hold this one window.
MAX_CLOCK_SKEW_SECONDS: Final = 15 * 60

#: S3's largest single PUT. The AWS store denies multipart uploads (``guards.deny_multipart_upload``:
#: their parts carry no tags), so this is also the largest image it accepts.
MAX_SINGLE_PUT_BYTES: Final = 5 * 1024**3

#: How long a session of a tier role lasts: the roles' MaxSessionDuration and what the clients ask
#: of AssumeRole. botocore refreshes credentials with less than 15 minutes left (its advisory
#: refresh), so a 900 s session was assumed again before every request: twice the requests, and
#: STS's rate limit on a long erasure. An hour leaves 45 minutes between refreshes.
ROLE_SESSION_SECONDS: Final = 3600

# --- Identities ------------------------------------------------------------------------------

#: A city id is a lowercase slug: it becomes an IAM user name part and a tag value.
CITY_ID_PATTERN: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CITY_ID_MAX_LENGTH: Final = 32

#: What each metadata value must look like: one definition of a blank or malformed value, read by
#: the upload gateway (which can hold it, IAM cannot) and the uploader. Which labels may be
#: uploaded is :data:`UPLOAD_LABELS`'s rule.
METADATA_PATTERNS: Final[Mapping[str, re.Pattern[str]]] = {
    CITY_ID: CITY_ID_PATTERN,
    CAMERA_ID: ID_PATTERN,
    EVENT_ID: ID_PATTERN,
    LABEL_STATUS: re.compile("^(?:" + "|".join(label.value for label in Label) + ")$"),
    UPLOADED_AT: UPLOADED_AT_PATTERN,
    CAPTURED_AT: ZONED_TIMESTAMP_PATTERN,
    QUALITY: QUALITY_PATTERN,
    CONTENT_SHA256: SHA256_HEX_PATTERN,
}

#: The city id reserved for the verification script's probe uploader, so probe objects can be
#: told apart from real data (and expired by their own lifecycle rule if a run is killed).
PROBE_CITY_ID: Final = "contract-probe"


#: The IAM actions S3 authorises one tagged upload as: a PutObject that carries ``x-amz-tagging``
#: needs ``s3:PutObjectTagging`` too (S3 API Reference, PutObject, "Permissions": "To successfully
#: set the tag-set with your PutObject request, you must have the s3:PutObjectTagging").
UPLOAD_ACTIONS: Final[tuple[str, ...]] = ("s3:PutObject", "s3:PutObjectTagging")


@dataclass(frozen=True)
class Tier:
    """A credential tier and the S3 operations it may perform, as IAM actions.

    ``upload`` is kept apart from ``object_actions`` because an upload is only ever granted
    together with its conditions (create-only, tagged); it is never a bare ``s3:PutObject``.
    """

    name: str
    description: str
    bucket_actions: tuple[str, ...]
    object_actions: tuple[str, ...]
    upload: bool
    #: KMS actions on the store's key that the S3 actions above need (SSE-KMS).
    key_actions: tuple[str, ...]

    @property
    def upload_actions(self) -> tuple[str, ...]:
        return UPLOAD_ACTIONS if self.upload else ()

    @property
    def s3_actions(self) -> tuple[str, ...]:
        """Every S3 action of the tier: what its grant allows and its bucket-policy deny spares."""
        return self.bucket_actions + self.object_actions + self.upload_actions


# An SSE-KMS PutObject needs kms:GenerateDataKey and kms:Decrypt (S3 API Reference, PutObject,
# "Permissions": "you must also have the kms:GenerateDataKey and kms:Decrypt permissions");
# GetObject needs kms:Decrypt. A city's kms:Decrypt is usable only through S3 (kms:ViaService),
# where the bucket policy refuses it every read, so it widens nothing.
CITY = Tier(
    name="city",
    description="City clients: upload-only. No read, list, delete or tag rewrite.",
    bucket_actions=(),
    object_actions=(),
    upload=True,
    key_actions=("kms:Decrypt", "kms:GenerateDataKey"),
)

COMMAND_CENTRE = Tier(
    name="command-centre",
    description="Command Centre: read, list, create-only upload, and delete (GDPR), versions too.",
    bucket_actions=("s3:ListBucket", "s3:ListBucketVersions"),
    object_actions=(
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
        "s3:GetObjectRetention",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        # GDPR erasure of a version under GOVERNANCE Object Lock needs the bypass.
        "s3:BypassGovernanceRetention",
    ),
    upload=True,
    key_actions=("kms:Decrypt", "kms:GenerateDataKey"),
)

TRAINING = Tier(
    name="training",
    description="Training pipeline: read objects and their tags, list the bucket. Nothing else.",
    bucket_actions=("s3:ListBucket",),
    object_actions=("s3:GetObject", "s3:GetObjectTagging"),
    upload=False,
    key_actions=("kms:Decrypt",),
)

TIERS: Final[tuple[Tier, ...]] = (CITY, COMMAND_CENTRE, TRAINING)

#: What the receiver (``learning-images-register``) reads of an object it registers, where it holds
#: a credential of its own rather than a tier's: its metadata (HeadObject) and its tags. Nothing
#: else: it never lists, writes or deletes.
RECEIVER_ACTIONS: Final[tuple[str, ...]] = ("s3:GetObject", "s3:GetObjectTagging")

#: The S3 API operations the verification probes, and the IAM action each is authorised by
#: (Service Authorization Reference for Amazon S3). A tier may perform an operation exactly
#: when the action is in its :attr:`Tier.s3_actions`. (A PutObject with tags is also authorised
#: as ``s3:PutObjectTagging``: every uploading tier has both, see :data:`UPLOAD_ACTIONS`.)
OPERATION_ACTIONS: Final[dict[str, str]] = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "GetObjectTagging": "s3:GetObjectTagging",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjectVersion": "s3:DeleteObjectVersion",
}


def may(tier: Tier, operation: str) -> bool:
    """Whether the contract lets ``tier`` perform the S3 API ``operation``.

    A standalone tag rewrite (PutObjectTagging and friends) is not an operation any tier may
    perform: labels are immutable, and ``s3:PutObjectTagging`` is granted only as the part of a
    create-only upload that sets the new object's tags.
    """
    return OPERATION_ACTIONS[operation] in tier.s3_actions


# --- Lifecycle -------------------------------------------------------------------------------


class ArchiveStorageClass(StrEnum):
    """S3 storage classes an object may be archived to (lifecycle transition targets)."""

    STANDARD_IA = "STANDARD_IA"
    ONEZONE_IA = "ONEZONE_IA"
    INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
    GLACIER_IR = "GLACIER_IR"
    GLACIER = "GLACIER"
    DEEP_ARCHIVE = "DEEP_ARCHIVE"


#: S3 refuses a transition to these before an object is 30 days old
#: (S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle": constraints).
MIN_DAYS_BEFORE_IA: Final = 30
IA_CLASSES: Final = frozenset({ArchiveStorageClass.STANDARD_IA, ArchiveStorageClass.ONEZONE_IA})


@dataclass(frozen=True)
class LifecyclePeriods:
    """The contract's lifecycle periods, in days. The defaults are the contract's examples."""

    #: "Archive objects older than 1 year".
    archive_after_days: int = 365
    #: "Retention: define retention periods (e.g., 2 years)"; applies to ``correct`` objects.
    correct_retention_days: int = 730
    #: "Delete label_status=unsure objects after 30 days (if accidentally uploaded)".
    unsure_expiry_days: int = 30
    #: How long the bytes of an expired or deleted object stay recoverable as a noncurrent
    #: version; objects are immutable, so only deletions and expirations make them.
    noncurrent_version_expiry_days: int = 7
    #: Probe objects that a killed verification run left behind.
    probe_expiry_days: int = 1
    #: Parts of uploads that never completed (they are billed and invisible).
    abort_incomplete_multipart_days: int = 1


CONTRACT_PERIODS: Final = LifecyclePeriods()
#: The periods a stack sets (settings of the same name) and exports; the others are the contract's.
CONFIGURABLE_PERIODS: Final = (
    "archive_after_days",
    "correct_retention_days",
    "unsure_expiry_days",
    "noncurrent_version_expiry_days",
)


@dataclass(frozen=True)
class LifecycleRule:
    """One lifecycle rule, backend-neutral. ``tag`` is the positive filter (S3 cannot negate)."""

    id: str
    tag: tuple[str, str] | None
    transition_days: int | None = None
    #: The backend's own name of the colder class (S3 ``GLACIER_IR``, R2 ``InfrequentAccess``).
    transition_class: str | None = None
    expiration_days: int | None = None
    noncurrent_expiration_days: int | None = None
    abort_incomplete_multipart_days: int | None = None
    expired_object_delete_marker: bool = False


def lifecycle_rules(periods: LifecyclePeriods, archive_class: str) -> list[LifecycleRule]:
    """The contract's lifecycle as rules, each scoped by a positive tag.

    ``changed`` has a transition and no expiration: kept forever. Lifecycle filters can combine
    tags only with AND, and ``AbortIncompleteMultipartUpload`` and ``ExpiredObjectDeleteMarker``
    are refused on tag-filtered rules, so the version housekeeping lives in one unfiltered rule.
    """
    return [
        LifecycleRule(
            id="archive-then-expire-correct",
            tag=(LABEL_STATUS, Label.CORRECT.value),
            transition_days=periods.archive_after_days,
            transition_class=archive_class,
            expiration_days=periods.correct_retention_days,
        ),
        LifecycleRule(
            id="archive-and-keep-changed",
            tag=(LABEL_STATUS, Label.CHANGED.value),
            transition_days=periods.archive_after_days,
            transition_class=archive_class,
        ),
        LifecycleRule(
            id="expire-unsure",
            tag=(LABEL_STATUS, Label.UNSURE.value),
            expiration_days=periods.unsure_expiry_days,
        ),
        LifecycleRule(
            id="expire-probe-objects",
            tag=(CITY_ID, PROBE_CITY_ID),
            expiration_days=periods.probe_expiry_days,
        ),
        LifecycleRule(
            id="expire-noncurrent-versions-and-incomplete-uploads",
            tag=None,
            noncurrent_expiration_days=periods.noncurrent_version_expiry_days,
            abort_incomplete_multipart_days=periods.abort_incomplete_multipart_days,
            expired_object_delete_marker=True,
        ),
    ]


# --- Selecting by upload day --------------------------------------------------------------------


@dataclass(frozen=True)
class UploadDays:
    """An inclusive range of upload days (``uploaded_at``, the contract's ISO 8601 UTC time)."""

    first: date | None = None
    last: date | None = None

    def __bool__(self) -> bool:
        return self.first is not None or self.last is not None

    def holds(self, uploaded_at: str | None) -> bool:
        """Whether ``uploaded_at`` (``2026-12-01T10:00:00Z``) falls in the range."""
        if not self:
            return True
        if not uploaded_at:
            return False
        day = uploaded_at[:10]
        return (self.first is None or day >= self.first.isoformat()) and (
            self.last is None or day <= self.last.isoformat()
        )

    def describe(self) -> dict[str, str]:
        found = {"uploaded_from": self.first, "uploaded_until": self.last}
        return {name: day.isoformat() for name, day in found.items() if day is not None}


# --- References ------------------------------------------------------------------------------


#: A key of the contract's shape, for deriving a store's reference prefix.
PLACEHOLDER_KEY: Final = "00000000-0000-0000-0000-000000000000.jpg"


def object_reference(scheme: str, bucket: str, key: str, *, any_key: bool = False) -> str:
    """The ``learning_samples.image_reference`` of an object, e.g. ``s3://bucket/<uuid>.jpg``.
    ``any_key``: of an object whose key breaks the contract too (where a backend stored one, its
    row records it quarantined)."""
    if not any_key and not OBJECT_KEY_PATTERN.match(key):
        raise ValueError(f"object key {key!r} is not a lowercase '<uuid>.jpg'")
    return f"{scheme}://{bucket}/{key}"


# --- Evaluating the lifecycle from metadata ------------------------------------------------------


class LifecycleAction(StrEnum):
    KEEP = "keep"
    ARCHIVE = "archive"
    EXPIRE = "expire"


def due_action(
    rules: list[LifecycleRule], fields: Mapping[str, str], age_days: float
) -> tuple[LifecycleAction, LifecycleRule | None]:
    """What the contract's lifecycle does to a current object with these fields at this age.

    The same rules the program declares, evaluated by a client: for backends whose lifecycle
    cannot filter by metadata (R2) and objects whose tags disagree with their metadata.
    Expiration wins over archiving; the unfiltered housekeeping rule concerns only noncurrent
    versions and incomplete uploads, never a current object.
    """

    def applies(rule: LifecycleRule) -> bool:
        return rule.tag is not None and fields.get(rule.tag[0]) == rule.tag[1]

    expiring = [r for r in rules if applies(r) and r.expiration_days is not None and age_days >= r.expiration_days]
    if expiring:
        return LifecycleAction.EXPIRE, min(expiring, key=lambda r: r.expiration_days or 0)
    archiving = [r for r in rules if applies(r) and r.transition_days is not None and age_days >= r.transition_days]
    if archiving:
        return LifecycleAction.ARCHIVE, archiving[0]
    return LifecycleAction.KEEP, None
