"""The receiver on R2: it pulls the bucket's events from Cloudflare Queues' pull API (its local
stand-in, fed with the local S3's own events), leases, acknowledges, releases and dead-letters as
the service documents, with the receiver's bearer token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine

from learning_images.outputs import RegistrationOutputs
from learning_images.registry.sources import SourceError, open_source
from learning_images.sandbox.local import LocalStore
from learning_images.sandbox.queues import CloudflareQueues, StandInQueue, serving
from learning_images.sandbox.r2 import local_r2_store
from tests.support.registry import (
    batch,
    no_aws,
    not_trainable_after_a_batch,
    row_after_an_erasure,
    rows,
    run,
    sqlite_database,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "receiver-token-value"  # the stand-in's, not a secret


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_r2_store(gateway=False) as made:
        yield made


def test_the_receiver_registers_an_r2_batch_from_cloudflare_queues(store: LocalStore, tmp_path: Path) -> None:
    registration = store.outputs["registration"]
    assert registration["source"] == "cloudflare-queues", registration["source"]
    not_trainable = not_trainable_after_a_batch(store, tmp_path, 3)
    assert not not_trainable, f"r2: uploads not registered trainable: {not_trainable}"
    references = [r.image_reference for r in rows(sqlite_database(tmp_path))]
    assert references and all(r.startswith("r2://") for r in references), f"not r2:// references: {references}"


def test_an_r2_erasure_marks_the_row_erased(store: LocalStore, tmp_path: Path) -> None:
    row = row_after_an_erasure(store, tmp_path)
    assert row.state == "erased" and row.erased_by == "DeleteObject", (
        f"r2: {row.image_reference} erased, row {row.as_dict()}"
    )


def test_an_r2_message_that_is_not_an_event_is_acknowledged_and_counted(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = store.outputs["registration"]["receiver_credentials"]["api_token"]
    queue_url = store.outputs["registration"]["queue_url"]
    bodies: list[Any] = ["not json", {"action": "PutObject", "bucket": "another-bucket", "object": {"key": "k"}}]
    for body in bodies:
        answer = requests.post(
            f"{queue_url}/messages",
            json={"body": body, "content_type": "json"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.ok, answer.text
    assert run(store, sqlite_database(tmp_path)) == 0
    said = capsys.readouterr().out
    assert "2 ignored" in said and "another bucket" in said, said


def test_a_batch_the_database_refuses_returns_to_the_queue_and_registers_on_the_rerun(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_database(tmp_path)
    assert run(store, url) == 0  # the schema, and nothing queued left over
    engine = create_engine(url.read_text())
    with engine.begin() as connection:  # the database refuses every insert (a full disk, say)
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON learning_samples BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    stored = batch(store, tmp_path / "batch", 2)
    assert run(store, url) == 2, "a database that refuses the batch is exit 2"
    assert "every message of the batch stays queued" in capsys.readouterr().err
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER refuse")
    engine.dispose()
    assert run(store, url) == 0
    assert {r.image_reference for r in rows(url)} >= set(stored), "a message was lost while the database refused it"


# --- the sources against the services' stand-ins, message by message ------------------------------


@pytest.fixture
def cloudflare() -> Iterator[tuple[CloudflareQueues, StandInQueue, StandInQueue]]:
    dead = StandInQueue(max_deliveries=10**9)
    events = StandInQueue(max_deliveries=3, dead_letter=dead)
    with serving(CloudflareQueues(ACCOUNT, TOKEN, {"events": events, "dead-letters": dead})) as server:
        assert isinstance(server, CloudflareQueues)
        yield server, events, dead


def cloudflare_registration(server: CloudflareQueues, token: str = TOKEN) -> RegistrationOutputs:
    return RegistrationOutputs.model_validate(
        {
            "source": "cloudflare-queues",
            "queue_url": server.queue_url("events"),
            "dead_letter_queue_url": server.queue_url("dead-letters"),
            "max_receives": 3,
            "receiver_credentials": {"access_key_id": "id", "secret_access_key": "secret", "api_token": token},
        }
    )


def test_a_cloudflare_lease_is_exclusive_until_acknowledged_or_released(
    cloudflare: tuple[CloudflareQueues, StandInQueue, StandInQueue],
) -> None:
    server, events, _ = cloudflare
    events.push('{"action": "PutObject"}')
    first = open_source(cloudflare_registration(server), aws=no_aws)
    second = open_source(cloudflare_registration(server), aws=no_aws)
    (message,) = first.receive(10, 0)
    assert second.receive(10, 0) == [], "a leased message went to a second receiver"
    first.release([message])
    (again,) = second.receive(10, 0)
    assert again.id == message.id and again.receives == 2, "a released message must come back at once, counted"
    assert second.acknowledge([again]) == []
    assert events.waiting() == 0, "an acknowledged message stayed in the queue"


def test_a_cloudflare_message_given_up_on_reaches_the_dead_letter_queue_with_its_reason(
    cloudflare: tuple[CloudflareQueues, StandInQueue, StandInQueue],
) -> None:
    server, events, dead = cloudflare
    events.push('{"action": "PutObject", "object": {"key": "k"}}')
    source = open_source(cloudflare_registration(server), aws=no_aws)
    (message,) = source.receive(1, 0)
    source.dead_letter(message, "cannot read its object: AccessDenied")
    assert events.waiting() == 0, "a dead-lettered message stayed in the events queue"
    (held,) = dead.pull(1, 30)
    letter = json.loads(held.body)
    assert letter["reason"] == "cannot read its object: AccessDenied" and letter["event"]["object"]["key"] == "k"


def test_a_wrong_cloudflare_token_is_refused_naming_the_service(
    cloudflare: tuple[CloudflareQueues, StandInQueue, StandInQueue],
) -> None:
    server, _, _ = cloudflare
    source = open_source(cloudflare_registration(server, token="another-token"), aws=no_aws)
    with pytest.raises(SourceError, match="Cloudflare Queues refused pull: HTTP 403 Authentication error"):
        source.receive(1, 0)
