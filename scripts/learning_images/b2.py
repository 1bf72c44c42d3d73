"""Backblaze B2's side of the tiers: which application-key capabilities each tier holds.

Derived from the contract's tiers (``learning_images.contract``): each S3 action a tier performs maps
to the B2 capabilities its S3-compatible API checks for it (backblaze.com/docs/cloud-storage-s3-compatible-app-keys:
"writeFiles is necessary when you delete a file by name, and deleteFiles when you delete a specific
version"). B2 has no object tags, so the tagging actions need nothing and grant nothing. Data, read
by the B2 dynamic provider (``infra/learning_images_infra/b2/provider.py``) and the future b2 store,
so the client side and the program agree without the clients importing the program.

What follows, and is recorded rather than hidden: ``writeFiles`` also hides files (b2_hide_file,
and S3's DeleteObject by name), so the city tier is not upload-only on B2; only the lock keeps the
hidden version, and only the gateway in front makes cities upload-only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

from learning_images import contract

#: b2_create_key's capabilities (backblaze.com/apidocs/b2-create-key, "Valid values").
CAPABILITIES: Final = frozenset(
    (
        "listKeys",
        "writeKeys",
        "deleteKeys",
        "listAllBucketNames",
        "listBuckets",
        "readBuckets",
        "writeBuckets",
        "deleteBuckets",
        "readBucketRetentions",
        "writeBucketRetentions",
        "readBucketEncryption",
        "writeBucketEncryption",
        "writeBucketNotifications",
        "listFiles",
        "readFiles",
        "shareFiles",
        "writeFiles",
        "deleteFiles",
        "readBucketNotifications",
        "readFileLegalHolds",
        "writeFileLegalHolds",
        "readFileRetentions",
        "writeFileRetentions",
        "bypassGovernance",
    )
)

#: The capabilities B2's S3-compatible API checks for each S3 action the contract's tiers perform.
S3_ACTION_CAPABILITIES: Final[Mapping[str, tuple[str, ...]]] = {
    "s3:ListBucket": ("listFiles",),
    "s3:ListBucketVersions": ("listFiles",),
    "s3:GetObject": ("readFiles",),
    "s3:GetObjectVersion": ("readFiles",),
    "s3:GetObjectRetention": ("readFileRetentions",),
    "s3:PutObject": ("writeFiles",),
    "s3:DeleteObject": ("writeFiles", "deleteFiles"),
    "s3:DeleteObjectVersion": ("deleteFiles",),
    "s3:BypassGovernanceRetention": ("bypassGovernance",),
    # B2 has no object tags: nothing to grant.
    "s3:PutObjectTagging": (),
    "s3:GetObjectTagging": (),
    "s3:GetObjectVersionTagging": (),
}


def capabilities(tier: contract.Tier) -> tuple[str, ...]:
    """The capabilities ``tier``'s key holds: exactly those its S3 actions need, sorted."""
    return capabilities_for(f"tier {tier.name}", tier.s3_actions)


def capabilities_for(who: str, actions: tuple[str, ...]) -> tuple[str, ...]:
    """The capabilities a key that performs ``actions`` holds (``who``: for the message)."""
    unmapped = sorted(set(actions) - S3_ACTION_CAPABILITIES.keys())
    if unmapped:
        raise ValueError(f"{who}: no B2 capability is known for {unmapped}; add them to {__name__}")
    return tuple(sorted({c for action in actions for c in S3_ACTION_CAPABILITIES[action]}))


#: The receiver's key: what it reads of an object it registers (``readFiles``; no tags to read).
RECEIVER_CAPABILITIES: Final = capabilities_for("the receiver", contract.RECEIVER_ACTIONS)


# --- event notifications: B2's webhooks, received by the upload gateway --------------------------
#
# A bucket's event-notification rule POSTs its events to an HTTPS webhook
# (backblaze.com/docs/cloud-storage-event-notifications-reference-guide): a JSON body
# ``{"events": [...]}``, each event with ``eventType``, ``bucketName``, ``objectName``,
# ``eventTimestamp`` (UNIX milliseconds) and ``objectVersionId``; B2 may put several events in one
# delivery. The gateway checks the delivery's signature and queues the events for the receiver.

#: What the store's rule notifies: every object created, deleted or hidden.
EVENT_TYPES: Final = ("b2:ObjectCreated:*", "b2:ObjectDeleted:*", "b2:HideMarkerCreated:*")
#: Event types whose object is deleted or hidden: the row is erased once no version is current.
REMOVAL_PREFIXES: Final = ("b2:ObjectDeleted:", "b2:HideMarkerCreated:")
#: The header every delivery carries: ``v1=`` and the lowercase hex HMAC-SHA256 of the raw body,
#: keyed with the rule's signing secret exactly as set (b2_set_bucket_notification_rules,
#: ``hmacSha256SigningSecret``).
SIGNATURE_HEADER: Final = "x-bz-event-notification-signature"
SIGNATURE_PREFIX: Final = "v1="
#: A rule's signing secret: 32 alphanumeric characters.
SIGNING_SECRET_LENGTH: Final = 32
#: The store's one notification rule. B2's rule names: 6 to 63 letters, digits and hyphens, unique
#: in the bucket, not starting with ``b2-`` (Event Notifications Reference Guide, "name").
NOTIFICATION_RULE_NAME: Final = "learning-images-registration"


def signature(secret: str, body: bytes) -> str:
    """The signature header's value B2 sends with ``body`` under ``secret``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
