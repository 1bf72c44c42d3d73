"""The R2 bucket: private, lifecycle by age, locked against overwrite and deletion by age.

R2 lifecycle conditions are prefix-only and R2 has no object tags, so label-based expiry
(`unsure` after 30 days, `correct` at retention) cannot be declared here: the metadata-driven
retention job applies it. What R2 can do by age, it does here.
"""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from learning_images import contract
from learning_images_infra.naming import Naming

DAY_SECONDS = 86_400
#: R2's one colder class (R2 docs, "Storage classes").
INFREQUENT_ACCESS = "InfrequentAccess"
#: An empty prefix scopes a lifecycle or lock rule to every object (provider docs).
ALL_OBJECTS = ""


def r2_bucket(
    name: str,
    *,
    account_id: str,
    jurisdiction: str,
    location_hint: str | None,
    periods: contract.LifecyclePeriods,
    lock_days: int,
    names: Naming,
    opts: pulumi.ResourceOptions,
    child: pulumi.ResourceOptions,
) -> cloudflare.R2Bucket:
    bucket = cloudflare.R2Bucket(
        names("learning-images"),
        account_id=account_id,
        name=name,
        jurisdiction=jurisdiction,
        location=location_hint,
        storage_class="Standard",
        opts=opts,
    )
    after = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[bucket]))
    # No public access: the r2.dev domain is declared off (not merely left unset), and no
    # custom domain is ever attached (one would serve the bucket publicly).
    cloudflare.R2ManagedDomain(
        names("learning-images-r2-dev-domain"),
        account_id=account_id,
        bucket_name=bucket.name,
        jurisdiction=jurisdiction,
        enabled=False,
        opts=after,
    )
    cloudflare.R2BucketLifecycle(
        names("learning-images-lifecycle"),
        account_id=account_id,
        bucket_name=bucket.name,
        jurisdiction=jurisdiction,
        rules=[
            cloudflare.R2BucketLifecycleRuleArgs(
                id="abort-incomplete-multipart-uploads",
                enabled=True,
                conditions=cloudflare.R2BucketLifecycleRuleConditionsArgs(prefix=ALL_OBJECTS),
                abort_multipart_uploads_transition=cloudflare.R2BucketLifecycleRuleAbortMultipartUploadsTransitionArgs(
                    condition=cloudflare.R2BucketLifecycleRuleAbortMultipartUploadsTransitionConditionArgs(
                        type="Age", max_age=periods.abort_incomplete_multipart_days * DAY_SECONDS
                    )
                ),
            ),
            cloudflare.R2BucketLifecycleRuleArgs(
                id="archive-to-infrequent-access",
                enabled=True,
                conditions=cloudflare.R2BucketLifecycleRuleConditionsArgs(prefix=ALL_OBJECTS),
                storage_class_transitions=[
                    cloudflare.R2BucketLifecycleRuleStorageClassTransitionArgs(
                        storage_class=INFREQUENT_ACCESS,
                        condition=cloudflare.R2BucketLifecycleRuleStorageClassTransitionConditionArgs(
                            type="Age", max_age=periods.archive_after_days * DAY_SECONDS
                        ),
                    )
                ],
            ),
        ],
        opts=after,
    )
    cloudflare.R2BucketLock(
        names("learning-images-lock"),
        account_id=account_id,
        bucket_name=bucket.name,
        jurisdiction=jurisdiction,
        rules=[
            cloudflare.R2BucketLockRuleArgs(
                id="immutable-while-young",
                enabled=True,
                prefix=ALL_OBJECTS,
                condition=cloudflare.R2BucketLockRuleConditionArgs(type="Age", max_age_seconds=lock_days * DAY_SECONDS),
            )
        ],
        opts=after,
    )
    return bucket
