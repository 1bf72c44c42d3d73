"""The gcs sandbox: the real ``gcs`` stack's outputs in front of a local stand-in for Cloud Storage.

    python -m learning_images.sandbox.sandbox --stack gcs        # make sandbox-gcs

There is no Cloud Storage emulator among the reachable packages, so the enforcing local S3 stands
in for Cloud Storage's XML API:

- **The bucket**: the local stack's, its bucket policy removed (Cloud Storage has none) and
  SSE-S3 in place of the KMS key (Cloud Storage encrypts with the bucket's key itself; callers
  need no key permission).
- **The tiers**: IAM users stand in for the tiers' service accounts and HMAC keys, each granted
  the S3 actions that the gcs program's own custom roles' permissions are
  (``learning_images.gcs.s3_actions``, nothing conditional). The city's IAM Condition (names ending
  in ``.jpg``) is evaluated offline (``learning_images.sandbox.gcs_iam``), not here.
- **Overwrites**: Cloud Storage refuses a city's overwrite because its role lacks delete; the
  stand-in cannot tell an overwrite from a create by IAM, so there the upload's ``If-None-Match``
  answers 412 instead. The offline evaluation is what proves the storage's refusal.

Only names, addresses and keys are the stand-in's; backend, capabilities and lifecycle are what
the gcs program exports. The cities are the local stack's, so the same city operates every sandbox.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from learning_images import gcs
from learning_images.sandbox.event_sources import gcs_event_source
from learning_images.sandbox.local import LocalStore, local_store
from learning_images.sandbox.render import GCP_PROJECT, render
from learning_images.sandbox.stand_in import backend_config, become, bucket_policy, stand_in_tiers

STACK = "gcs"
#: What the gcs sandbox stands in for (said in its report).
STANDS_IN = (
    "the enforcing local S3, without a bucket policy, stands in for Cloud Storage's XML API",
    "IAM users with each custom role's permissions stand in for the tiers' service accounts and HMAC keys",
    "the city grant's IAM Condition and the overwrite refusal are proven by the offline evaluation, not here",
    "Cloud Storage's lifecycle, soft delete and dual-region placement are not held locally",
    "a local stand-in of Pub/Sub's REST pull and token endpoint, fed with the local S3's own object events, stands "
    "in for the bucket's notifications and their subscription",
)


@functools.cache
def _rendered() -> str:
    graph = render(backend_config(STACK), stack=STACK)
    roles = {
        role.name.removesuffix("-role"): sorted(role.inputs["permissions"])
        for role in graph.of_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    }
    subscriptions = {s.name: s.inputs for s in graph.of_type("gcp:pubsub/subscription:Subscription")}
    deadline = int(subscriptions.get("registration-events", {}).get("ackDeadlineSeconds", 0))
    return json.dumps({"outputs": graph.outputs, "roles": roles, "ack_deadline_seconds": deadline})


def role_policy(permissions: list[str], bucket: str) -> str:
    """The stand-in IAM policy of a service account holding ``permissions`` on the bucket."""
    return bucket_policy(list(gcs.s3_actions(permissions)), bucket)


def as_gcs(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
    """Turn the provisioned local stack into the Cloud Storage stand-in and ``outputs`` into the gcs stack's."""
    rendered = json.loads(_rendered())
    real, roles = rendered["outputs"], rendered["roles"]
    bucket = outputs["bucket_name"]
    iam, group = stand_in_tiers(
        url,
        operator,
        real,
        bucket=bucket,
        policy=lambda tier: role_policy(roles[tier.name], bucket),
        kind="service-account",
    )
    iam.put_group_policy(GroupName=group, PolicyName="gcs-city-role", PolicyDocument=role_policy(roles["city"], bucket))
    # The local cities' keys stand in for their HMAC keys.
    real.update(city_credentials=outputs["city_credentials"], probe_credentials=outputs["probe_credentials"])
    # The rendered subscription is Google's: only the event source's stand-in (local_gcs_store) gives a local one.
    real["registration"] = None
    become(outputs, real, url, region=outputs["region"])


@contextmanager
def local_gcs_store(*, engine: str = "applier") -> Iterator[LocalStore]:
    """The Cloud Storage stand-in with the gcs stack's outputs, for the block."""
    rendered = json.loads(_rendered())
    with local_store(engine=engine, tamper=as_gcs, base_of="gcs") as store:
        receiver = role_policy(rendered["roles"].get("receiver", []), store.outputs["bucket_name"])
        registration = rendered["outputs"]["registration"]
        with gcs_event_source(store, registration, receiver, GCP_PROJECT, rendered["ack_deadline_seconds"]):
            yield store


#: The sandbox's entry (the backend table's ``stand_in``): the stand-in as shipped.
shipped_store = local_gcs_store
