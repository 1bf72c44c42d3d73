"""The learning image store on Backblaze B2: the composition root of the b2 backend.

B2's resources are the project's dynamic provider's (``provider``): a private bucket with Object
Lock from its creation, SSE-B2 by default, a default retention and a lifecycle by prefix, and one
application key per tier, its capabilities derived from the contract (``learning_images.b2``).
``writeFiles`` also hides files (b2_hide_file, and S3's DeleteObject by name), so no B2 key is
upload-only: cities hold gateway keys alone, and the upload gateway writes for them with a
``writeFiles`` key only it holds.

Registration (on by default): the bucket's event-notification rule POSTs every creation, deletion
and hide to the gateway's ``/_events``, signed with a secret the rule and the Worker share; the
Worker checks the signature and queues the events on a Cloudflare Queue (the r2 store's queues,
``learning_images_infra.r2.registration``), which the receiver pulls, reading each object with a
``readFiles`` key of its own.

What B2 cannot hold is the catalogue's b2 column (``learning_images.rules``).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_random as random

from learning_images import b2, contract, gateway
from learning_images.backends import BACKENDS, profile_for
from learning_images.outputs import store_outputs
from learning_images_infra.b2.provider import B2ApplicationKey, B2Bucket, B2NotificationRules
from learning_images_infra.naming import Naming
from learning_images_infra.r2.gateway import S3Target, StoreEvents, cities_gateway, city_credentials
from learning_images_infra.r2.registration import Registration, event_queues, receiver_token
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


def notification_rule(gateway_url: str, signing_secret: str) -> dict[str, Any]:
    """The bucket's one rule: every object created, deleted or hidden, POSTed to the gateway's
    webhook and signed (b2_set_bucket_notification_rules)."""
    return {
        "name": b2.NOTIFICATION_RULE_NAME,
        "eventTypes": list(b2.EVENT_TYPES),
        "isEnabled": True,
        "objectNamePrefix": ALL_FILES,
        "targetConfiguration": {
            "targetType": "webhook",
            "url": gateway.events_url(gateway_url),
            "hmacSha256SigningSecret": signing_secret,
        },
    }


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
        account = settings.cloudflare_account_id
        assert account is not None  # Settings requires it for the b2 backend
        queues = (
            event_queues(names=names, account_id=account, bucket_name=bucket_name, child=after_bucket)
            if settings.registers
            else None
        )
        # 32 alphanumeric characters, as B2 takes a rule's signing secret.
        signing = (
            random.RandomPassword(
                names("events-signing-secret"), length=b2.SIGNING_SECRET_LENGTH, special=False, opts=after_bucket
            )
            if queues
            else None
        )
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
            events=StoreEvents(queue=queues.queue, signing_secret=signing.result) if queues and signing else None,
        )
        registration = None
        if queues and signing:
            # The rule notifies only once the Worker that checks and queues its deliveries is
            # deployed and answers at its address, and the queue has its consumer: no delivery
            # fails for want of any of them.
            B2NotificationRules(
                names("learning-images-events"),
                bucket_id=bucket.bucket_id,
                rules=pulumi.Output.all(gateway.url, signing.result).apply(
                    lambda found: [notification_rule(found[0], found[1])]
                ),
                opts=pulumi.ResourceOptions(
                    parent=parent, depends_on=[bucket, gateway.script, *gateway.serving, queues.consumer]
                ),
            )
            reader = B2ApplicationKey(
                names("receiver-key"),
                key_name=f"{PROJECT}-{names.scope}-receiver",
                capabilities=b2.RECEIVER_CAPABILITIES,
                bucket_id=bucket.bucket_id,
                opts=after_bucket,
            )
            token = receiver_token(
                names=names,
                account_id=account,
                token_name=f"{PROJECT}-{names.scope}-receiver",
                queues=queues,
                also=[],
                child=after_bucket,
            )
            row = BACKENDS[settings.backend]
            registration = Registration(
                queues=queues,
                access_key_id=reader.application_key_id,
                secret_access_key=reader.application_key,
                api_token=token.value,
            ).outputs(account, str(row.event_source), row.event_format)

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
            registration=registration,
        )


#: What the backend table names this module for (``learning_images.backends``).
STORE = B2Store
