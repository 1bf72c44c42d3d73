"""The b2 backend, as Pulumi.b2.yaml renders it under mocks: the bucket and keys as the project's
dynamic resources, and cities that hold gateway keys alone. What the catalogue's b2 column
declares, each test proves once; that the provider makes the bucket allPrivate with SSE-B2 and
Object Lock from its creation is tests/test_b2_provider.py's, against b2sdk's simulator."""

from __future__ import annotations

from typing import Any

import pytest

from learning_images import b2, contract, gateway
from learning_images.sandbox.render import Resource
from learning_images_infra.settings import PROJECT, SettingsError, parse_settings
from tests.support.stack import Graph, render, revealed, stack_config, worker_bindings

DYNAMIC = "pulumi-python:dynamic:Resource"
#: Capabilities that set a file's own lock: none of the store's keys may hold them (GDPR erasure).
LOCK_CAPABILITIES = {"writeFileRetentions", "writeFileLegalHolds"}


@pytest.fixture(scope="module")
def graph() -> Graph:
    return render(stack_config("b2"), stack="b2")


def _bucket(graph: Graph) -> Resource:
    (bucket,) = [r for r in graph.of_type(DYNAMIC) if "lock_mode" in r.inputs]
    return bucket


def _keys(graph: Graph) -> dict[str, Resource]:
    return {
        r.inputs["key_name"].removeprefix(f"{PROJECT}-b2-"): r for r in graph.of_type(DYNAMIC) if "key_name" in r.inputs
    }


def test_the_bucket_is_private_locked_and_encrypted(graph: Graph) -> None:
    bucket = _bucket(graph)
    days = contract.CONTRACT_PERIODS.unsure_expiry_days
    assert (bucket.inputs["lock_mode"], bucket.inputs["lock_days"]) == ("governance", days), (
        f"{bucket.name}: objects locked against deletion, governance for {days} days (the Command Centre may erase)"
    )
    assert graph.outputs["bucket_lock_days"] == days, "the outputs say how long the lock holds"


def test_the_lifecycle_deletes_only_hidden_versions(graph: Graph) -> None:
    (rule,) = _bucket(graph).inputs["lifecycle_rules"]
    days = contract.CONTRACT_PERIODS.noncurrent_version_expiry_days
    assert rule == {"fileNamePrefix": "", "daysFromHidingToDeleting": days}, (
        f"deleted objects stay recoverable for {days} days, and no live file is hidden by age: {rule}"
    )


def test_each_tier_key_holds_exactly_its_capabilities(graph: Graph) -> None:
    keys = _keys(graph)
    assert set(keys) == {"command-centre", "training", "upload-gateway", "receiver"}, f"keys: {sorted(keys)}"
    bucket_id = _bucket(graph).outputs["bucket_id"]
    for who, key in keys.items():
        assert key.inputs["bucket_id"] == bucket_id, f"{who}'s key is not scoped to the store's bucket"
        held = set(key.inputs["capabilities"])
        assert not held & LOCK_CAPABILITIES, f"no upload sets its own lock: {who} holds {held & LOCK_CAPABILITIES}"
    assert set(keys["training"].inputs["capabilities"]) == {"listFiles", "readFiles"}, "training is read-only"
    assert keys["receiver"].inputs["capabilities"] == ["readFiles"], "the receiver reads what it registers, only"
    deleters = {
        who for who, key in keys.items() if {"deleteFiles", "bypassGovernance"} & set(key.inputs["capabilities"])
    }
    assert deleters == {"command-centre"}, f"GDPR erasure is the Command Centre's alone: {deleters}"


def test_cities_hold_gateway_keys_and_no_b2_key(graph: Graph) -> None:
    outputs = graph.outputs
    b2_keys = {key.outputs["application_key_id"] for key in _keys(graph).values()}
    for city, credentials in {**outputs["city_credentials"], "probe": outputs["probe_credentials"]}.items():
        assert credentials["access_key_id"] not in b2_keys, f"city {city} holds a B2 key: upload-only is lost"
    assert outputs["city_endpoint_url"] and outputs["capabilities"]["upload_gateway"], "cities upload at the gateway"


def test_a_b2_stack_needs_its_region_and_refuses_lock_settings_naming_them() -> None:
    config = {
        f"{PROJECT}:backend": "b2",
        f"{PROJECT}:cloudflareAccountId": "0123456789abcdef0123456789abcdef",
        f"{PROJECT}:r2WorkersSubdomain": "example",
        f"{PROJECT}:replication": "false",
        f"{PROJECT}:objectLockMode": "COMPLIANCE",
    }
    with pytest.raises(SettingsError) as raised:
        parse_settings(config)
    message = str(raised.value)
    assert f"{PROJECT}:b2Region: is required for the b2 backend" in message, message
    assert f"{PROJECT}:objectLockMode" in message and "governance" in message, message
    with pytest.raises(SettingsError, match="not a B2 region"):
        parse_settings(
            {
                **{k: v for k, v in config.items() if not k.endswith("objectLockMode")},
                f"{PROJECT}:b2Region": "eu-west-1",
            }
        )


# --- registration: B2's webhooks, through the gateway, onto a queue the receiver pulls ------------


def _rule(graph: Graph) -> dict[str, Any]:
    (rules,) = [r for r in graph.of_type(DYNAMIC) if "rules" in r.inputs]
    found: list[dict[str, Any]] = revealed(rules.inputs["rules"])
    (rule,) = found
    return rule


def _bindings(graph: Graph) -> dict[str, dict[str, Any]]:
    (script,) = graph.of_type("cloudflare:index/workersScript:WorkersScript")
    return worker_bindings(script)


def test_the_bucket_notifies_every_event_signed_to_the_gateways_webhook(graph: Graph) -> None:
    rule, bindings = _rule(graph), _bindings(graph)
    target: dict[str, Any] = rule["targetConfiguration"]
    assert target["url"] == graph.outputs["city_endpoint_url"] + gateway.EVENTS_PATH, (
        f"rule {rule['name']}: B2's events go to the upload gateway's webhook, got {target['url']}"
    )
    assert sorted(rule["eventTypes"]) == sorted(b2.EVENT_TYPES) and rule["objectNamePrefix"] == "", (
        f"rule {rule['name']}: every object created, deleted or hidden, unfiltered"
    )
    secret = target["hmacSha256SigningSecret"]
    assert isinstance(secret, str) and len(secret) == b2.SIGNING_SECRET_LENGTH, "deliveries are signed"
    assert revealed(bindings[gateway.EVENTS_SECRET_BINDING]["text"]) == secret, (
        "the Worker checks deliveries with the secret the rule signs them with"
    )


def test_the_rule_is_declared_once_the_gateway_answers_and_its_queue_has_a_consumer(graph: Graph) -> None:
    (rules,) = [r for r in graph.of_type(DYNAMIC) if "rules" in r.inputs]
    waits_for = graph.depends_on[rules.name]
    needed = {"upload-gateway", "upload-gateway-workers-dev", "registration-consumer"}
    assert needed <= waits_for, f"rule {rules.name}: B2 would post before {sorted(needed - waits_for)} exist"


def test_the_gateway_queues_events_where_the_receiver_pulls_them(graph: Graph) -> None:
    queue_name = _bindings(graph)[gateway.EVENTS_QUEUE_BINDING]["queueName"]
    (queue,) = [q for q in graph.of_type("cloudflare:index/queue:Queue") if q.inputs["queueName"] == queue_name]
    registration = graph.outputs["registration"]
    assert registration["source"] == "cloudflare-queues" and registration["message_format"] == "b2-webhook", (
        f"the receiver reads B2's events from a Cloudflare Queue: {registration}"
    )
    assert registration["queue_url"].endswith(f"/queues/{queue.outputs['queueId']}"), (
        f"queue {queue_name}: the receiver pulls the queue the gateway sends to"
    )
    (consumer,) = graph.of_type("cloudflare:index/queueConsumer:QueueConsumer")
    assert consumer.inputs["type"] == "http_pull" and consumer.inputs["deadLetterQueue"], (
        f"queue {queue_name}: pulled over HTTP, with a dead-letter queue for events that keep failing"
    )


def test_the_receiver_reads_objects_with_its_own_read_only_key(graph: Graph) -> None:
    credentials = graph.outputs["registration"]["receiver_credentials"]
    receiver = _keys(graph)["receiver"]
    assert credentials["access_key_id"] == receiver.outputs["application_key_id"], "the receiver's own B2 key"
    assert credentials["api_token"], "and the Cloudflare token it pulls the queue with"


def test_registration_off_declares_no_rule_no_queue_and_no_output() -> None:
    off = render(stack_config("b2") | {f"{PROJECT}:registration": "false"}, stack="b2")
    assert not [r for r in off.of_type(DYNAMIC) if "rules" in r.inputs], "no notification rule"
    assert not off.of_type("cloudflare:index/queue:Queue"), "no queue"
    assert gateway.EVENTS_QUEUE_BINDING not in _bindings(off), "the gateway takes no events"
    assert off.outputs["registration"] is None and "receiver" not in _keys(off), "no output, no receiver key"
