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
