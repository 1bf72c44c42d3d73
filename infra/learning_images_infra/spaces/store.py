"""The learning image store on DigitalOcean Spaces: the composition root of the spaces backend.

Spaces keys are read, read-write or full access on a bucket (pulumi-digitalocean ``SpacesKey``
grants), so no city key could be upload-only, and Spaces' lifecycle is by age and prefix: the
store gives cities gateway keys alone. The upload gateway (the R2 backend's Worker, in Cloudflare
Workers) holds the one read-write key that writes for them and applies every upload rule; the
Command Centre and the training pipeline hold Spaces keys of their own.

What Spaces cannot hold is the catalogue's spaces column (``learning_images.rules``).
"""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as digitalocean

from learning_images import contract
from learning_images.backends import profile_for
from learning_images.outputs import store_outputs
from learning_images_infra.naming import Naming
from learning_images_infra.r2.gateway import S3Target, cities_gateway, city_credentials
from learning_images_infra.settings import PROJECT, Settings
from learning_images_infra.store import SINGLE_STORAGE_CLASS, Store, credentials

#: The SpacesKey grant of each tier that holds a Spaces key (pulumi-digitalocean: read, readwrite).
READ, READ_WRITE = "read", "readwrite"


def endpoint_url(region: str) -> str:
    """Spaces' S3 API endpoint of ``region``."""
    return f"https://{region}.digitaloceanspaces.com"


def lifecycle_rules(periods: contract.LifecyclePeriods) -> list[digitalocean.SpacesBucketLifecycleRuleArgsDict]:
    """What Spaces' lifecycle can declare of the contract's: the version housekeeping, for every
    object (its rules filter by prefix only, so no rule can read a label)."""
    return [
        {
            "id": "expire-noncurrent-versions-and-incomplete-uploads",
            "enabled": True,
            "abort_incomplete_multipart_upload_days": periods.abort_incomplete_multipart_days,
            "noncurrent_version_expiration": {"days": periods.noncurrent_version_expiry_days},
        }
    ]


class SpacesStore(Store):
    """The bucket, a Spaces key per tier and one for the gateway, and the gateway with a key per city."""

    def __init__(
        self,
        parent: pulumi.ComponentResource,
        names: Naming,
        settings: Settings,
        administrators: tuple[str, ...],
    ) -> None:
        region = settings.spaces_region
        bucket_name = f"{PROJECT}-{names.scope}".lower()
        bucket = digitalocean.SpacesBucket(
            names("learning-images"),
            name=bucket_name,
            region=region,
            acl="private",
            # Versioning keeps what a deletion or an overwrite replaces; it can never be turned off again.
            versioning={"enabled": True},
            lifecycle_rules=lifecycle_rules(settings.periods),
            force_destroy=settings.force_destroy,
            opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect),
        )
        after_bucket = pulumi.ResourceOptions(parent=parent, depends_on=[bucket])

        def key(who: str, permission: str) -> digitalocean.SpacesKey:
            return digitalocean.SpacesKey(
                names(f"{who}-key"),
                name=f"{PROJECT}-{names.scope}-{who}",
                grants=[{"bucket": bucket.name, "permission": permission}],
                opts=after_bucket,
            )

        command_centre = key("command-centre", READ_WRITE)
        training = key("training", READ)
        # The gateway's own key: only the gateway holds it (secret bindings), and it writes for cities.
        writer = key("upload-gateway", READ_WRITE)
        gateway = cities_gateway(
            settings=settings,
            target=S3Target(
                endpoint=endpoint_url(region),
                # Requests are signed for the bucket's region, as DigitalOcean's SDK examples do.
                region=region,
                bucket_name=bucket.name,
                access_key_id=writer.access_key,
                secret_access_key=writer.secret_key,
            ),
            bucket_name=bucket_name,
            names=names,
            opts=after_bucket,
        )
        self.outputs = store_outputs(
            backend=settings.backend,
            capabilities=profile_for(settings.backend, upload_gateway=True),
            region=region,
            bucket_name=bucket.name,
            periods=settings.periods,
            archive_storage_class=SINGLE_STORAGE_CLASS,
            endpoint_url=endpoint_url(region),
            city_endpoint_url=gateway.url,
            command_centre_credentials=credentials(
                "command-centre", command_centre.access_key, command_centre.secret_key
            ),
            training_credentials=credentials("training", training.access_key, training.secret_key),
            **city_credentials(gateway),
        )


#: What the backend table names this module for (``learning_images.backends``).
STORE = SpacesStore
