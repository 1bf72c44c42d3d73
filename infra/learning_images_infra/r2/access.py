"""The contract's tiers as bucket-scoped Cloudflare account API tokens, with the permission groups
``learning_images.r2`` gives each tier. A token's S3 credentials are derived from it: the access key id
is the token id, the secret is the SHA-256 of the token value (R2 docs, "Authentication").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from learning_images import contract
from learning_images.r2 import permission_groups


def bucket_resource(account_id: str, jurisdiction: str, bucket_name: str) -> str:
    """The token resource naming exactly one bucket."""
    return f"com.cloudflare.edge.r2.bucket.{account_id}_{jurisdiction}_{bucket_name}"


@dataclass
class TokenCredentials:
    token: cloudflare.AccountToken
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]


def permission_group_id(account_id: str, name: str, opts: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    found = cloudflare.get_account_api_token_permission_groups_list_output(account_id=account_id, name=name, opts=opts)
    return found.results.apply(lambda groups: groups[0].id)


def bucket_policy(
    account_id: str, jurisdiction: str, bucket_name: str, groups: list[str], opts: pulumi.InvokeOutputOptions
) -> cloudflare.AccountTokenPolicyArgs:
    """A token policy allowing the permission groups named ``groups`` on one bucket, nothing else."""
    return cloudflare.AccountTokenPolicyArgs(
        effect="allow",
        permission_groups=[
            cloudflare.AccountTokenPolicyPermissionGroupArgs(id=permission_group_id(account_id, group, opts))
            for group in groups
        ],
        resources=json.dumps({bucket_resource(account_id, jurisdiction, bucket_name): "*"}),
    )


def tier_token(
    resource_name: str,
    *,
    tier: contract.Tier,
    token_name: str,
    account_id: str,
    jurisdiction: str,
    bucket_name: str,
    opts: pulumi.ResourceOptions,
) -> TokenCredentials:
    token = cloudflare.AccountToken(
        resource_name,
        account_id=account_id,
        name=token_name,
        policies=[
            bucket_policy(
                account_id,
                jurisdiction,
                bucket_name,
                permission_groups(tier),
                pulumi.InvokeOutputOptions(parent=opts.parent),
            )
        ],
        opts=opts,
    )
    return token_credentials(token)


def token_credentials(token: cloudflare.AccountToken) -> TokenCredentials:
    """A token's S3 credentials: its id, and the SHA-256 of its value (R2 docs, "Authentication")."""
    return TokenCredentials(
        token=token,
        access_key_id=token.id,
        secret_access_key=pulumi.Output.secret(
            token.value.apply(lambda value: hashlib.sha256(value.encode()).hexdigest())
        ),
    )
