"""The receiver (learning-images-register) in the enforcing sandbox: S3's own event notifications
(moto delivers them to its SQS), the receiver's own role judged by the front, and the learning
store on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from learning_images import contract
from learning_images.ops import register
from learning_images.ops.clients import new_session
from learning_images.registry.models import LearningSample, trainable
from learning_images.sandbox.local import REGION, LocalStore
from tests.support import registry
from tests.support.ops import command_centre_s3, without_guards
from tests.support.registry import batch, queue, rows, run, s3_event

# The shared fixtures, bound in this module: one store and one PostgreSQL server per module.
store = registry.store
postgres = registry.postgres
database = registry.database
empty_queues = registry.empty_queues


def test_every_uploaded_image_is_registered_once_and_trainable(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    stored = batch(store, tmp_path / "batch", 6)
    assert run(store, database) == 0
    found = {row.image_reference: row for row in rows(database)}
    assert set(stored) <= set(found), f"learning_samples lacks {set(stored) - set(found)}"
    for reference in stored:
        row = found[reference]
        assert row.state == "trainable", f"{reference}: {row.state} ({row.quarantine_reason})"
        assert row.city_id == "sandbox-city" and row.label_status == "correct" and row.size_bytes > 0, row.as_dict()
    engine = create_engine(database.read_text())
    with engine.connect() as connection:
        references = connection.execute(trainable().with_only_columns(LearningSample.image_reference)).scalars()
        assert set(references) >= set(stored), "learning_samples: an uploaded image is not trainable"


def test_a_redelivered_event_registers_nothing_twice(store: LocalStore, database: Path, tmp_path: Path) -> None:
    stored = batch(store, tmp_path / "batch", 2)
    assert run(store, database) == 0
    before = len(rows(database))
    key = stored[0].rsplit("/", 1)[1]
    for _ in range(3):  # SQS delivers at least once: the same event again, three times
        queue(store).send_message(QueueUrl=store.outputs["registration"]["queue_url"], MessageBody=s3_event(store, key))
    assert run(store, database) == 0
    assert len(rows(database)) == before, "learning_samples: a redelivered event added a row"


def test_an_erased_object_marks_its_row_erased(store: LocalStore, database: Path, tmp_path: Path) -> None:
    (reference,) = batch(store, tmp_path / "batch", 1)
    assert run(store, database) == 0
    key = reference.rsplit("/", 1)[1]
    s3 = command_centre_s3(store)  # the one tier that may erase
    for version in s3.list_object_versions(Bucket=store.outputs["bucket_name"], Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=store.outputs["bucket_name"], Key=key, VersionId=version["VersionId"])
    assert run(store, database) == 0
    (row,) = [r for r in rows(database) if r.image_reference == reference]
    assert row.state == "erased" and row.erased_by and row.erased_by.startswith("ObjectRemoved"), row.as_dict()


def test_test_events_other_buckets_and_malformed_messages_are_acknowledged_and_counted(
    store: LocalStore, database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = store.outputs["registration"]["queue_url"]
    bodies = [
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": store.outputs["bucket_name"]}),
        s3_event(store, "0b0e8f3e-1c4b-4d0e-9a53-2f8a3d6f4e11.jpg", bucket="another-bucket"),
        "not json at all",
        json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}),
    ]
    # Events earlier tests left behind (S3 may deliver them late) are drained first: the count
    # below is of these four messages alone, however the receiver batches them.
    assert run(store, database) == 0
    capsys.readouterr()
    for body in bodies:
        queue(store).send_message(QueueUrl=url, MessageBody=body)
    assert run(store, database) == 0
    out = capsys.readouterr().out
    # SQS delivers at least once, and the receiver's consumers compete for the queue: one message
    # may come twice in a run (moto's SQS does this too). The rule is per message, not per delivery.
    ignored = dict(re.findall(r"message (\S+): ignored, (.+)", out))
    assert len(ignored) == 4, f"register: {len(ignored)} of the 4 messages ignored\n{out}"
    total = (
        r"^register: \d+ messages; 0 registered, 0 already registered, 0 quarantined,"
        r" 0 marked erased, 0 skipped, \d+ ignored, 0 failed$"
    )
    assert re.search(total, out, re.MULTILINE), f"register: a message was not ignored\n{out}"
    attributes = queue(store).get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"]) == 0
    )


def test_an_object_that_breaks_the_contract_is_quarantined_with_its_rule(store: LocalStore, database: Path) -> None:
    """Where a backend cannot refuse a bad upload (here: the guards lifted), it is not trainable."""
    key = "5d0f3c1e-2a4b-4c6d-8e0f-1a2b3c4d5e6f.jpg"
    fields = {f: "x" for f in contract.METADATA_FIELDS} | {
        contract.CITY_ID: "sandbox-city",
        contract.LABEL_STATUS: contract.Label.UNSURE.value,
        contract.UPLOADED_AT: "2026-12-01T10:00:00Z",
    }
    with without_guards(store) as s3:
        s3.put_object(
            Bucket=store.outputs["bucket_name"],
            Key=key,
            Body=contract.JPEG_MAGIC + b"unsure",
            Metadata={contract.metadata_key(k): v for k, v in fields.items()},
            Tagging="&".join(f"{k}={v}" for k, v in fields.items()),
        )
    assert run(store, database) == 0
    (row,) = [r for r in rows(database) if r.object_key == key]
    assert (row.state, row.quarantined_rule) == ("quarantined", "refuse.unsure-label"), row.as_dict()


def test_the_front_judges_the_receivers_queue_requests_by_its_role(store: LocalStore) -> None:
    """The receiver's role may receive from its queue and dead-letter, never send to or purge it."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    from learning_images.ops.clients import Endpoint  # noqa: PLC0415
    from learning_images.outputs import read_outputs_file  # noqa: PLC0415

    outputs = read_outputs_file(store.outputs_file)
    endpoint = Endpoint(url=store.url, region=REGION, timeout=10.0)
    sqs = endpoint.client(
        register.receiver_session(outputs, new_session(region_name=REGION, **store.operator), endpoint), "sqs"
    )
    assert outputs.registration is not None
    sqs.receive_message(QueueUrl=outputs.registration.queue_url, WaitTimeSeconds=1)
    sqs.send_message(QueueUrl=outputs.registration.dead_letter_queue_url, MessageBody="dead letter")
    for call in (
        lambda: sqs.send_message(QueueUrl=outputs.registration.queue_url, MessageBody="forged event"),
        lambda: sqs.purge_queue(QueueUrl=outputs.registration.queue_url),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDenied", "receiver-role-policy grants too much"
