"""The minio sandbox: the real ``minio`` stack's outputs and its users' own policies in front of a
local stand-in for a MinIO server.

    python -m learning_images.sandbox.sandbox --stack minio

What stands in for what:

- **MinIO's S3 API**: the enforcing local S3, judging every request as MinIO does
  (``learning_images.sandbox.front --semantics minio``, ``minio_authorization``): by the caller's
  own policies alone, with MinIO's questions (a tagged upload is PutObject alone, a version read is
  GetObject, a version listing falls back to ListBucket). The local bucket keeps no bucket policy
  (the minio program declares none) and its default SSE-KMS key stands in for the KES key.
- **The users**: IAM users carrying the minio program's own rendered policies, guards and all, the
  bucket renamed to the local one: the Command Centre, training, and each city's (its own city id).
  Cities sign with the local stack's city keys.

Only names, addresses and keys are the stand-in's; backend, capabilities, lifecycle and the
policies are what the minio program exports.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from learning_images import contract
from learning_images.sandbox.front import MINIO
from learning_images.sandbox.local import LocalStore, client, local_store
from learning_images.sandbox.render import render
from learning_images.sandbox.stand_in import backend_config, become, stand_in_tiers

STACK = "minio"
#: What the minio sandbox stands in for (said in its report).
STANDS_IN = (
    "the enforcing local S3 stands in for MinIO's S3 API, judging each request by MinIO's questions and the "
    "caller's own policies alone",
    "IAM users carrying the minio program's rendered policies stand in for its MinIO users",
    "the local bucket's SSE-KMS key stands in for the KES key; MinIO's lifecycle is not held locally",
)


@functools.cache
def _rendered() -> str:
    graph = render(backend_config(STACK), stack=STACK)
    policies = {
        policy.name.removesuffix("-policy"): str(policy.inputs["policy"])
        for policy in graph.of_type("minio:index/iamPolicy:IamPolicy")
    }
    return json.dumps({"outputs": graph.outputs, "policies": policies})


def as_minio(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
    """Turn the provisioned local stack into the MinIO stand-in and ``outputs`` into the minio stack's."""
    rendered = json.loads(_rendered())
    real = rendered["outputs"]
    bucket, key_arn = outputs["bucket_name"], outputs["kms_key_arn"]
    # The program's policies name its bucket; the stand-in's is the local one.
    policies = {
        who: document.replace(f"arn:aws:s3:::{real['bucket_name']}", f"arn:aws:s3:::{bucket}")
        for who, document in rendered["policies"].items()
    }
    iam, group = stand_in_tiers(
        url, operator, real, bucket=bucket, policy=lambda tier: policies[tier.name], kind="user"
    )
    for user in iam.get_group(GroupName=group)["Users"]:
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user["UserName"])["Tags"]}
        city = tags[contract.CITY_ID]
        iam.put_user_policy(UserName=user["UserName"], PolicyName="minio-city", PolicyDocument=policies[f"city-{city}"])
    # SSE-KMS by default, as the minio program declares it, with the local key in the KES key's place.
    client(url, "s3", **operator).put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]
        },
    )
    real.update(city_credentials=outputs["city_credentials"], probe_credentials=outputs["probe_credentials"])
    become(outputs, real, url, kms_key_arn=key_arn)


@contextmanager
def shipped_store(*, engine: str = "applier") -> Iterator[LocalStore]:
    """The sandbox's entry (the backend table's ``stand_in``): the stand-in as shipped."""
    with local_store(engine=engine, tamper=as_minio, base_of=STACK, semantics=MINIO) as store:
        yield store
