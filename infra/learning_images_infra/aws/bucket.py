"""A hardened S3 bucket: the baseline every bucket of the store gets, primary, replica and logs.

Private (all four public-access blocks, ACLs disabled), versioned, encrypted by default, and
optionally under Object Lock. pulumi-aws v7 splits these into their own resources; each is
declared here so the policy pack can check the resources the program really creates.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ObjectLock:
    mode: str
    days: int


@dataclass
class HardenedBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning | None
    public_access_block: aws.s3.BucketPublicAccessBlock
    #: Resources the bucket policy must wait for (S3 refuses a policy that the public-access
    #: block would reject if the block is not in place yet).
    ready: list[pulumi.Resource]


def hardened_bucket(
    name: str,
    *,
    kms_key_arn: pulumi.Input[str] | None,
    versioned: bool,
    object_lock: ObjectLock | None,
    force_destroy: bool,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    child_opts: pulumi.ResourceOptions,
    region: str | None = None,
) -> HardenedBucket:
    """Declare the bucket and its baseline configuration.

    ``kms_key_arn`` None means SSE-S3, which the access-log bucket needs: S3 server access
    logging cannot deliver into an SSE-KMS bucket.
    """
    bucket = aws.s3.Bucket(
        name,
        force_destroy=force_destroy,
        # Object Lock is a property of the bucket at creation; the retention rule is its own resource.
        object_lock_enabled=True if object_lock else None,
        region=region,
        tags=tags,
        opts=opts,
    )
    child = pulumi.ResourceOptions.merge(child_opts, pulumi.ResourceOptions(depends_on=[bucket]))

    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},  # ACLs disabled
        region=region,
        opts=child,
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        region=region,
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms" if kms_key_arn is not None else "AES256",
                    kms_master_key_id=kms_key_arn,
                ),
                # S3 Bucket Key: one KMS call per bucket-key period instead of one per object.
                bucket_key_enabled=kms_key_arn is not None,
                # SSE-C would let a client encrypt with a key the store does not hold.
                blocked_encryption_types=["SSE-C"],
            )
        ],
        region=region,
        opts=child,
    )
    versioning = None
    if versioned:
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            region=region,
            opts=child,
        )
    if object_lock:
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock",
            bucket=bucket.id,
            rule={"default_retention": {"mode": object_lock.mode, "days": object_lock.days}},
            region=region,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[versioning] if versioning else [])
            ),
        )
    return HardenedBucket(bucket, versioning, public_access_block, ready=[ownership, public_access_block])
