"""Encryption at rest: a customer-managed KMS key per bucket region, rotated yearly.

In transit is enforced by the bucket-policy guards (``DenyInsecureTransport``, ``DenyOutdatedTls``).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from learning_images_infra.aws.iam import key_policy

#: The longest window KMS allows: a mistakenly scheduled deletion can be cancelled for 30 days.
DELETION_WINDOW_DAYS = 30


def store_key(
    name: str,
    *,
    region: str,
    account_root_arn: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    provider_region: str | None = None,
    administrator_patterns: tuple[str, ...] = (),
) -> aws.kms.Key:
    """A symmetric key, rotation on, whose policy only lets S3 use it (see :func:`key_policy`).

    ``provider_region`` places the key in another region than the provider's (pulumi-aws v7
    per-resource ``region``), for the replica. ``administrator_patterns``: who alone may delete,
    disable or re-police the key (``learning_images_infra.aws.administration``); empty leaves that to IAM.
    """
    return aws.kms.Key(
        name,
        description=f"learning-images {name}: SSE-KMS for the learning image store",
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=pulumi.Output.from_input(account_root_arn).apply(
            lambda root: json.dumps(key_policy(root, region, administrator_patterns))
        ),
        region=provider_region,
        tags=tags,
        opts=opts,
    )
