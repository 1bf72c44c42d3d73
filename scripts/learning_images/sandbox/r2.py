"""The R2 sandbox: the real ``r2`` stack's outputs, its upload gateway, and a local stand-in for R2.

    python -m learning_images.sandbox.sandbox --stack r2        # make sandbox-r2

What runs locally, and what stands in for what:

- **R2's S3 API**: the enforcing local S3 with the local stack's bucket, its bucket policy
  removed (R2 has none). IAM users carrying exactly what each R2 token's permission groups allow
  (:data:`R2_GROUP_ACTIONS`, nothing conditional: R2 tokens have no conditions) stand in for the
  Command Centre and training tokens.
- **The upload gateway** (the r2 stack's default): the very Worker the stack deploys, in the real
  Workers runtime (workerd through Miniflare), with the stack's own bindings as the program
  renders them: the ``CONTRACT`` document, the gateway secret, and the ``CITIES`` KV entries.
  Its ``BUCKET`` binding writes into the stand-in (over plain HTTP on 127.0.0.1: workerd trusts no
  local certificate authority), so the Command Centre and training tiers read what cities upload.
  Cities sign with the stack's own gateway keys.
- **Without the gateway** (``r2UploadGateway: false``): an IAM user with a city token's
  permissions stands in for each city's R2 token.

Only names and addresses are the stand-in's (the bucket, the endpoints, the tier tokens'
credentials); everything else in the outputs (backend, capabilities, lifecycle, lock days, the
cities' gateway keys) is what the r2 program exports. The cities are the local stack's, so the
same city operates both sandboxes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from infra.r2 import access as r2_access
from learning_images import contract
from learning_images.sandbox.gateway import local_gateway, s3_bucket
from learning_images.sandbox.render import Graph, render, stack_config
from learning_images.sandbox.sandbox import REGION, LocalStore, client, local_store

STACK = "r2"
#: What an R2 bucket-scoped token's permission groups allow, as the S3 actions of the stand-in
#: (R2 docs, "API tokens": Object Read reads and lists, Object Read & Write also writes and deletes).
R2_GROUP_ACTIONS = {
    r2_access.ITEM_READ: ["s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
    r2_access.ITEM_WRITE: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
}
#: What a Worker's R2 binding may do to its bucket, for the gateway's stand-in binding: the
#: gateway only ever writes (``put``), so that is all its stand-in user is granted.
BINDING_ACTIONS = ["s3:PutObject"]


def r2_config(*, gateway: bool) -> dict[str, str]:
    """``Pulumi.r2.yaml`` with the local stack's cities, with or without the upload gateway."""
    config = stack_config(STACK)
    config["learning-images:cityIds"] = stack_config("local")["learning-images:cityIds"]
    if not gateway:
        config = {k: v for k, v in config.items() if not k.startswith("learning-images:r2Gateway")}
        config["learning-images:r2UploadGateway"] = "false"
    return config


@functools.cache
def _rendered(gateway: bool) -> str:
    graph = render(r2_config(gateway=gateway), stack=STACK)
    return json.dumps({"outputs": graph.outputs, "gateway": _gateway_bindings(graph) if gateway else None})


def _gateway_bindings(graph: Graph) -> dict[str, Any]:
    """What the rendered program binds the Worker to: its contract, its secret, its city keys."""
    script = graph.one("cloudflare:index/workersScript:WorkersScript")
    bindings = script["bindings"]
    listed = bindings.get("value", bindings) if isinstance(bindings, dict) else bindings
    by_name = {binding["name"]: binding for binding in listed}
    return {
        "contract": json.loads(by_name["CONTRACT"]["json"]),
        "secret": by_name["GATEWAY_SECRET"]["text"],
        "cities": {
            entry["keyName"]: json.loads(entry["value"])["city_id"]
            for entry in graph.of_type("cloudflare:index/workersKv:WorkersKv")
        },
    }


def token_policy(tier: contract.Tier, bucket: str) -> str:
    """The stand-in IAM policy of an R2 token of ``tier`` (the r2 program's own permission groups)."""
    actions = [a for group in r2_access.permission_groups(tier) for a in R2_GROUP_ACTIONS[group]]
    return _policy(actions, [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])


def _policy(actions: list[str], resources: list[str]) -> str:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def stand_in_user(iam: Any, name: str, policy: str) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="r2-stand-in", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def without_aws_guards(url: str, operator: dict[str, str], bucket: str) -> str:
    """The local bucket as a backend without AWS's guards sees it: no bucket policy, encryption at rest
    by the backend's own keys (no customer key for a tier to be granted), and a city group with no
    policy yet. Returns the city group's name, for the stand-in to grant."""
    s3 = client(url, "s3", **operator)
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    iam = client(url, "iam", **operator)
    (group,) = [g["GroupName"] for g in iam.list_groups()["Groups"] if g["GroupName"].startswith("city")]
    for name in iam.list_group_policies(GroupName=group)["PolicyNames"]:
        iam.delete_group_policy(GroupName=group, PolicyName=name)
    return str(group)


def as_r2(url: str, outputs: dict[str, Any], operator: dict[str, str], *, gateway: bool) -> None:
    """Turn the provisioned local stack into the R2 stand-in and ``outputs`` into the r2 stack's."""
    real = json.loads(_rendered(gateway))["outputs"]
    bucket = outputs["bucket_name"]
    iam = client(url, "iam", **operator)
    for tier in (contract.COMMAND_CENTRE, contract.TRAINING):
        key = stand_in_user(iam, f"{tier.name}-token", token_policy(tier, bucket))
        real[f"{tier.name.replace('-', '_')}_credentials"] = {"city_id": tier.name, **key}
    group = without_aws_guards(url, operator, bucket)
    if gateway:
        # Cities hold gateway keys and nothing valid at the store itself.
        for user in iam.get_group(GroupName=group)["Users"]:
            for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"])
    else:
        iam.put_group_policy(GroupName=group, PolicyName="r2-token", PolicyDocument=token_policy(contract.CITY, bucket))
        real.update(city_credentials=outputs["city_credentials"], probe_credentials=outputs["probe_credentials"])
    # The endpoint is the local emulator, not R2: the verifier must know what it is talking to.
    real.update(bucket_name=bucket, endpoint_url=url, emulator=True)
    outputs.clear()
    outputs.update(real)


@contextmanager
def local_r2_store(*, gateway: bool = True, engine: str = "applier", enforce: bool = True) -> Iterator[LocalStore]:
    """The R2 stand-in, and with ``gateway`` the upload gateway in front of it, for the block.
    ``enforce=False``: the stand-in skips evaluating its users' policies (for benchmarks: R2 judges
    a token by its permission groups, at no cost comparable to an IAM evaluation)."""
    tamper = functools.partial(as_r2, gateway=gateway)
    with local_store(engine=engine, tamper=tamper, enforce=enforce) as store:
        if not gateway:
            yield store
            return
        bindings = json.loads(_rendered(True))["gateway"]
        bucket = store.outputs["bucket_name"]
        iam = client(store.url, "iam", **store.operator)
        binding = stand_in_user(iam, "gateway-bucket-binding", _policy(BINDING_ACTIONS, [f"arn:aws:s3:::{bucket}/*"]))
        tls = store.ca_bundle.parent
        with local_gateway(
            contract={**bindings["contract"], "bucket": bucket},
            gateway_secret=bindings["secret"],
            cities=bindings["cities"],
            tls_cert=tls / "server.pem",
            tls_key=tls / "server-key.pem",
            bucket=s3_bucket(store.plain_url, REGION, bucket, **binding),
        ) as running:
            store.outputs["city_endpoint_url"] = running.url
            store.outputs_file.write_text(json.dumps(store.outputs))
            yield replace(store, gateway=running)
