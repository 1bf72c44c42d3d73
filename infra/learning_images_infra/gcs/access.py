"""The contract's tiers on Cloud Storage: a service account per tier (and per city), a custom role
per tier holding exactly the tier's permissions (``learning_images.gcs``), bucket-level grants,
and an HMAC key per service account for the XML API, so the same boto3 clients work.

A city's role holds ``storage.objects.create`` and nothing else. Cloud Storage needs
``storage.objects.delete`` as well to replace a live object, so a city cannot overwrite: the storage
refuses it, whatever the request says. The city grant carries an IAM Condition: objects of this
bucket whose names end like the contract's keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from learning_images import contract, gcs
from learning_images_infra.naming import Naming, digest, with_digest

#: Service account ids: 6 to 30 characters, lowercase letters, digits and hyphens.
_ACCOUNT_ID_ROOM = 30
_ROLE_ID_ROOM = 64


def account_id(scope: str, who: str) -> str:
    """A service account id that names the tier or city and is unique to the store's scope."""
    return with_digest(f"li-{who}", _ACCOUNT_ID_ROOM, scope, who)


def role_id(scope: str, holder: str) -> str:
    """A custom role id (letters, digits, underscores and periods) unique to the store's scope;
    ``holder``: a tier's name, or the receiver."""
    stem = f"learningImages.{scope}.{holder}".replace("-", "_")
    return stem if len(stem) <= _ROLE_ID_ROOM else f"learningImages.{holder.replace('-', '_')}.{digest(scope)}"


@dataclass
class HmacCredentials:
    account: gcp.serviceaccount.Account
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]


def tier_role(
    *, project: str, scope: str, tier: contract.Tier, names: Naming, opts: pulumi.ResourceOptions
) -> gcp.projects.IAMCustomRole:
    return gcp.projects.IAMCustomRole(
        names(f"{tier.name}-role"),
        project=project,
        role_id=role_id(scope, tier.name),
        title=f"learning-images {scope} {tier.name}",
        description=tier.description,
        permissions=list(gcs.tier_permissions(tier)),
        stage="GA",
        opts=opts,
    )


def grant(
    resource_name: str,
    *,
    bucket: gcp.storage.Bucket,
    role: gcp.projects.IAMCustomRole,
    member: pulumi.Input[str],
    condition: gcp.storage.BucketIAMMemberConditionArgs | None,
    opts: pulumi.ResourceOptions,
) -> gcp.storage.BucketIAMMember:
    """One member's grant of a tier role on the bucket (additive: other grants are left alone)."""
    return gcp.storage.BucketIAMMember(
        resource_name, bucket=bucket.name, role=role.name, member=member, condition=condition, opts=opts
    )


def city_condition(bucket_name: str) -> gcp.storage.BucketIAMMemberConditionArgs:
    return gcp.storage.BucketIAMMemberConditionArgs(
        title="contract object names only",
        description="Uploads to this bucket's objects whose names end like the contract's keys.",
        expression=gcs.city_upload_condition(bucket_name),
    )


def hmac_identity(
    resource_name: str, *, project: str, scope: str, who: str, description: str, opts: pulumi.ResourceOptions
) -> HmacCredentials:
    """A service account and its HMAC key (the XML API's access key id and secret)."""
    account = gcp.serviceaccount.Account(
        resource_name,
        project=project,
        account_id=account_id(scope, who),
        display_name=f"learning-images {scope} {who}",
        description=description,
        opts=opts,
    )
    key = gcp.storage.HmacKey(
        f"{resource_name}-hmac-key",
        project=project,
        service_account_email=account.email,
        opts=opts,
    )
    return HmacCredentials(
        account=account, access_key_id=key.access_id, secret_access_key=pulumi.Output.secret(key.secret)
    )
