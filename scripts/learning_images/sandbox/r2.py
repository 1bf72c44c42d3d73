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

from learning_images import contract
from learning_images import r2 as r2_tokens
from learning_images.sandbox.event_sources import r2_event_source
from learning_images.sandbox.gateway import local_gateway, rendered_bindings, s3_bucket
from learning_images.sandbox.local import REGION, LocalStore, client, local_store
from learning_images.sandbox.render import render
from learning_images.sandbox.stand_in import backend_config, become, bucket_policy, stand_in_tiers, stand_in_user

STACK = "r2"
#: What the R2 sandbox stands in for (said in its report, as NOT_LOCAL is for the local stack).
STANDS_IN = (
    "the enforcing local S3, without a bucket policy, stands in for R2's S3 API",
    "IAM users with each R2 token's permissions stand in for the Command Centre and training tokens",
    "the upload gateway runs in the real Workers runtime (workerd) with the r2 program's own bindings",
    "R2's bucket lock and lifecycle are not held locally",
    "a local stand-in of the Cloudflare Queues pull API, fed with the local S3's own object events, stands in for "
    "R2's event notifications and their queue",
)
#: What an R2 bucket-scoped token's permission groups allow, as the S3 actions of the stand-in
#: (R2 docs, "API tokens": Object Read reads and lists, Object Read & Write also writes and deletes).
R2_GROUP_ACTIONS = {
    r2_tokens.ITEM_READ: ["s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
    r2_tokens.ITEM_WRITE: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
}
#: What a Worker's R2 binding may do to its bucket, for the gateway's stand-in binding: the
#: gateway only ever writes (``put``), so that is all its stand-in user is granted.
BINDING_ACTIONS = ["s3:PutObject"]


def r2_config(*, gateway: bool) -> dict[str, str]:
    """``Pulumi.r2.yaml`` with the local stack's cities, with or without the upload gateway."""
    config = backend_config(STACK)
    if not gateway:
        config = {k: v for k, v in config.items() if not k.startswith("learning-images:r2Gateway")}
        config["learning-images:r2UploadGateway"] = "false"
    return config


@functools.cache
def _rendered(gateway: bool) -> str:
    graph = render(r2_config(gateway=gateway), stack=STACK)
    return json.dumps({"outputs": graph.outputs, "gateway": rendered_bindings(graph) if gateway else None})


def token_policy(tier: contract.Tier, bucket: str) -> str:
    """The stand-in IAM policy of an R2 token of ``tier`` (the r2 program's own permission groups)."""
    actions = [a for group in r2_tokens.permission_groups(tier) for a in R2_GROUP_ACTIONS[group]]
    return bucket_policy(actions, bucket)


def as_r2(url: str, outputs: dict[str, Any], operator: dict[str, str], *, gateway: bool) -> None:
    """Turn the provisioned local stack into the R2 stand-in and ``outputs`` into the r2 stack's."""
    real = json.loads(_rendered(gateway))["outputs"]
    bucket = outputs["bucket_name"]
    iam, group = stand_in_tiers(
        url, operator, real, bucket=bucket, policy=lambda tier: token_policy(tier, bucket), kind="token"
    )
    if gateway:
        # Cities hold gateway keys and nothing valid at the store itself.
        for user in iam.get_group(GroupName=group)["Users"]:
            for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"])
    else:
        iam.put_group_policy(GroupName=group, PolicyName="r2-token", PolicyDocument=token_policy(contract.CITY, bucket))
        real.update(city_credentials=outputs["city_credentials"], probe_credentials=outputs["probe_credentials"])
    # The rendered queue is Cloudflare's: only the event source's stand-in (local_r2_store) gives a local one.
    real["registration"] = None
    become(outputs, real, url)


@contextmanager
def local_r2_store(*, gateway: bool = True, engine: str = "applier", enforce: bool = True) -> Iterator[LocalStore]:
    """The R2 stand-in, and with ``gateway`` the upload gateway in front of it, for the block.
    ``enforce=False``: the stand-in skips evaluating its users' policies (for benchmarks: R2 judges
    a token by its permission groups, at no cost comparable to an IAM evaluation)."""
    tamper = functools.partial(as_r2, gateway=gateway)
    with (
        local_store(engine=engine, tamper=tamper, enforce=enforce, base_of="r2") as store,
        r2_event_source(
            store,
            json.loads(_rendered(gateway))["outputs"]["registration"],
            bucket_policy(R2_GROUP_ACTIONS[r2_tokens.ITEM_READ], store.outputs["bucket_name"]),
        ),
    ):
        if not gateway:
            yield store
            return
        bindings = json.loads(_rendered(True))["gateway"]
        bucket = store.outputs["bucket_name"]
        iam = client(store.url, "iam", **store.operator)
        binding = stand_in_user(
            iam, "gateway-bucket-binding", bucket_policy(BINDING_ACTIONS, bucket, objects_only=True)
        )
        tls = store.ca_bundle.parent
        with local_gateway(
            contract={**bindings["contract"], "bucket": bucket},
            gateway_secret=bindings["secret"],
            cities=bindings["cities"],
            tls_cert=tls / "server.pem",
            tls_key=tls / "server-key.pem",
            bucket=s3_bucket(store.plain_url, REGION, bucket, binding["access_key_id"], binding["secret_access_key"]),
        ) as running:
            store.outputs["city_endpoint_url"] = running.url
            store.outputs_file.write_text(json.dumps(store.outputs))
            yield replace(store, gateway=running)


#: The sandbox's entry (the backend table's ``stand_in``): the stand-in as shipped.
shipped_store = local_r2_store
