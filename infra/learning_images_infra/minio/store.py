"""The learning image store on a self-hosted MinIO server: the composition root of the minio backend.

One bucket, created with Object Lock (so versioned: an overwritten or deleted version is kept),
encrypted by default with a KES key the program creates, a lifecycle by label, and one MinIO user
per tier and per city, each with its own policy carrying the guards (``policies``). With
``registration`` on, the bucket notifies the server's PostgreSQL target, and the receiver gets a
user of its own that reads objects and their tags. The provider
reaches the server as the deploy pipeline's admin user (``minio:minioServer``, ``minio:minioUser``,
``minio:minioPassword``, ``minio:minioSsl``); clients reach it at ``minioEndpointUrl``.

What pulumi-minio 0.17.1 cannot declare (replication, a default retention, transitions) the
settings refuse, named, and the catalogue's minio column says what covers it.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_minio as minio

from learning_images import contract
from learning_images import minio as minio_server
from learning_images.backends import BACKENDS, profile_for
from learning_images.outputs import store_outputs
from learning_images_infra.minio.policies import bucket_arn, receiver_policy, tier_policy
from learning_images_infra.naming import Naming
from learning_images_infra.settings import PROJECT, Settings
from learning_images_infra.store import SINGLE_STORAGE_CLASS, Store, city_outputs, credentials

#: MinIO's region when its server names none (``MINIO_SITE_REGION``'s default): what clients sign for.
DEFAULT_REGION = "us-east-1"


def _days(days: int) -> str:
    # pulumi-minio's ILM expiration: a number of days as "<n>d" (the provider's example: "7d").
    return f"{days}d"


def lifecycle_rules(periods: contract.LifecyclePeriods) -> list[minio.IlmPolicyRuleArgsDict]:
    """The contract's lifecycle rules MinIO's ILM can declare: expirations by tag, and the
    noncurrent versions' expiry. Transitions are left out (none in the provider), and so is a rule
    that would be empty without its transition (``changed`` objects are kept forever anyway)."""
    rules: list[minio.IlmPolicyRuleArgsDict] = []
    for rule in contract.lifecycle_rules(periods, SINGLE_STORAGE_CLASS):
        entry: minio.IlmPolicyRuleArgsDict = {"id": rule.id, "status": "Enabled"}
        if rule.tag is not None:
            entry["tags"] = {rule.tag[0]: rule.tag[1]}
        if rule.expiration_days is not None:
            entry["expiration"] = _days(rule.expiration_days)
        if rule.noncurrent_expiration_days is not None:
            entry["noncurrent_version_expiration_days"] = rule.noncurrent_expiration_days
        if "expiration" in entry or "noncurrent_version_expiration_days" in entry:
            rules.append(entry)
    return rules


class MinioStore(Store):
    """The bucket, its encryption and lifecycle, and a user with its own policy per tier and city."""

    def __init__(
        self,
        parent: pulumi.ComponentResource,
        names: Naming,
        settings: Settings,
        administrators: tuple[str, ...],
    ) -> None:
        endpoint = settings.minio_endpoint_url
        assert endpoint is not None  # Settings requires it for the minio backend
        bucket_name = f"{PROJECT}-{names.scope}".lower()
        # The KES key encrypting the bucket by default, and the one key the guards let uploads name.
        key_id = f"{PROJECT}-{names.scope}"
        child = pulumi.ResourceOptions(parent=parent)
        bucket = minio.S3Bucket(
            names("learning-images"),
            bucket=bucket_name,
            acl="private",
            # Object Lock can only be turned on at creation, and turns versioning on with it.
            object_locking=True,
            force_destroy=settings.force_destroy,
            opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect),
        )
        after_bucket = pulumi.ResourceOptions(parent=parent, depends_on=[bucket])
        minio.S3BucketVersioning(
            names("learning-images-versioning"),
            bucket=bucket.bucket,
            versioning_configuration={"status": "Enabled"},
            opts=after_bucket,
        )
        key = minio.KmsKey(
            names("learning-images-key"),
            key_id=key_id,
            opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect),
        )
        minio.S3BucketServerSideEncryption(
            names("learning-images-encryption"),
            bucket=bucket.bucket,
            encryption_type="aws:kms",
            kms_key_id=key.key_id,
            opts=after_bucket,
        )
        minio.IlmPolicy(
            names("learning-images-lifecycle"),
            bucket=bucket.bucket,
            rules=lifecycle_rules(settings.periods),
            opts=after_bucket,
        )

        def user_with(who: str, document: dict[str, Any]) -> minio.IamUser:
            user_name = f"{PROJECT}-{names.scope}-{who}"
            user = minio.IamUser(names(f"{who}-user"), name=user_name, opts=child)
            policy = minio.IamPolicy(names(f"{who}-policy"), name=user_name, policy=json.dumps(document), opts=child)
            minio.IamUserPolicyAttachment(
                names(f"{who}-policy-attachment"), user_name=user.name, policy_name=policy.name, opts=child
            )
            return user

        def tier_user(who: str, tier: contract.Tier, city_id: str | None = None) -> minio.IamUser:
            return user_with(who, tier_policy(tier, bucket_name, key_id, city_id))

        command_centre = tier_user("command-centre", contract.COMMAND_CENTRE)
        training = tier_user("training", contract.TRAINING)
        cities = {
            city: tier_user(f"city-{city}", contract.CITY, city)
            for city in [*settings.city_ids, contract.PROBE_CITY_ID]
        }

        def user_credentials(who: str, user: minio.IamUser) -> pulumi.Output[dict[str, Any]]:
            # A MinIO user's access key is its name, its secret key the user's secret.
            return credentials(who, user.name, user.secret)

        registration = None
        if settings.registers:
            # The server's PostgreSQL target appends every event to the learning store's table, where
            # the receiver leases rows; MinIO refuses the notification if the server has no such target.
            minio.S3BucketNotification(
                names("learning-images-events"),
                bucket=bucket.bucket,
                queues=[{"queue_arn": settings.minio_event_target_arn, "events": list(minio_server.EVENT_NAMES)}],
                opts=after_bucket,
            )
            receiver = user_with("receiver", receiver_policy(bucket_name, key_id))
            registration = {
                "source": BACKENDS[settings.backend].event_source,
                "queue_url": minio_server.EVENTS_TABLE,
                "dead_letter_queue_url": minio_server.DEAD_LETTER_TABLE,
                "max_receives": minio_server.MAX_RECEIVES,
                "receiver_credentials": pulumi.Output.secret(
                    {"access_key_id": receiver.name, "secret_access_key": receiver.secret}
                ),
            }

        self.outputs = store_outputs(
            backend=settings.backend,
            capabilities=profile_for(settings.backend),
            region=DEFAULT_REGION,
            bucket_name=bucket.bucket,
            bucket_arn=bucket_arn(bucket_name),
            periods=settings.periods,
            archive_storage_class=SINGLE_STORAGE_CLASS,
            endpoint_url=endpoint,
            kms_key_arn=key.key_id,
            command_centre_credentials=user_credentials("command-centre", command_centre),
            training_credentials=user_credentials("training", training),
            **city_outputs({city: user_credentials(city, user) for city, user in cities.items()}),
            registration=registration,
        )


#: What the backend table names this module for (``learning_images.backends``).
STORE = MinioStore
