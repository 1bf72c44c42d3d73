"""The stand-in for a backend the upload gateway always fronts (its row's ``gateway_only``: Spaces,
B2): the backend program's outputs, its gateway, and the enforcing local S3 in the backend's place.

- **The backend's S3 API**: the enforcing local S3 with the local stack's bucket, its bucket policy
  removed (neither backend's store declares one). IAM users holding the S3 actions each of the
  backend's keys allows (nothing conditional: neither backend's keys take conditions) stand in for
  the Command Centre's and training's keys.
- **The upload gateway**: the very Worker the stack deploys (``dist/worker.js``) in workerd, with
  the program's own contract, secret and city keys, writing through its S3 target (the ``S3_*``
  bindings, as the stack binds it) with a stand-in of the key only the gateway holds. Cities sign
  with the stack's own gateway keys and hold nothing valid at the store.

- **The events**, where the program registers through the gateway (B2's webhooks): Cloudflare Queues'
  stand-in as the queue the gateway's ``EVENTS`` binding sends to and the receiver pulls, and the
  backend's notifier (``Notifier``) delivering the local S3's events to the gateway's webhook,
  signed with the program's own secret, before each pull.

Only names, addresses and keys are the stand-in's; backend, capabilities and lifecycle are what the
backend's program exports. The cities are the local stack's, so the same city operates every sandbox.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from learning_images import gateway
from learning_images.sandbox.event_sources import local_queue, webhook_event_source
from learning_images.sandbox.gateway import local_gateway, rendered_bindings, s3_bucket
from learning_images.sandbox.local import REGION, LocalStore, client, local_store
from learning_images.sandbox.render import Graph, render
from learning_images.sandbox.stand_in import backend_config, become, bucket_policy, stand_in_tiers, stand_in_user

#: What every gateway-fronted stand-in stands in for (each backend's module adds its own).
STANDS_IN = (
    "the enforcing local S3, without a bucket policy, stands in for the backend's S3 API",
    "the upload gateway runs in the real Workers runtime (workerd) with the program's own bindings, writing "
    "through its S3 target",
)
#: What the gateway does to the bucket, for the stand-in of the key it writes with: it only puts.
GATEWAY_ACTIONS = ["s3:PutObject"]
#: Reads the S3 actions each tier's key allows out of the rendered program: tier name -> actions
#: (and the receiver's key's, as ``receiver``, where the program registers).
TierActions = Callable[[Graph], dict[str, list[str]]]
#: A backend's notifier: (SQS client, the local S3's events queue, the gateway's webhook, the
#: signing secret, the CA the gateway's certificate is signed by) -> what runs before each pull.
Notifier = Callable[[Any, str, str, str, Path], Callable[[], list[tuple[str, dict[str, str]]]]]


@functools.cache
def _rendered(stack: str, tier_actions: TierActions) -> str:
    graph = render(backend_config(stack), stack=stack)
    return json.dumps({"outputs": graph.outputs, "gateway": rendered_bindings(graph), "tiers": tier_actions(graph)})


@contextmanager
def fronted_store(
    stack: str, tier_actions: TierActions, *, engine: str = "applier", notifier: Notifier | None = None
) -> Iterator[LocalStore]:
    """The stand-in of ``stack`` behind its gateway, for the block. ``tier_actions``: the S3 actions
    each tier's key allows, read from the rendered program (its keys' grants or capabilities);
    ``notifier``: how the backend delivers its events to the gateway, where its program registers."""
    rendered = json.loads(_rendered(stack, tier_actions))
    actions: dict[str, list[str]] = rendered["tiers"]

    def as_backend(url: str, outputs: dict[str, object], operator: dict[str, str]) -> None:
        real = dict(rendered["outputs"])
        bucket = str(outputs["bucket_name"])
        iam, group = stand_in_tiers(
            url,
            operator,
            real,
            bucket=bucket,
            policy=lambda tier: bucket_policy(actions[tier.name], bucket),
            kind="key",
        )
        # Cities hold gateway keys and nothing valid at the store itself.
        for user in iam.get_group(GroupName=group)["Users"]:
            for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"])
        become(outputs, real, url)

    with local_store(engine=engine, tamper=as_backend, base_of=stack) as store:
        bucket = store.outputs["bucket_name"]
        iam = client(store.url, "iam", **store.operator)
        writer = stand_in_user(iam, "gateway-writer", bucket_policy(GATEWAY_ACTIONS, bucket, objects_only=True))
        bindings = rendered["gateway"]
        tls = store.ca_bundle.parent
        registration = rendered["outputs"].get("registration") if notifier else None
        receiver = bucket_policy(actions.get("receiver", []), bucket, objects_only=True)
        with (
            webhook_event_source(store, registration, receiver) as events,
            local_gateway(
                contract={**bindings["contract"], "bucket": bucket},
                gateway_secret=bindings["secret"],
                cities=bindings["cities"],
                tls_cert=tls / "server.pem",
                tls_key=tls / "server-key.pem",
                bucket=s3_bucket(
                    store.plain_url, REGION, bucket, writer["access_key_id"], writer["secret_access_key"], deployed=True
                ),
                events={**events[1], "signing_secret": bindings["events_secret"]} if events else None,
            ) as running,
        ):
            if events and notifier:
                sqs, queue = local_queue(store)
                events[0].feed = notifier(
                    sqs, queue, gateway.events_url(running.url), bindings["events_secret"], store.ca_bundle
                )
            store.outputs["city_endpoint_url"] = running.url
            store.outputs_file.write_text(json.dumps(store.outputs))
            yield replace(store, gateway=running)
