"""The bucket's configuration, read back and compared with the contract's (config.*)."""

from __future__ import annotations

import json
from typing import Any

from learning_images import contract, rules
from learning_images.verify.base import VerifierBase


class ConfigurationChecks(VerifierBase):
    """The bucket's configuration, read back and compared with the contract's (config.*)."""

    def check_configuration(self) -> None:
        blocks = self.read_config("GetPublicAccessBlock")
        config = blocks.response.get("PublicAccessBlockConfiguration", {})
        all_on = blocks.ok and len(config) == 4 and all(config.values())
        self.verdict(
            "config.public-access-block",
            "all four public-access blocks are on",
            all_on,
            f"{blocks} {config}",
        )

        encryption = self.read_config("GetBucketEncryption")
        rules = encryption.response.get("ServerSideEncryptionConfiguration", {}).get("Rules", [{}])
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
        good = (
            default.get("SSEAlgorithm") == "aws:kms"
            and default.get("KMSMasterKeyID") == self.outputs.kms_key_arn
            and rules[0].get("BucketKeyEnabled") is True
        )
        self.verdict(
            "config.default-encryption",
            "default encryption is SSE-KMS with the stack's key and the bucket key",
            good,
            f"{encryption} {default}",
        )

        versioning = self.read_config("GetBucketVersioning")
        on = versioning.response.get("Status") == "Enabled"
        self.verdict("config.versioning", "versioning is enabled", on, versioning)

        lifecycle = self.read_config("GetBucketLifecycleConfiguration")
        expected = {rule.id: _expected_rule(rule) for rule in self.outputs.lifecycle.rules()}
        actual = {rule.get("ID"): _actual_rule(rule) for rule in lifecycle.response.get("Rules", [])}
        diff = {
            rid: (expected.get(rid), actual.get(rid))
            for rid in expected.keys() | actual.keys()
            if expected.get(rid) != actual.get(rid)
        }
        self.verdict(
            "config.lifecycle",
            "lifecycle rules equal the contract's",
            lifecycle.ok and not diff,
            lifecycle,
            f"differs: {diff}",
        )

        self.check_replication_configuration()
        self.check_object_lock()
        self.check_bucket_policy()

    def check_replication_configuration(self) -> None:
        rule, title = "config.replication", "objects replicate, KMS-encrypted, to the replica"
        replica = self.outputs.replica
        if replica is None:
            self.skip(rule, title, "the stack has no replica (replication off)")
            return
        got = self.read_config("GetBucketReplication")
        rules = got.response.get("ReplicationConfiguration", {}).get("Rules", [])
        good = any(
            r.get("Status") == "Enabled"
            and r.get("Destination", {}).get("Bucket") == replica.bucket_arn
            and r.get("Destination", {}).get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")
            == replica.kms_key_arn
            and r.get("DeleteMarkerReplication", {}).get("Status") == "Disabled"
            for r in rules
        )
        self.verdict(rule, title, good, got)

    def check_object_lock(self) -> None:
        rule, title = "config.object-lock", "Object Lock default retention is the stack's"
        lock = self.outputs.object_lock
        if lock is None:
            self.skip(rule, title, "the stack asked for no Object Lock")
            return
        got = self.read_config("GetObjectLockConfiguration")
        retention = got.response.get("ObjectLockConfiguration", {}).get("Rule", {}).get("DefaultRetention", {})
        good = retention.get("Mode") == lock.mode and retention.get("Days") == lock.days
        self.verdict(rule, title, good, f"{got} {retention}")

    def check_bucket_policy(self) -> None:
        rule, title = "config.bucket-policy-guards", "the bucket policy carries every guard"
        got = self.read_config("GetBucketPolicy")
        present = {s.get("Sid") for s in json.loads(got.response.get("Policy", "{}")).get("Statement", [])}
        expected = rules.learning_bucket_sids(administrators=bool(self.outputs.configuration_administrators))
        missing = sorted(expected - present)
        self.verdict(
            rule,
            title,
            got.ok and not missing,
            got,
            f"missing: {missing}",
        )


def _expected_rule(rule: contract.LifecycleRule) -> dict[str, Any]:
    return {
        "tag": list(rule.tag) if rule.tag else None,
        "transition": [rule.transition_days, rule.transition_class] if rule.transition_class else None,
        "expiration_days": rule.expiration_days,
        "expired_object_delete_marker": rule.expired_object_delete_marker,
        "noncurrent_days": rule.noncurrent_expiration_days,
        "abort_days": rule.abort_incomplete_multipart_days,
    }


def _actual_rule(rule: dict[str, Any]) -> dict[str, Any]:
    tag = rule.get("Filter", {}).get("Tag")
    transitions = rule.get("Transitions") or []
    expiration = rule.get("Expiration", {})
    return {
        "tag": [tag["Key"], tag["Value"]] if tag else None,
        "transition": [transitions[0].get("Days"), transitions[0].get("StorageClass")] if transitions else None,
        "expiration_days": expiration.get("Days"),
        "expired_object_delete_marker": bool(expiration.get("ExpiredObjectDeleteMarker", False)),
        "noncurrent_days": rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
        "abort_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
    }
