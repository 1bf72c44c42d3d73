"""The Cloud Storage bucket: private, dual-region, versioned with soft delete, under the store's key.

What Cloud Storage can do by age, the bucket does: archive to a colder class, expire noncurrent
versions, abort incomplete uploads. Its lifecycle conditions cannot read object metadata, so the
label-driven expiry (`unsure` after 30 days, `correct` at retention) is the retention job's, as on
R2. No bucket retention policy (Bucket Lock): Cloud Storage refuses one on a versioned bucket, and
versions plus soft delete are what keep a deletion recoverable; immutability rests on who may
delete (only the Command Centre) instead.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from learning_images import contract

DAY_SECONDS = 86_400
#: Turbo replication (Cloud Storage's RPO setting for dual-regions); DEFAULT is the standard one.
TURBO, DEFAULT_RPO = "ASYNC_TURBO", "DEFAULT"
#: Objects must be encrypted with the bucket's customer-managed key: Google-managed and
#: customer-supplied keys are refused for new objects.
FULLY_RESTRICTED = "FullyRestricted"


def lifecycle_rules(
    periods: contract.LifecyclePeriods, archive_class: str
) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    """The contract's lifecycle as far as age can say it (no rule can read a label)."""
    rule, action, condition = (
        gcp.storage.BucketLifecycleRuleArgs,
        gcp.storage.BucketLifecycleRuleActionArgs,
        gcp.storage.BucketLifecycleRuleConditionArgs,
    )
    return [
        rule(
            action=action(type="SetStorageClass", storage_class=archive_class),
            condition=condition(
                age=periods.archive_after_days, matches_storage_classes=["STANDARD"], with_state="LIVE"
            ),
        ),
        rule(
            action=action(type="Delete"),
            condition=condition(
                days_since_noncurrent_time=periods.noncurrent_version_expiry_days, with_state="ARCHIVED"
            ),
        ),
        rule(
            action=action(type="AbortIncompleteMultipartUpload"),
            condition=condition(age=periods.abort_incomplete_multipart_days),
        ),
    ]


def gcs_bucket(
    name: str,
    resource_name: str,
    *,
    project: str,
    location: str,
    turbo_replication: bool,
    archive_class: str,
    periods: contract.LifecyclePeriods,
    soft_delete_days: int,
    kms_key: pulumi.Input[str],
    force_destroy: bool,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> gcp.storage.Bucket:
    return gcp.storage.Bucket(
        resource_name,
        name=name,
        project=project,
        location=location,
        storage_class="STANDARD",
        rpo=TURBO if turbo_replication else DEFAULT_RPO,
        # No ACLs, only IAM: one place decides access, and IAM Conditions need it.
        uniform_bucket_level_access=True,
        # No public access whatever IAM says: allUsers and allAuthenticatedUsers grants are refused.
        public_access_prevention="enforced",
        versioning=gcp.storage.BucketVersioningArgs(enabled=True),
        soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(
            retention_duration_seconds=soft_delete_days * DAY_SECONDS
        ),
        encryption=gcp.storage.BucketEncryptionArgs(
            default_kms_key_name=kms_key,
            google_managed_encryption_enforcement_config=gcp.storage.BucketEncryptionGoogleManagedEncryptionEnforcementConfigArgs(
                restriction_mode=FULLY_RESTRICTED
            ),
            customer_supplied_encryption_enforcement_config=gcp.storage.BucketEncryptionCustomerSuppliedEncryptionEnforcementConfigArgs(
                restriction_mode=FULLY_RESTRICTED
            ),
        ),
        lifecycle_rules=lifecycle_rules(periods, archive_class),
        force_destroy=force_destroy,
        labels=labels,
        opts=opts,
    )
