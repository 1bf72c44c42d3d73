"""A daily S3 Inventory of every object version, delivered to the log bucket.

GDPR erasure at scale reads this list instead of calling ListObjectVersions over millions of
keys (``scripts/learning_images/ops/erase.py --inventory``). S3 Inventory lists keys, versions, sizes and dates,
never user metadata or tags, so a selection by metadata still starts from ``learning_samples``
(references) or reads each candidate's metadata.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from learning_images_infra.aws import iam
from learning_images_infra.aws.bucket import HardenedBucket
from learning_images_infra.aws.guards import INVENTORY_PREFIX
from learning_images_infra.naming import Naming

INVENTORY_ID = "all-versions-daily"

#: What erasure and retention read from it (S3 API Reference, InventoryConfiguration.OptionalFields).
OPTIONAL_FIELDS = (
    "Size",
    "LastModifiedDate",
    "StorageClass",
    "ETag",
    "ReplicationStatus",
    "EncryptionStatus",
    "ObjectLockRetainUntilDate",
    "ObjectLockMode",
    "ChecksumAlgorithm",
)


def inventory(
    *,
    source: HardenedBucket,
    logs: HardenedBucket,
    account_id: pulumi.Output[str],
    names: Naming,
    opts: pulumi.ResourceOptions,
) -> aws.s3.Inventory:
    return aws.s3.Inventory(
        names("learning-images-inventory"),
        bucket=source.bucket.id,
        name=INVENTORY_ID,
        # Noncurrent versions and delete markers too: erasure must reach every version.
        included_object_versions="All",
        schedule=aws.s3.InventoryScheduleArgs(frequency="Daily"),
        optional_fields=list(OPTIONAL_FIELDS),
        destination=aws.s3.InventoryDestinationArgs(
            bucket=aws.s3.InventoryDestinationBucketArgs(
                bucket_arn=logs.bucket.arn,
                account_id=account_id,
                format="CSV",
                prefix=INVENTORY_PREFIX,
                # The log bucket is SSE-S3 (log delivery cannot write SSE-KMS); the inventory says so.
                encryption=aws.s3.InventoryDestinationBucketEncryptionArgs(
                    sse_s3=aws.s3.InventoryDestinationBucketEncryptionSseS3Args()
                ),
            )
        ),
        opts=opts,
    )


def grant_inventory_read(
    *, role: aws.iam.Role, logs: HardenedBucket, names: Naming, opts: pulumi.ResourceOptions
) -> aws.iam.RolePolicy:
    """The Command Centre role may read the inventory that erasure uses."""
    return aws.iam.RolePolicy(
        names("command-centre-inventory-read"),
        role=role.name,
        policy=logs.bucket.arn.apply(lambda arn: json.dumps(iam.inventory_read_policy(arn, INVENTORY_PREFIX))),
        opts=opts,
    )
