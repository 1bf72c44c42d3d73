"""The learning image store on Cloudflare R2: the composition root of the R2 backend.

Its outputs have the AWS backend's shape (same keys; what R2 lacks is None), so clients and
the verification script work unchanged; R2's tiers are token credentials, not roles.
"""

from __future__ import annotations

from typing import Any

import pulumi

from learning_images import contract
from learning_images.backends import BACKENDS, profile_for
from learning_images.outputs import store_outputs
from learning_images_infra.naming import Naming
from learning_images_infra.r2.access import TokenCredentials, tier_token
from learning_images_infra.r2.bucket import INFREQUENT_ACCESS, r2_bucket
from learning_images_infra.r2.gateway import R2Target, cities_gateway, city_credentials
from learning_images_infra.r2.registration import registration
from learning_images_infra.settings import PROJECT, Settings
from learning_images_infra.store import Store, city_outputs, credentials

#: The type this backend's component had before the one component (stacks deployed then alias it).
PREVIOUS_COMPONENT_TYPE = "learning-images:r2:LearningImageStore"


def endpoint_url(account_id: str, jurisdiction: str) -> str:
    """R2's S3 API endpoint; a jurisdiction has its own (R2 docs, "Data location")."""
    infix = "" if jurisdiction == "default" else f".{jurisdiction}"
    return f"https://{account_id}{infix}.r2.cloudflarestorage.com"


class R2Store(Store):
    """The bucket, its lifecycle and lock, a token per tier, and the cities' way in: the upload
    gateway and a gateway key per city (or, with the gateway off, an R2 token per city)."""

    def __init__(
        self,
        parent: pulumi.ComponentResource,
        names: Naming,
        settings: Settings,
        administrators: tuple[str, ...],
    ) -> None:
        account = settings.cloudflare_account_id
        assert account is not None  # Settings requires it for the r2 backend
        jurisdiction = settings.r2_jurisdiction
        child = pulumi.ResourceOptions(parent=parent)
        bucket_name = f"{PROJECT}-{names.scope}".lower()
        # Objects cannot be overwritten or deleted while younger than this; the retention job must
        # still be able to delete an accidental `unsure` upload on time, hence unsureExpiryDays.
        lock_days = settings.unsure_expiry_days
        bucket = r2_bucket(
            bucket_name,
            account_id=account,
            jurisdiction=jurisdiction,
            location_hint=settings.r2_location_hint,
            periods=settings.periods,
            lock_days=lock_days,
            names=names,
            opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect),
            child=child,
        )
        token_opts = pulumi.ResourceOptions(parent=parent, depends_on=[bucket])

        def token(tier: contract.Tier, who: str) -> TokenCredentials:
            return tier_token(
                names(f"{who}-token"),
                tier=tier,
                token_name=f"{PROJECT}-{names.scope}-{who}",
                account_id=account,
                jurisdiction=jurisdiction,
                bucket_name=bucket_name,
                opts=token_opts,
            )

        def tier_credentials(who: str, found: TokenCredentials) -> pulumi.Output[dict[str, Any]]:
            return credentials(who, found.access_key_id, found.secret_access_key)

        command_centre = token(contract.COMMAND_CENTRE, "command-centre")
        training = token(contract.TRAINING, "training")
        city_endpoint_url: pulumi.Output[str] | None = None
        cities: dict[str, Any]
        if settings.r2_upload_gateway:
            # Cities hold gateway keys and no R2 credential: the gateway is their only way in.
            gateway = cities_gateway(
                settings=settings,
                target=R2Target(bucket, jurisdiction),
                bucket_name=bucket_name,
                names=names,
                opts=token_opts,
            )
            city_endpoint_url = gateway.url
            cities = city_credentials(gateway)
        else:
            tokens = {
                city: token(contract.CITY, f"city-{city}") for city in [*settings.city_ids, contract.PROBE_CITY_ID]
            }
            cities = city_outputs({city: tier_credentials(city, found) for city, found in tokens.items()})

        events = (
            registration(
                names=names,
                account_id=account,
                jurisdiction=jurisdiction,
                bucket=bucket,
                bucket_name=bucket_name,
                token_name=f"{PROJECT}-{names.scope}-receiver",
                child=token_opts,
            )
            if settings.registers
            else None
        )
        row = BACKENDS[settings.backend]

        self.outputs = store_outputs(
            backend=settings.backend,
            capabilities=profile_for(settings.backend, upload_gateway=settings.r2_upload_gateway),
            region="auto",
            bucket_name=bucket.name,
            periods=settings.periods,
            archive_storage_class=INFREQUENT_ACCESS,
            endpoint_url=endpoint_url(account, jurisdiction),
            city_endpoint_url=city_endpoint_url,
            # No kms_key_arn: R2 encrypts every object at rest with Cloudflare-managed keys.
            bucket_lock_days=lock_days,
            command_centre_credentials=tier_credentials("command-centre", command_centre),
            training_credentials=tier_credentials("training", training),
            **cities,
            registration=events.outputs(account, row.event_source, row.event_format)
            if events and row.event_source
            else None,
        )


#: What the backend table names this module for (``learning_images.backends``).
STORE = R2Store
