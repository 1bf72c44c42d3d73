"""What every stand-in for a backend without AWS's guards does to the provisioned local stack
(``learning_images.sandbox.r2``, ``learning_images.sandbox.gcs``): the bucket without its policy or
customer key, the Command Centre and training tiers as IAM users holding what the backend's own
credentials allow, and the outputs swapped for the backend program's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from learning_images import contract
from learning_images.sandbox.local import client
from learning_images.sandbox.render import stack_config


def backend_config(stack: str) -> dict[str, str]:
    """``Pulumi.<stack>.yaml`` with the local stack's cities: the same city operates every sandbox."""
    config = stack_config(stack)
    config["learning-images:cityIds"] = stack_config("local")["learning-images:cityIds"]
    return config


def bucket_policy(actions: list[str], bucket: str, *, objects_only: bool = False) -> str:
    """An identity policy allowing ``actions`` on the bucket and its objects (or its objects only)."""
    resources = [f"arn:aws:s3:::{bucket}/*"] if objects_only else [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def stand_in_user(iam: Any, name: str, policy: str) -> dict[str, str]:
    """An IAM user holding ``policy``, and its key: a backend credential's stand-in."""
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="stand-in", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def stand_in_tiers(
    url: str,
    operator: dict[str, str],
    real: dict[str, Any],
    *,
    bucket: str,
    policy: Callable[[contract.Tier], str],
    kind: str,
) -> tuple[Any, str]:
    """Strip the local bucket of AWS's guards (no bucket policy, encryption by the backend's own keys:
    no customer key for a tier to be granted) and put the Command Centre and training tiers, as IAM
    users named ``<tier>-<kind>`` holding ``policy(tier)``, into the backend's outputs ``real``.
    Returns the IAM client and the city group's name, its policies removed, for the caller to grant."""
    iam = client(url, "iam", **operator)
    for tier in (contract.COMMAND_CENTRE, contract.TRAINING):
        key = stand_in_user(iam, f"{tier.name}-{kind}", policy(tier))
        real[f"{tier.name.replace('-', '_')}_credentials"] = {"city_id": tier.name, **key}
    s3 = client(url, "s3", **operator)
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    (group,) = [g["GroupName"] for g in iam.list_groups()["Groups"] if g["GroupName"].startswith("city")]
    for name in iam.list_group_policies(GroupName=group)["PolicyNames"]:
        iam.delete_group_policy(GroupName=group, PolicyName=name)
    return iam, str(group)


def become(outputs: dict[str, Any], real: dict[str, Any], url: str, **local: Any) -> None:
    """Replace the local stack's ``outputs`` with the backend program's ``real`` ones, pointed at the
    local bucket and endpoint (the verifier must know it talks to an emulator), plus ``local``."""
    real.update(bucket_name=outputs["bucket_name"], endpoint_url=url, emulator=True, **local)
    outputs.clear()
    outputs.update(real)
