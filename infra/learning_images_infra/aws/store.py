"""The learning image store on AWS: the composition root of the AWS backend.

Everything the contract asks of S3, declared from one :class:`~learning_images_infra.settings.Settings` under
the store's component (:class:`learning_images_infra.component.LearningImageStore`). Each concern lives in its
own module; this one only wires them and collects the outputs.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from learning_images import contract
from learning_images.backends import profile_for
from learning_images.outputs import store_outputs
from learning_images_infra.aws import guards, iam
from learning_images_infra.aws.access import CityCertificates, TierIdentities, grant_tiers, iam_path, tier_identities
from learning_images_infra.aws.access_logs import access_logs
from learning_images_infra.aws.administration import administrator_patterns, deployer_warning
from learning_images_infra.aws.bucket import HardenedBucket, ObjectLock, hardened_bucket
from learning_images_infra.aws.encryption import store_key
from learning_images_infra.aws.guards import INVENTORY_PREFIX
from learning_images_infra.aws.inventory import INVENTORY_ID, grant_inventory_read, inventory
from learning_images_infra.aws.lifecycle import lifecycle_configuration
from learning_images_infra.aws.registration import Registration, registration
from learning_images_infra.aws.replication import Replica, replicate
from learning_images_infra.naming import Naming
from learning_images_infra.settings import DEPLOYER, Settings
from learning_images_infra.store import Store

#: The type this backend's component had before the one component (stacks deployed then alias it).
PREVIOUS_COMPONENT_TYPE = "learning-images:aws:LearningImageStore"


class AwsStore(Store):
    """The central bucket, its key, lifecycle, guards, tiers, and optionally replica and logs."""

    def __init__(
        self,
        parent: pulumi.ComponentResource,
        names: Naming,
        settings: Settings,
        administrators: tuple[str, ...],
    ) -> None:
        self.parent = parent
        child = pulumi.ResourceOptions(parent=parent)
        # Buckets and keys hold or unlock the images: `protect` makes Pulumi refuse to delete them.
        protected = pulumi.ResourceOptions(parent=parent, protect=settings.protect)
        tags = names.ownership(settings.tags)

        region = settings.region
        assert region is not None  # Settings requires aws:region for the aws backend
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
        arn_prefix = pulumi.Output.concat("arn:", partition, ":iam::", caller.account_id, ":")
        account_root = pulumi.Output.concat(arn_prefix, "root")
        object_lock = (
            ObjectLock(settings.object_lock_mode, settings.object_lock_days)
            if settings.object_lock_mode and settings.object_lock_days
            else None
        )
        lifecycle = contract.lifecycle_rules(settings.periods, settings.archive_storage_class)

        key = store_key(
            names("store-key"),
            region=region,
            account_root_arn=account_root,
            tags=tags,
            opts=protected,
            administrator_patterns=administrators,
        )
        primary = hardened_bucket(
            names("learning-images"),
            kms_key_arn=key.arn,
            versioned=True,
            object_lock=object_lock,
            force_destroy=settings.force_destroy,
            tags=tags,
            opts=protected,
            child_opts=child,
        )
        lifecycle_configuration(
            names("learning-images-lifecycle"),
            bucket=primary.bucket,
            rules=lifecycle,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[r for r in [primary.versioning] if r])
            ),
        )
        primary_target = pulumi.Output.all(primary.bucket.arn, key.arn).apply(
            lambda arns: iam.StoreTarget(bucket_arn=arns[0], key_arn=arns[1], region=region)
        )

        identities = tier_identities(
            names=names,
            city_ids=settings.city_ids,
            key_generations=settings.key_generations,
            certificates=(
                CityCertificates(
                    settings.city_certificate_authority, settings.city_private_ca_arn, settings.city_session_seconds
                )
                if settings.city_authentication == "certificates"
                else None
            ),
            command_centre_principals=_principals_or_account(settings.command_centre_principals, account_root),
            training_principals=_principals_or_account(settings.training_principals, account_root),
            arn_prefix=arn_prefix,
            tags=tags,
            opts=child,
        )

        replica = None
        if settings.replication:
            assert settings.replica_region is not None  # guaranteed by Settings validation
            replica = replicate(
                source=primary,
                source_target=primary_target,
                region=settings.replica_region,
                account_id=caller.account_id,
                account_root_arn=account_root,
                iam_path=iam_path(names.scope),
                names=names,
                command_centre_role_arn=identities.command_centre_role.arn,
                object_lock=object_lock,
                lifecycle=lifecycle,
                force_destroy=settings.force_destroy,
                tags=tags,
                protected=protected,
                child=child,
                administrator_patterns=administrators,
            )
        grant_tiers(
            identities, primary=primary_target, replica=replica.target if replica else None, names=names, opts=child
        )

        logs = None
        if settings.access_logging:
            logs = access_logs(
                source=primary,
                account_id=caller.account_id,
                names=names,
                retention_days=settings.access_log_retention_days,
                force_destroy=settings.force_destroy,
                tags=tags,
                protected=protected,
                child=child,
            )
            inventory(source=primary, logs=logs, account_id=caller.account_id, names=names, opts=child)
            grant_inventory_read(role=identities.command_centre_role, logs=logs, names=names, opts=child)

        bucket_policy = self._attach_guards(names, primary, key, identities, administrators)
        events = None
        if settings.registers:
            events = registration(
                names=names,
                bucket=primary.bucket,
                region=region,
                account_id=caller.account_id,
                account_root_arn=account_root,
                # The receiver runs in the Command Centre: its principals assume the receiver's role.
                receiver_principals=_principals_or_account(settings.command_centre_principals, account_root),
                iam_path=iam_path(names.scope),
                alarm_topic_arn=settings.registration_alarm_topic_arn,
                administrator_patterns=administrators,
                tags=tags,
                child=child,
                ready=[bucket_policy, *primary.ready],
                protected=protected,
                emulator=settings.emulator,
            )
        self.outputs = self._outputs(
            administrators=administrators,
            settings=settings,
            primary=primary,
            key=key,
            object_lock=object_lock,
            replica=replica,
            logs=logs,
            identities=identities,
            events=events,
        )

    @staticmethod
    def check(settings: Settings, opts: pulumi.ResourceOptions | None) -> tuple[str, ...]:
        """Before anything is registered, the component included: ``configurationAdministrators`` as
        principal patterns, checked against the deploying identity by a synchronous invoke, so a list
        that would lock the deployer out is invalid config."""
        if not settings.configuration_administrators:
            return ()
        caller = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=opts.provider if opts else None))
        partition = caller.arn.split(":")[1]
        if DEPLOYER in settings.configuration_administrators:
            # Said at every preview: `deployer` is whoever runs this update, and the policy names only them.
            pulumi.log.warn(deployer_warning(caller.arn))
        return administrator_patterns(
            settings.configuration_administrators,
            caller_arn=caller.arn,
            account_root_arn=f"arn:{partition}:iam::{caller.account_id}:root",
        )

    def _attach_guards(
        self,
        names: Naming,
        primary: HardenedBucket,
        key: aws.kms.Key,
        identities: TierIdentities,
        administrators: tuple[str, ...],
    ) -> aws.s3.BucketPolicy:
        """The learning bucket's one policy: every guard of ``guards.learning_bucket_policy``."""
        return aws.s3.BucketPolicy(
            names("learning-images-policy"),
            bucket=primary.bucket.id,
            policy=pulumi.Output.all(
                primary.bucket.arn,
                key.arn,
                identities.command_centre_role.arn,
                identities.training_role.arn,
                identities.city_principal_arn_pattern,
            ).apply(
                lambda a: json.dumps(
                    guards.learning_bucket_policy(
                        guards.LearningBucket(
                            bucket_arn=a[0],
                            key_arn=a[1],
                            command_centre_role_arn=a[2],
                            training_role_arn=a[3],
                            city_principal_arn_pattern=a[4],
                            city_tag=identities.city_tag,
                            administrator_patterns=administrators,
                        )
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=self.parent, depends_on=primary.ready),
        )

    @staticmethod
    def _outputs(
        *,
        administrators: tuple[str, ...],
        settings: Settings,
        primary: HardenedBucket,
        key: aws.kms.Key,
        object_lock: ObjectLock | None,
        replica: Replica | None,
        logs: HardenedBucket | None,
        identities: TierIdentities,
        events: Registration | None,
    ) -> dict[str, Any]:
        """Everything a client or the verification script needs, credentials as secrets."""

        def credentials(city_id: str) -> dict[str, pulumi.Output[str]]:
            _, access_key = identities.uploaders[city_id]
            return {
                "city_id": pulumi.Output.from_input(city_id),
                "access_key_id": access_key.id,
                "secret_access_key": access_key.secret,
            }

        return store_outputs(
            backend=settings.backend,
            capabilities=profile_for(settings.backend),
            region=settings.region,
            bucket_name=primary.bucket.bucket,
            # The periods this stack applies; contract.lifecycle_rules turns them into the rules.
            periods=settings.periods,
            archive_storage_class=settings.archive_storage_class.value,
            # Access keys are secrets end to end: the whole map, ids included, is marked secret.
            city_credentials=pulumi.Output.secret({city: credentials(city) for city in settings.city_ids}),
            # endpoint_url and city_endpoint_url stay None: the AWS SDK's own, for every tier.
            emulator=settings.emulator,
            bucket_arn=primary.bucket.arn,
            kms_key_arn=key.arn,
            object_lock={"mode": object_lock.mode, "days": object_lock.days} if object_lock else None,
            replica=(
                {
                    "bucket_name": replica.bucket.bucket.bucket,
                    "bucket_arn": replica.bucket.bucket.arn,
                    "region": replica.region,
                    "kms_key_arn": replica.key.arn,
                    "replication_role_arn": replica.role.arn,
                }
                if replica
                else None
            ),
            access_log_bucket_name=logs.bucket.bucket if logs else None,
            # Where the daily inventory's manifests appear (S3 Inventory's documented layout).
            inventory=(
                {
                    "bucket_name": logs.bucket.bucket,
                    "prefix": primary.bucket.bucket.apply(lambda b: f"{INVENTORY_PREFIX}/{b}/{INVENTORY_ID}/"),
                }
                if logs
                else None
            ),
            # The tiers are roles the operator assumes; R2 has token credentials instead.
            command_centre_role_arn=identities.command_centre_role.arn,
            training_role_arn=identities.training_role.arn,
            probe_credentials=(
                pulumi.Output.secret(credentials(contract.PROBE_CITY_ID)) if identities.uploaders else None
            ),
            roles_anywhere=(
                {
                    "trust_anchor_arn": identities.roles_anywhere.trust_anchor.arn,
                    "profile_arn": identities.roles_anywhere.profile.arn,
                    "role_arn": identities.roles_anywhere.role.arn,
                    "session_seconds": identities.roles_anywhere.session_seconds,
                }
                if identities.roles_anywhere
                else None
            ),
            # Who may change the bucket and key configuration (empty: the guard is off).
            configuration_administrators=list(administrators),
            registration=(
                {
                    "source": "sqs",
                    "queue_url": events.queue.url,
                    "queue_arn": events.queue.arn,
                    "dead_letter_queue_url": events.dead_letter_queue.url,
                    "receiver_role_arn": events.receiver_role.arn,
                }
                if events
                else None
            ),
        )


def _principals_or_account(principals: list[str], account_root: pulumi.Output[str]) -> pulumi.Input[list[str]]:
    """No configured principals: this account, whose identities still need their own
    ``sts:AssumeRole`` permission (the CDK ``AccountRootPrincipal`` default)."""
    return list(principals) if principals else account_root.apply(lambda root: [root])


#: What the backend table names this module for (``learning_images.backends``).
STORE = AwsStore
