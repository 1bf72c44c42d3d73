"""Disaster recovery: every object replicated, still KMS-encrypted and tagged, to a replica
bucket in another region, which only S3 replication can write to.

Delete markers are not replicated, so a deletion in the primary never reaches the DR copy; GDPR
erasure deletes in both (the Command Centre may delete in the replica). The replica gets the
primary's lifecycle, so retention and ``unsure`` expiry hold in the copy too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from learning_images import contract
from learning_images_infra.aws import guards, iam
from learning_images_infra.aws.bucket import HardenedBucket, ObjectLock, hardened_bucket
from learning_images_infra.aws.encryption import store_key
from learning_images_infra.aws.lifecycle import lifecycle_configuration
from learning_images_infra.naming import Naming


@dataclass
class Replica:
    bucket: HardenedBucket
    key: aws.kms.Key
    region: str
    role: aws.iam.Role

    @property
    def target(self) -> pulumi.Output[iam.StoreTarget]:
        region = self.region
        return pulumi.Output.all(self.bucket.bucket.arn, self.key.arn).apply(
            lambda arns: iam.StoreTarget(bucket_arn=arns[0], key_arn=arns[1], region=region)
        )


def _after(opts: pulumi.ResourceOptions, *resources: pulumi.Resource | None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(depends_on=[r for r in resources if r is not None])
    )


def replicate(
    *,
    source: HardenedBucket,
    source_target: pulumi.Output[iam.StoreTarget],
    region: str,
    account_id: pulumi.Output[str],
    account_root_arn: pulumi.Output[str],
    iam_path: str,
    names: Naming,
    command_centre_role_arn: pulumi.Output[str],
    object_lock: ObjectLock | None,
    lifecycle: list[contract.LifecycleRule],
    force_destroy: bool,
    tags: dict[str, str],
    protected: pulumi.ResourceOptions,
    child: pulumi.ResourceOptions,
    administrator_patterns: tuple[str, ...] = (),
) -> Replica:
    """Declare the replica (bucket, key, lifecycle, guards), the replication role and the rule."""
    key = store_key(
        names("replica-key"),
        region=region,
        account_root_arn=account_root_arn,
        tags=tags,
        opts=protected,
        provider_region=region,
        administrator_patterns=administrator_patterns,
    )
    replica = hardened_bucket(
        names("learning-images-replica"),
        kms_key_arn=key.arn,
        versioned=True,  # S3 replication requires versioning on both sides
        # Locked source versions replicate only into a bucket with Object Lock on.
        object_lock=object_lock,
        force_destroy=force_destroy,
        tags=tags,
        opts=protected,
        child_opts=child,
        region=region,
    )
    lifecycle_configuration(
        names("learning-images-replica-lifecycle"),
        bucket=replica.bucket,
        rules=lifecycle,
        region=region,
        opts=_after(child, replica.versioning),
    )

    role = aws.iam.Role(
        names("replication-role"),
        path=iam_path,
        description="S3 replication of the learning image store to its DR replica",
        assume_role_policy=pulumi.Output.all(account_id, source.bucket.arn).apply(
            lambda a: json.dumps(iam.replication_trust_policy(a[0], a[1]))
        ),
        tags=tags,
        opts=child,
    )
    result = Replica(bucket=replica, key=key, region=region, role=role)
    role_policy = aws.iam.RolePolicy(
        names("replication-role-policy"),
        role=role.name,
        policy=pulumi.Output.all(source_target, result.target).apply(
            lambda t: json.dumps(iam.replication_policy(t[0], t[1], object_lock=object_lock is not None))
        ),
        opts=child,
    )
    aws.s3.BucketPolicy(
        names("learning-images-replica-policy"),
        bucket=replica.bucket.id,
        policy=pulumi.Output.all(replica.bucket.arn, role.arn, command_centre_role_arn).apply(
            lambda a: json.dumps(
                guards.replica_bucket_policy(
                    a[0],
                    replication_role_arn=a[1],
                    command_centre_role_arn=a[2],
                    administrator_patterns=administrator_patterns,
                )
            )
        ),
        region=region,
        opts=_after(child, *replica.ready),
    )
    aws.s3.BucketReplicationConfig(
        names("learning-images-replication"),
        bucket=source.bucket.id,
        role=role.arn,
        rules=[
            {
                "id": "replicate-everything",
                "status": "Enabled",
                "filter": {},
                "delete_marker_replication": {"status": "Disabled"},
                "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                "destination": {
                    "bucket": replica.bucket.arn,
                    "storage_class": "STANDARD",
                    "encryption_configuration": {"replica_kms_key_id": key.arn},
                },
            }
        ],
        # S3 refuses a replication rule until both buckets are versioned and the role may act.
        opts=_after(child, source.versioning, replica.versioning, role_policy),
    )
    return result
