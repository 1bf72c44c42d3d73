"""The learning image store on Backblaze B2: the composition root of the b2 backend.

B2's resources are the project's dynamic provider's (``provider``): a private bucket with Object
Lock from its creation, SSE-B2 by default, a default retention and a lifecycle by prefix, and one
application key per tier, its capabilities derived from the contract (``learning_images.b2``).
``writeFiles`` also hides files (b2_hide_file, and S3's DeleteObject by name), so no B2 key is
upload-only: cities hold gateway keys alone, and the upload gateway writes for them with a
``writeFiles`` key only it holds.

What B2 cannot hold is the catalogue's b2 column (``learning_images.rules``).
"""

from __future__ import annotations

from typing import Any

import pulumi

from learning_images import b2, contract
from learning_images.backends import profile_for
from learning_images.outputs import store_outputs
from learning_images_infra.b2.provider import B2ApplicationKey, B2Bucket
from learning_images_infra.naming import Naming
from learning_images_infra.r2.gateway import S3Target, cities_gateway, city_credentials
from learning_images_infra.settings import PROJECT, Settings
from learning_images_infra.store import SINGLE_STORAGE_CLASS, Store, credentials

#: The bucket's default retention: governance, which the Command Centre's key may bypass (GDPR).
LOCK_MODE = "governance"
#: Every key of the store's bucket is flat (``<uuid>.jpg``): one lifecycle rule covers them all.
ALL_FILES = ""


def endpoint_url(region: str) -> str:
    """B2's S3-compatible endpoint of ``region`` (Backblaze docs, "S3 Compatible API")."""
    return f"https://s3.{region}.backblazeb2.com"


def lifecycle_rules(periods: contract.LifecyclePeriods) -> list[dict[str, Any]]:
    """What B2's lifecycle can declare of the contract's: hidden (noncurrent) versions deleted after
    their days. Its rules select by name prefix only, so none can read a label, and none hides a
    live file by age (`changed` is kept forever)."""
    return [{"fileNamePrefix": ALL_FILES, "daysFromHidingToDeleting": periods.noncurrent_version_expiry_days}]


class B2Store(Store):
    """The bucket, a key per tier and one for the gateway, and the gateway with a key per city."""

    def __init__(
        self,
        parent: pulumi.ComponentResource,
        names: Naming,
        settings: Settings,
        administrators: tuple[str, ...],
    ) -> None:
        region = settings.b2_region
        assert region is not None  # Settings requires it for the b2 backend
        bucket_name = f"{PROJECT}-{names.scope}".lower()
        # Files cannot be deleted or overwritten while younger than the lock, except by the
        # Command Centre's bypassGovernance; the retention job must still delete an `unsure` upload.
        bucket = B2Bucket(
            names("learning-images"),
            bucket_name=bucket_name,
            lock_mode=LOCK_MODE,
            lock_days=settings.unsure_expiry_days,
            lifecycle_rules=lifecycle_rules(settings.periods),
            opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect),
        )
        after_bucket = pulumi.ResourceOptions(parent=parent, depends_on=[bucket])

        def key(who: str, tier: contract.Tier) -> B2ApplicationKey:
            return B2ApplicationKey(
                names(f"{who}-key"),
                key_name=f"{PROJECT}-{names.scope}-{who}",
                capabilities=b2.capabilities(tier),
                bucket_id=bucket.bucket_id,
                opts=after_bucket,
            )

        command_centre = key("command-centre", contract.COMMAND_CENTRE)
        training = key("training", contract.TRAINING)
        # The gateway's own key, a city's capabilities: only the gateway holds it (secret bindings).
        writer = key("upload-gateway", contract.CITY)
        gateway = cities_gateway(
            settings=settings,
            target=S3Target(
                endpoint=endpoint_url(region),
                region=region,
                bucket_name=bucket.bucket_name,
                access_key_id=writer.application_key_id,
                secret_access_key=writer.application_key,
            ),
            bucket_name=bucket_name,
            names=names,
            opts=after_bucket,
        )

        def tier_credentials(who: str, found: B2ApplicationKey) -> pulumi.Output[dict[str, Any]]:
            return credentials(who, found.application_key_id, found.application_key)

        self.outputs = store_outputs(
            backend=settings.backend,
            capabilities=profile_for(settings.backend, upload_gateway=True),
            region=region,
            bucket_name=bucket.bucket_name,
            periods=settings.periods,
            archive_storage_class=SINGLE_STORAGE_CLASS,
            endpoint_url=endpoint_url(region),
            city_endpoint_url=gateway.url,
            bucket_lock_days=settings.unsure_expiry_days,
            command_centre_credentials=tier_credentials("command-centre", command_centre),
            training_credentials=tier_credentials("training", training),
            **city_credentials(gateway),
        )


#: What the backend table names this module for (``learning_images.backends``).
STORE = B2Store
