"""Cloudflare R2's side of the tiers: which token permission groups each tier holds.

R2 has two object permissions per bucket: read, and read & write. Training gets read; the
Command Centre and the cities get read & write, because R2 has no write-only permission (a gap
the capability matrix records). Data, read by the r2 program (``infra/learning_images_infra/r2/access.py``) and by the
sandbox's R2 stand-in, which must not import the program.
"""

from __future__ import annotations

from typing import Final

from learning_images import contract

#: Cloudflare's permission groups for objects of one bucket (names, looked up to ids at deploy).
ITEM_READ: Final = "Workers R2 Storage Bucket Item Read"
ITEM_WRITE: Final = "Workers R2 Storage Bucket Item Write"


def writes(tier: contract.Tier) -> bool:
    return tier.upload or any("Delete" in action for action in tier.s3_actions)


def permission_groups(tier: contract.Tier) -> list[str]:
    """The groups a tier needs: read always, write for any tier that uploads or deletes."""
    return [ITEM_READ, ITEM_WRITE] if writes(tier) else [ITEM_READ]


#: Cloudflare's API, where the Queues pull consumer pulls and acknowledges.
CLOUDFLARE_API: Final = "https://api.cloudflare.com/client/v4"
#: The Queues permission groups, by their ids (global across accounts; listed by the API's
#: permission-group list). They are account-scoped: Cloudflare has no token resource naming one
#: queue, so the receiver's queue permission reaches every queue of the account (a recorded gap).
QUEUES_READ_ID: Final = "84a7755d54c646ca87cd50682a34bf7c"
QUEUES_WRITE_ID: Final = "366f57075ffc42689627bcf8242a1b6d"
QUEUE_PERMISSION_GROUP_IDS: Final = (QUEUES_READ_ID, QUEUES_WRITE_ID)
#: R2's object actions an event-notification rule reports (R2 docs, "Event notifications"):
#: every way an object is created, and both ways one is removed.
EVENT_ACTIONS: Final = ("PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject", "LifecycleDeletion")
#: Which of them remove the object.
REMOVAL_ACTIONS: Final = frozenset({"DeleteObject", "LifecycleDeletion"})


def account_resource(account_id: str) -> str:
    """The token resource naming a whole account (the only scope the Queues groups take)."""
    return f"com.cloudflare.api.account.{account_id}"


def queue_url(account_id: str, queue_id: str) -> str:
    """A queue's URL in Cloudflare's API: ``/messages/pull`` and ``/messages/ack`` hang off it."""
    return f"{CLOUDFLARE_API}/accounts/{account_id}/queues/{queue_id}"
