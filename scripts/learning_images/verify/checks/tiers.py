"""What each tier may and may not do (tier.*), and the Command Centre's erasure of every version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from learning_images import contract
from learning_images.verify.base import VerifierBase
from learning_images.verify.probes import Attempt, attempt, new_key


class TierChecks(VerifierBase):
    """What each tier may and may not do (tier.*), and the Command Centre's erasure of every version."""

    def operation(self, tier: str, name: str) -> Attempt:
        s3, bucket, key = self.s3[tier], self.bucket, self.main_key
        calls: dict[str, Callable[[], dict[str, Any]]] = {
            "GetObject": lambda: s3.get_object(Bucket=bucket, Key=key),
            "ListObjectsV2": lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key),
            "ListObjectVersions": lambda: s3.list_object_versions(Bucket=bucket, Prefix=key),
            "GetObjectTagging": lambda: s3.get_object_tagging(Bucket=bucket, Key=key),
            "DeleteObject": lambda: s3.delete_object(Bucket=bucket, Key=key),
        }
        if name == "PutObject":
            return self.put(tier)
        return attempt(f"{tier}: {name} {key}", calls[name])

    def check_tiers(self) -> None:
        if not self.main_key:
            self.skip("tier.*", "tier probes", "need the valid upload, which was refused")
            return
        plan = [
            (contract.CITY, ["GetObject", "ListObjectsV2", "GetObjectTagging", "DeleteObject"]),
            (
                contract.TRAINING,
                ["GetObject", "GetObjectTagging", "ListObjectsV2", "ListObjectVersions", "PutObject", "DeleteObject"],
            ),
            (
                contract.COMMAND_CENTRE,
                ["GetObject", "GetObjectTagging", "ListObjectsV2", "ListObjectVersions", "PutObject"],
            ),
        ]
        # Destructive probes after every other tier's: where a backend lets a tier delete (an R2
        # city token, once its lock has passed), the object must still be there for the reads.
        probes = [(tier, name) for tier, operations in plan for name in operations]
        probes.sort(key=lambda probe: probe[1].startswith("Delete"))
        for tier, name in probes:
            allowed = contract.may(tier, name)
            self.expect(
                f"tier.{tier.name}.{name}",
                f"{tier.name} {'may' if allowed else 'may not'} {name}",
                self.operation(tier.name, name),
                allowed=allowed,
            )
        self.check_erase_versions()

    def check_erase_versions(self) -> None:
        """GDPR: the Command Centre removes an object for good, every version of it."""
        key = new_key()
        upload = self.put("command-centre", key)
        versions, deleted = self.erase_every_version(key)
        cc = self.s3["command-centre"]
        after = attempt(
            f"command-centre: ListObjectVersions {key}", lambda: cc.list_object_versions(Bucket=self.bucket, Prefix=key)
        )
        gone = not after.response.get("Versions") and not after.response.get("DeleteMarkers")
        good = upload.ok and bool(deleted) and all(d.ok for d in deleted) and gone
        self.verdict(
            "tier.command-centre.DeleteObjectVersion",
            "command-centre may erase every version of an object",
            good,
            "; ".join(str(a) for a in [upload, versions, *deleted, after]),
        )
