"""The probe object arriving in the replica (replication.*)."""

from __future__ import annotations

import time

from learning_images import contract
from learning_images.verify.base import VerifierBase
from learning_images.verify.probes import Attempt, attempt


class ReplicationChecks(VerifierBase):
    """The probe object arriving in the replica (replication.*)."""

    def check_replication(self) -> None:
        rule, title = "replication.arrives", "the probe object arrives in the replica, encrypted and tagged"
        replica = self.outputs.replica
        if not self.wait_replication:
            self.skip(rule, title, "not asked (--wait-replication SECONDS)")
            return
        if replica is None or not self.main_key:
            self.skip(rule, title, "the stack has no replica" if replica is None else "the valid upload was refused")
            return
        s3 = self.endpoint.client(self.sessions.operator, "s3", region_name=replica.region)
        deadline = time.monotonic() + self.wait_replication
        head = Attempt("", "")
        while time.monotonic() < deadline:
            head = attempt(
                f"operator: HeadObject {replica.bucket_name}/{self.main_key}",
                lambda: s3.head_object(Bucket=replica.bucket_name, Key=self.main_key),
            )
            if head.ok:
                break
            time.sleep(5)
        tags = attempt(
            f"operator: GetObjectTagging {replica.bucket_name}/{self.main_key}",
            lambda: s3.get_object_tagging(Bucket=replica.bucket_name, Key=self.main_key),
        )
        good = (
            head.ok
            and head.response.get("SSEKMSKeyId") == replica.kms_key_arn
            and len(tags.response.get("TagSet", [])) == len(contract.METADATA_FIELDS)
        )
        self.verdict(
            rule,
            title,
            good,
            f"{head}; {tags}",
            f"not replicated within {self.wait_replication:.0f}s",
        )
