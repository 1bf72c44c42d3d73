"""The upload gateway as a store's event webhook (B2's event notifications), in the real Workers
runtime: a delivery signed with the rule's secret has its events queued for the receiver, each as
one message of the queue (its stand-in, Cloudflare Queues' REST API); any other is refused and
queues nothing. Deliveries are posted as B2 posts them, and as a forger would."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from learning_images import b2, gateway
from learning_images.sandbox.gateway import GatewayUnavailableError, LocalGateway, local_gateway
from learning_images.sandbox.queues import CloudflareQueues, StandInQueue, serving
from tests.support.gateway import BUCKET, tls_files

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "gateway-queue-token"  # the stand-in's, not a secret
SIGNING_SECRET = secrets.token_hex(16)  # 32 alphanumeric characters, as B2's rules take


@dataclass(frozen=True)
class Running:
    gateway: LocalGateway
    queue: StandInQueue
    ca: Path

    def deliver(self, body: bytes, signature: str | None, method: str = "POST") -> requests.Response:
        headers = {"content-type": "application/json"}
        if signature is not None:
            headers[b2.SIGNATURE_HEADER] = signature
        return requests.request(
            method, self.gateway.url + gateway.EVENTS_PATH, data=body, headers=headers, verify=str(self.ca), timeout=10
        )

    def queued(self) -> list[Any]:
        held = self.queue.pull(100, 60)
        self.queue.acknowledge([m.lease for m in held if m.lease is not None])
        return [json.loads(m.body) for m in held]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    cert, key, ca = tls_files(tmp_path_factory.mktemp("gateway-events"))
    queue = StandInQueue(max_deliveries=10**9)
    with serving(CloudflareQueues(ACCOUNT, TOKEN, {"events": queue})) as server:
        assert isinstance(server, CloudflareQueues)
        try:
            with local_gateway(
                contract=gateway.worker_contract(BUCKET),
                gateway_secret=secrets.token_hex(32),
                cities={},
                tls_cert=cert,
                tls_key=key,
                events={"queue_url": server.queue_url("events"), "token": TOKEN, "signing_secret": SIGNING_SECRET},
            ) as found:
                yield Running(found, queue, ca)
        except GatewayUnavailableError as exc:
            pytest.fail(f"the gateway cannot run in the Workers runtime here: {exc}")


@pytest.fixture(autouse=True)
def empty(running: Running) -> None:
    running.queued()


def b2_event(name: str, event_type: str = "b2:ObjectCreated:Upload") -> dict[str, Any]:
    """One event as B2's deliveries carry it (Event Notifications Reference Guide)."""
    return {
        "accountId": "e85c6a500333",
        "bucketId": "aea8c5bc362ae55070130333",
        "bucketName": BUCKET,
        "eventId": secrets.token_hex(16),
        "eventTimestamp": 1733000000000,
        "eventType": event_type,
        "eventVersion": 1,
        "matchedRuleName": "learning-images",
        "objectName": name,
        "objectSize": 2048,
        "objectVersionId": "4_z" + secrets.token_hex(12),
    }


def delivery(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def test_a_signed_delivery_has_every_event_queued_one_message_each(running: Running) -> None:
    events = [b2_event(f"{n}0000000-0000-4000-8000-000000000000.jpg") for n in range(3)]
    body = delivery(*events)
    answer = running.deliver(body, b2.signature(SIGNING_SECRET, body))
    assert answer.status_code == 200, f"gateway {gateway.EVENTS_PATH}: a signed delivery answered {answer.text}"
    assert running.queued() == events, f"gateway {gateway.EVENTS_PATH}: the queue did not get each event once"


@pytest.mark.parametrize(
    "forgery",
    ["no signature", "signed with another secret", "the body changed after signing", "the signature's hex cut short"],
)
def test_a_delivery_not_signed_with_the_rules_secret_is_refused_and_queues_nothing(
    running: Running, forgery: str
) -> None:
    body = delivery(b2_event("40000000-0000-4000-8000-000000000000.jpg"))
    sent, signature = body, b2.signature(SIGNING_SECRET, body)
    given: str | None = signature
    if forgery == "no signature":
        given = None
    elif forgery == "signed with another secret":
        given = b2.signature(secrets.token_hex(16), body)
    elif forgery == "the body changed after signing":
        sent = delivery(b2_event("50000000-0000-4000-8000-000000000000.jpg"))
    else:
        given = signature[:-2]
    answer = running.deliver(sent, given)
    assert answer.status_code == 403, f"gateway {gateway.EVENTS_PATH}: {forgery} answered {answer.status_code}"
    assert running.queued() == [], f"gateway {gateway.EVENTS_PATH}: {forgery} had events queued"


def test_a_delivery_that_is_not_a_list_of_events_is_refused(running: Running) -> None:
    for body in (b"not json", b'{"events": "none"}'):
        answer = running.deliver(body, b2.signature(SIGNING_SECRET, body))
        assert answer.status_code == 400, f"gateway {gateway.EVENTS_PATH}: {body!r} answered {answer.status_code}"
    assert running.queued() == [], f"gateway {gateway.EVENTS_PATH}: a malformed delivery had events queued"


def test_events_are_delivered_with_post_only(running: Running) -> None:
    answer = running.deliver(b"", b2.signature(SIGNING_SECRET, b""), method="PUT")
    assert answer.status_code == 405, f"gateway {gateway.EVENTS_PATH}: PUT answered {answer.status_code}"
