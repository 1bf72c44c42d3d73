"""Metadata-driven lifecycle: the contract's rules (``contract.lifecycle_rules``) as S3 rules.

S3 lifecycle filters read object tags, never user metadata, which is why every upload carries
its metadata as tags too (the bucket policy refuses one that does not).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from learning_images import contract


def s3_rule(rule: contract.LifecycleRule) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """One contract rule as a pulumi-aws v7 ``BucketLifecycleConfiguration`` rule."""
    s3 = aws.s3
    has_expiration = rule.expiration_days is not None or rule.expired_object_delete_marker
    return s3.BucketLifecycleConfigurationRuleArgs(
        id=rule.id,
        status="Enabled",
        # An empty filter applies the rule to every object (provider docs, "Specifying an empty filter").
        filter=s3.BucketLifecycleConfigurationRuleFilterArgs(
            tag=s3.BucketLifecycleConfigurationRuleFilterTagArgs(key=rule.tag[0], value=rule.tag[1])
            if rule.tag
            else None
        ),
        transitions=(
            [
                s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=rule.transition_days, storage_class=rule.transition_class
                )
            ]
            if rule.transition_days is not None and rule.transition_class is not None
            else None
        ),
        expiration=(
            s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=rule.expiration_days, expired_object_delete_marker=rule.expired_object_delete_marker or None
            )
            if has_expiration
            else None
        ),
        noncurrent_version_expiration=(
            s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=rule.noncurrent_expiration_days
            )
            if rule.noncurrent_expiration_days is not None
            else None
        ),
        abort_incomplete_multipart_upload=(
            s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=rule.abort_incomplete_multipart_days
            )
            if rule.abort_incomplete_multipart_days is not None
            else None
        ),
    )


def lifecycle_configuration(
    name: str,
    *,
    bucket: aws.s3.Bucket,
    rules: list[contract.LifecycleRule],
    opts: pulumi.ResourceOptions,
    region: str | None = None,
) -> aws.s3.BucketLifecycleConfiguration:
    return aws.s3.BucketLifecycleConfiguration(
        name,
        bucket=bucket.id,
        rules=[s3_rule(rule) for rule in rules],
        region=region,
        opts=opts,
    )


def access_log_rules(retention_days: int) -> list[contract.LifecycleRule]:
    """The log bucket's own lifecycle: logs expire; nothing else lives there."""
    return [
        contract.LifecycleRule(
            id="expire-access-logs",
            tag=None,
            expiration_days=retention_days,
            noncurrent_expiration_days=1,
            abort_incomplete_multipart_days=contract.CONTRACT_PERIODS.abort_incomplete_multipart_days,
        )
    ]
