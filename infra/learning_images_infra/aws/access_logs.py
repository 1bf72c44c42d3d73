"""S3 server access logs, kept in a separate bucket with its own expiry.

The log bucket uses SSE-S3: server access logging cannot deliver into an SSE-KMS bucket
(S3 User Guide, "Enabling Amazon S3 server access logging": destination bucket requirements).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from learning_images_infra.aws import guards
from learning_images_infra.aws.bucket import HardenedBucket, hardened_bucket
from learning_images_infra.aws.lifecycle import access_log_rules, lifecycle_configuration
from learning_images_infra.naming import Naming


def access_logs(
    *,
    source: HardenedBucket,
    account_id: pulumi.Output[str],
    names: Naming,
    retention_days: int,
    force_destroy: bool,
    tags: dict[str, str],
    protected: pulumi.ResourceOptions,
    child: pulumi.ResourceOptions,
) -> HardenedBucket:
    logs = hardened_bucket(
        names("access-logs"),
        kms_key_arn=None,
        # Versioned like every bucket the stack owns, so a log cannot be overwritten unseen;
        # old versions expire a day after they stop being current (access_log_rules).
        versioned=True,
        object_lock=None,
        force_destroy=force_destroy,
        tags=tags,
        opts=protected,
        child_opts=child,
    )
    lifecycle_configuration(
        names("access-logs-lifecycle"),
        bucket=logs.bucket,
        rules=access_log_rules(retention_days),
        # A noncurrent-version rule on an unversioned bucket would be refused: order after versioning.
        opts=pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[r for r in [logs.versioning] if r])
        ),
    )
    log_policy = aws.s3.BucketPolicy(
        names("access-logs-policy"),
        bucket=logs.bucket.id,
        policy=pulumi.Output.all(logs.bucket.arn, source.bucket.arn, account_id).apply(
            lambda a: json.dumps(guards.log_bucket_policy(a[0], a[1], a[2]))
        ),
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=logs.ready)),
    )
    aws.s3.BucketLogging(
        names("learning-images-access-logging"),
        bucket=source.bucket.id,
        target_bucket=logs.bucket.id,
        target_prefix="learning-images/",
        # Date-partitioned keys, so a day's logs can be queried (Athena) without a full scan.
        target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[log_policy])),
    )
    return logs
