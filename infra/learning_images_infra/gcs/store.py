"""The learning image store on Google Cloud Storage: the composition root of the gcs backend.

Its outputs have the shared schema (what Cloud Storage lacks is None), so clients and the
verification script work unchanged through the XML API with HMAC keys; what Cloud Storage cannot
enforce, the capability profile and the rule catalogue say.
"""

from __future__ import annotations

from typing import Any

import pulumi

from learning_images import contract, gcs
from learning_images.backends import BACKENDS, profile_for
from learning_images.outputs import store_outputs
from learning_images_infra.gcs.access import HmacCredentials, city_condition, grant, hmac_identity, tier_role
from learning_images_infra.gcs.bucket import gcs_bucket
from learning_images_infra.gcs.encryption import store_key
from learning_images_infra.gcs.registration import registration
from learning_images_infra.naming import Naming, with_digest
from learning_images_infra.settings import PROJECT, Settings
from learning_images_infra.store import Store, city_outputs, credentials

#: Cloud Storage bucket names: at most 63 characters (without dots), unique across all of Google Cloud.
_BUCKET_NAME_ROOM = 63


def bucket_name(project: str, scope: str) -> str:
    """The project in the name makes it globally unique; too long, it ends in a digest instead."""
    name = f"{project}-{PROJECT}-{scope}".lower()
    return name if len(name) <= _BUCKET_NAME_ROOM else with_digest(name, _BUCKET_NAME_ROOM, name)


class GcsStore(Store):
    """The dual-region bucket, its key and lifecycle, a custom role and service account per tier,
    and a service account with an HMAC key per city."""

    def __init__(
        self,
        parent: pulumi.ComponentResource,
        names: Naming,
        settings: Settings,
        administrators: tuple[str, ...],
    ) -> None:
        project = settings.gcp_project
        assert project is not None  # Settings requires gcp:project for the gcs backend
        child = pulumi.ResourceOptions(parent=parent)
        # Label values are lowercase in Google Cloud.
        labels = {key: value.lower() for key, value in names.ownership().items()}
        key = store_key(
            project=project,
            location=settings.gcs_location,
            scope=names.scope,
            names=names,
            parent=parent,
            protect=settings.protect,
        )
        name = bucket_name(project, names.scope)
        periods = settings.periods
        bucket = gcs_bucket(
            name,
            names("learning-images"),
            project=project,
            location=settings.gcs_location,
            turbo_replication=settings.gcs_turbo_replication,
            archive_class=settings.gcs_archive_storage_class,
            periods=periods,
            soft_delete_days=settings.gcs_soft_delete_days,
            kms_key=key.key.id,
            force_destroy=settings.force_destroy,
            labels=labels,
            opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect, depends_on=[key.grant]),
        )
        roles = {
            tier.name: tier_role(project=project, scope=names.scope, tier=tier, names=names, opts=child)
            for tier in contract.TIERS
        }
        after_bucket = pulumi.ResourceOptions(parent=parent, depends_on=[bucket])

        def identity(who: str, tier: contract.Tier, *, city: bool) -> HmacCredentials:
            found = hmac_identity(
                names(f"{who}-service-account"),
                project=project,
                scope=names.scope,
                who=who,
                description=tier.description,
                opts=child,
            )
            grant(
                names(f"{who}-grant"),
                bucket=bucket,
                role=roles[tier.name],
                member=found.account.member,
                condition=city_condition(name) if city else None,
                opts=after_bucket,
            )
            return found

        command_centre = identity("command-centre", contract.COMMAND_CENTRE, city=False)
        training = identity("training", contract.TRAINING, city=False)
        cities = {
            city: identity(f"city-{city}", contract.CITY, city=True)
            for city in [*settings.city_ids, contract.PROBE_CITY_ID]
        }

        events = (
            registration(
                names=names,
                project=project,
                scope=names.scope,
                bucket=bucket,
                bucket_name=name,
                alarm_channels=settings.registration_alarm_channels,
                labels=labels,
                child=child,
            )
            if settings.registers
            else None
        )
        source = BACKENDS[settings.backend].event_source

        def hmac_credentials(who: str, found: HmacCredentials) -> pulumi.Output[dict[str, Any]]:
            return credentials(who, found.access_key_id, found.secret_access_key)

        self.outputs = store_outputs(
            backend=settings.backend,
            capabilities=profile_for(settings.backend),
            region=gcs.SIGNING_REGION,
            bucket_name=bucket.name,
            periods=settings.periods,
            archive_storage_class=settings.gcs_archive_storage_class,
            endpoint_url=gcs.ENDPOINT_URL,
            kms_key_arn=key.key.id,
            # No replica: the bucket is dual-region, Cloud Storage keeps the second copy.
            command_centre_credentials=hmac_credentials("command-centre", command_centre),
            training_credentials=hmac_credentials("training", training),
            **city_outputs({city: hmac_credentials(city, found) for city, found in cities.items()}),
            registration=events.outputs(source) if events and source else None,
        )


#: What the backend table names this module for (``learning_images.backends``).
STORE = GcsStore
