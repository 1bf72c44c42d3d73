"""Registration's event source as the R2 program declares it (under Pulumi's mocks): the bucket's
event rule, the Cloudflare Queue with its HTTP pull consumer and dead-letter queue, and the
receiver's token."""

from __future__ import annotations

import json

import pytest

from learning_images import r2 as r2_data
from learning_images.outputs import parse_outputs
from tests.support.stack import Graph, render, stack_config

QUEUE = "cloudflare:index/queue:Queue"
CONSUMER = "cloudflare:index/queueConsumer:QueueConsumer"
NOTIFICATION = "cloudflare:index/r2BucketEventNotification:R2BucketEventNotification"
TOKEN = "cloudflare:index/accountToken:AccountToken"
ACCOUNT = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def r2() -> Graph:
    return render(stack_config("r2"), stack="r2")


def test_the_bucket_sends_every_creation_and_removal_to_the_events_queue_once_it_has_a_consumer(r2: Graph) -> None:
    (notification,) = r2.of_type(NOTIFICATION)
    events = r2.one(QUEUE, "registration-events")
    assert notification["queueId"] == events.outputs["queueId"], f"{notification.urn}: must target the events queue"
    (rule,) = notification["rules"]
    assert set(rule["actions"]) == set(r2_data.EVENT_ACTIONS), f"{notification.urn}: actions {rule['actions']}"
    assert not rule.get("prefix") and not rule.get("suffix"), "an object outside a filter would never be registered"
    assert notification["jurisdiction"] == "eu", f"{notification.urn}: the bucket's jurisdiction"
    assert "registration-consumer" in r2.depends_on[notification.name], (
        f"{notification.urn}: must wait for the queue's consumer"
    )


def test_the_queue_is_pulled_over_http_and_dead_letters_after_its_retries(r2: Graph) -> None:
    (consumer,) = r2.of_type(CONSUMER)
    dead = r2.one(QUEUE, "registration-dead-letters")
    assert consumer["type"] == "http_pull", f"{consumer.urn}: the receiver pulls over Cloudflare's API"
    assert consumer["queueId"] == r2.one(QUEUE, "registration-events").outputs["queueId"]
    assert consumer["deadLetterQueue"] == dead["queueName"], f"{consumer.urn}: must dead-letter to {dead.name}"
    assert consumer["settings"]["maxRetries"] >= 3, "a short database outage must not dead-letter events"
    outputs = parse_outputs(r2.outputs, "the r2 render")
    assert outputs.registration is not None
    assert outputs.registration.max_receives == consumer["settings"]["maxRetries"] + 1


def test_the_receiver_token_reads_the_bucket_and_pulls_queues_and_nothing_else(r2: Graph) -> None:
    token = r2.one(TOKEN, "receiver-token")
    scopes = {}
    for policy in token["policies"]:
        (resource,) = json.loads(policy["resources"])
        scopes[resource] = {group["id"] for group in policy["permissionGroups"]}
    bucket = f"com.cloudflare.edge.r2.bucket.{ACCOUNT}_eu_learning-images-r2"
    assert set(scopes) == {bucket, r2_data.account_resource(ACCOUNT)}, f"{token.urn}: reaches {sorted(scopes)}"
    assert scopes[r2_data.account_resource(ACCOUNT)] == set(r2_data.QUEUE_PERMISSION_GROUP_IDS), (
        f"{token.urn}: its account-wide policy must hold the Queues groups only"
    )
    assert len(scopes[bucket]) == 1, f"{token.urn}: object read only on the bucket"


def test_the_registration_output_names_the_queues_and_holds_the_receiver_credential_as_a_secret(r2: Graph) -> None:
    outputs = parse_outputs(r2.outputs, "the r2 render")
    registration = outputs.registration
    assert registration is not None and registration.source == "cloudflare-queues"
    events, dead = r2.one(QUEUE, "registration-events"), r2.one(QUEUE, "registration-dead-letters")
    assert registration.queue_url == r2_data.queue_url(ACCOUNT, events.outputs["queueId"])
    assert registration.dead_letter_queue_url == r2_data.queue_url(ACCOUNT, dead.outputs["queueId"])
    credentials = registration.receiver_credentials
    assert credentials is not None and credentials.api_token is not None
    assert credentials.access_key_id == r2.one(TOKEN, "receiver-token").id
    assert r2.secret_outputs["registration"], "the registration output holds the receiver's token: a secret"
    assert outputs.city_kit("amsterdam").registration is None, "a city's kit carries no receiver credential"


def test_registration_off_declares_no_queue_and_no_receiver() -> None:
    graph = render({**stack_config("r2"), "learning-images:registration": "false"}, stack="r2")
    found = [r.name for r in graph if r.type in (QUEUE, CONSUMER, NOTIFICATION) or r.name == "receiver-token"]
    assert not found, f"registration off still declares {found}"
    assert graph.outputs["registration"] is None
