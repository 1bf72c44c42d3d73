"""The receiver on Cloud Storage: it pulls the bucket's notifications from Pub/Sub's REST pull (its
local stand-in, fed with the local S3's own events), leases, acknowledges, releases and
dead-letters as Pub/Sub documents, and authenticates as it asks: an access token for a JWT signed
with the receiver service account's key."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from learning_images.outputs import RegistrationOutputs
from learning_images.registry.sources import SourceError, open_source
from learning_images.sandbox.gcs import local_gcs_store
from learning_images.sandbox.local import LocalStore, client
from learning_images.sandbox.queues import PubSub, StandInQueue, new_service_account, serving
from tests.support.registry import (
    no_aws,
    not_trainable_after_a_batch,
    row_after_an_erasure,
    rows,
    run,
    sqlite_database,
)

PROJECT = "learning-images-test"


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_gcs_store() as made:
        yield made


def test_the_receiver_registers_a_gcs_batch_from_pubsub(store: LocalStore, tmp_path: Path) -> None:
    registration = store.outputs["registration"]
    assert registration["source"] == "pubsub", registration["source"]
    not_trainable = not_trainable_after_a_batch(store, tmp_path, 3)
    assert not not_trainable, f"gcs: uploads not registered trainable: {not_trainable}"
    references = [r.image_reference for r in rows(sqlite_database(tmp_path))]
    assert references and all(r.startswith("gs://") for r in references), f"not gs:// references: {references}"


def test_a_gcs_erasure_marks_the_row_erased(store: LocalStore, tmp_path: Path) -> None:
    row = row_after_an_erasure(store, tmp_path)
    assert row.state == "erased" and row.erased_by == "OBJECT_ARCHIVE", (
        f"gcs: {row.image_reference} erased, row {row.as_dict()}"
    )


def test_an_object_whose_key_breaks_the_contract_is_quarantined_not_a_crash(store: LocalStore, tmp_path: Path) -> None:
    """Cloud Storage cannot refuse a key with a '/' (no bucket policy); the receiver records it."""
    found = store.outputs["command_centre_credentials"]
    s3 = client(
        store.url, "s3", aws_access_key_id=found["access_key_id"], aws_secret_access_key=found["secret_access_key"]
    )
    key = f"paris/{uuid.uuid4()}.jpg"
    s3.put_object(Bucket=store.outputs["bucket_name"], Key=key, Body=b"\xff\xd8")
    url = sqlite_database(tmp_path)
    assert run(store, url) == 0, "a non-contract key must not stop the receiver"
    (row,) = [r for r in rows(url) if r.object_key == key]
    assert row.state == "quarantined" and row.quarantined_rule == "refuse.key-with-slash", row.as_dict()


# --- the source against the service's stand-in, message by message ------------------------------------


@pytest.fixture
def pubsub() -> Iterator[tuple[PubSub, StandInQueue, StandInQueue, str]]:
    dead = StandInQueue(max_deliveries=10**9)
    events = StandInQueue(max_deliveries=3, dead_letter=dead)
    account = new_service_account(f"receiver@{PROJECT}.iam.gserviceaccount.com")
    server = PubSub(PROJECT, account, {"events": events, "dead-letters": dead}, {"dead-letters": ["dead-letters"]}, 60)
    with serving(server):
        yield server, events, dead, account.key_file(f"{server.url}/token", PROJECT)


def pubsub_registration(server: PubSub, key: str) -> RegistrationOutputs:
    return RegistrationOutputs.model_validate(
        {
            "source": "pubsub",
            "queue_url": server.subscription_url("events"),
            "dead_letter_queue_url": server.topic_url("dead-letters"),
            "max_receives": 3,
            "receiver_credentials": {"access_key_id": "id", "secret_access_key": "secret", "service_account_key": key},
        }
    )


def test_pubsub_pulls_with_a_token_for_the_service_accounts_signed_jwt_and_counts_deliveries(
    pubsub: tuple[PubSub, StandInQueue, StandInQueue, str],
) -> None:
    server, events, _, key = pubsub
    events.push(
        "{}", {"eventType": "OBJECT_FINALIZE", "bucketId": "b", "objectId": "k", "eventTime": "2026-12-01T10:00:00Z"}
    )
    source = open_source(pubsub_registration(server, key), aws=no_aws)
    (message,) = source.receive(10, 0)
    assert message.attributes["objectId"] == "k" and message.receives == 1
    assert server.tokens, "the source never exchanged its key for an access token"
    source.release([message])
    (again,) = source.receive(10, 0)
    assert again.receives == 2, "Pub/Sub's deliveryAttempt counts every delivery"
    assert [e.key for e in source.events(again, "b")] == ["k"]
    source.acknowledge([again])
    assert events.waiting() == 0


def test_a_pubsub_message_given_up_on_is_published_to_the_dead_letter_topic_with_its_reason(
    pubsub: tuple[PubSub, StandInQueue, StandInQueue, str],
) -> None:
    server, events, dead, key = pubsub
    events.push("{}", {"eventType": "OBJECT_FINALIZE", "objectId": "k"})
    source = open_source(pubsub_registration(server, key), aws=no_aws)
    (message,) = source.receive(1, 0)
    source.dead_letter(message, "cannot read its object: AccessDenied")
    (held,) = dead.pull(1, 30)
    assert held.attributes["reason"] == "cannot read its object: AccessDenied" and held.attributes["objectId"] == "k"
    assert events.waiting() == 0, "a dead-lettered message stayed in the subscription"


def test_a_key_pubsub_does_not_know_gets_no_token_and_a_clear_error(
    pubsub: tuple[PubSub, StandInQueue, StandInQueue, str],
) -> None:
    server, _, _, _ = pubsub
    forged = new_service_account(f"receiver@{PROJECT}.iam.gserviceaccount.com").key_file(f"{server.url}/token", PROJECT)
    source = open_source(pubsub_registration(server, forged), aws=no_aws)
    with pytest.raises(SourceError, match="cannot authenticate the receiver"):
        source.receive(1, 0)
    assert not server.tokens, "a forged key was given an access token"


def test_a_service_account_key_that_is_not_a_key_file_is_refused_before_any_pull(
    pubsub: tuple[PubSub, StandInQueue, StandInQueue, str],
) -> None:
    server, _, _, _ = pubsub
    with pytest.raises(SourceError, match="not a JSON key file"):
        open_source(pubsub_registration(server, base64.b64encode(b"not json").decode()), aws=no_aws)
