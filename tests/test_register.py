"""The receiver (learning-images-register) in the enforcing sandbox: S3's own event notifications
(moto delivers them to its SQS), the receiver's own role judged by the front, and the learning
store on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from learning_images import contract
from learning_images.ops import register
from learning_images.ops.clients import new_session
from learning_images.registry.models import LearningSample, trainable
from learning_images.sandbox.local import REGION, LocalStore, client, local_store
from tests.support.ops import command_centre_s3, read_report, sample, upload, without_guards, write_batch
from tests.support.postgres import Server, postgres_server


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_store() as made:
        yield made


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A file holding a fresh learning store's URL (as a secret mount would give it)."""
    url = f"sqlite:///{tmp_path / 'learning_samples.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").new_database()
    (tmp_path / "database-url").write_text(url)
    return tmp_path / "database-url"


@pytest.fixture(autouse=True)
def empty_queues(store: LocalStore) -> None:
    """Each test starts with nothing queued (the store is the module's)."""
    sqs = client(store.url, "sqs", **store.operator)
    for name in ("queue_url", "dead_letter_queue_url"):
        sqs.purge_queue(QueueUrl=store.outputs["registration"][name])


def queue(store: LocalStore) -> Any:
    return client(store.url, "sqs", **store.operator)


def run(store: LocalStore, database: Path, *extra: str) -> int:
    argv = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--database-url-file", str(database)]
    return register.main(
        [*argv, "--once", "--wait", "1", *extra], operator=new_session(region_name=REGION, **store.operator)
    )


def rows(database: Path) -> list[LearningSample]:
    engine = create_engine(database.read_text())
    with engine.connect() as connection:
        found = list(connection.execute(select(LearningSample)).all())
    engine.dispose()
    return [LearningSample(**row._mapping) for row in found]


def batch(store: LocalStore, folder: Path, count: int, **fields: Any) -> list[str]:
    """A city's batch uploaded as the uploader does it; the references it stored."""
    manifest = write_batch(folder, [sample(f"image-{n}.jpg", **fields) for n in range(count)])
    assert upload(store, folder, manifest, folder / "report.jsonl") == 0
    return [r["image_reference"] for r in read_report(folder / "report.jsonl") if r.get("image_reference")]


def s3_event(store: LocalStore, key: str, name: str = "ObjectCreated:Put", bucket: str | None = None) -> str:
    """An event message in S3's own shape (S3 User Guide, "Event message structure")."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventName": name,
        "s3": {"bucket": {"name": bucket or store.outputs["bucket_name"]}, "object": {"key": key}},
    }
    return json.dumps({"Records": [record]})


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
    for body in bodies:
        queue(store).send_message(QueueUrl=url, MessageBody=body)
    assert run(store, database) == 0
    assert "4 ignored" in capsys.readouterr().out
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


def test_a_message_that_keeps_failing_is_dead_lettered_with_its_reason(store: LocalStore, database: Path) -> None:
    url = store.outputs["registration"]["queue_url"]
    iam = client(store.url, "iam", **store.operator)
    role = store.outputs["registration"]["receiver_role_arn"].rsplit("/", 1)[1]
    (policy,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    redrive = queue(store).get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    # Its last receive at once, and a receiver that cannot read objects (its grant to them removed).
    last = json.loads(redrive["RedrivePolicy"]) | {"maxReceiveCount": 1}
    queue(store).set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(last)})
    reading = [s for s in document["Statement"] if s["Sid"] == "ReadObjectMetadataAndTags"]
    without = document | {"Statement": [s for s in document["Statement"] if s not in reading]}
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(without))
    try:
        queue(store).send_message(QueueUrl=url, MessageBody=s3_event(store, "3c9e1f0a-7b2d-4e6f-8a1c-9d0e2f4a6b8c.jpg"))
        assert run(store, database) == 1, "a failed message makes --once exit 1"
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))
        queue(store).set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": redrive["RedrivePolicy"]})
    dead = queue(store).receive_message(
        QueueUrl=store.outputs["registration"]["dead_letter_queue_url"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=1,
    )["Messages"]
    # HeadObject's refusal has no body: S3 answers 403 Forbidden, which the reason carries.
    assert len(dead) == 1 and "(403)" in dead[0]["MessageAttributes"]["reason"]["StringValue"], dead


def test_a_database_stopped_mid_run_loses_no_message(
    store: LocalStore, postgres: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "database-url"
    database.write_text(postgres.new_database())
    first = batch(store, tmp_path / "first", 2)
    assert run(store, database) == 0
    postgres.stop()
    try:
        second = batch(store, tmp_path / "second", 3)
        assert run(store, database) == 2, "a database that is down is exit 2"
        err = capsys.readouterr().err
        assert "postgresql 127.0.0.1" in err and "postgres@" not in err, err
    finally:
        postgres.start()
    assert run(store, database) == 0
    assert {r.image_reference for r in rows(database)} >= {*first, *second}, "a message was lost while it was down"


def receiver(store: LocalStore, database: Path, *extra: str) -> subprocess.Popen[str]:
    """The installed command as a process, with the operator's credentials in its environment."""
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": store.operator["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": store.operator["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
    }
    argv = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--database-url-file", str(database)]
    return subprocess.Popen(  # noqa: S603 (the command under test)
        [sys.executable, "-m", "learning_images.ops.register", *argv, *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_receiver_killed_mid_batch_and_rerun_registers_every_object_once(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    url = store.outputs["registration"]["queue_url"]
    visibility = queue(store).get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    # What the killed receiver held comes back after 2 s, not the stack's 120.
    queue(store).set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "2"})
    try:
        stored = batch(store, tmp_path / "batch", 12)
        running = receiver(store, database, "--batch", "1", "--wait", "1")
        assert running.stdout is not None
        assert running.stdout.readline().startswith("batch of 1"), "the receiver registered nothing"
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=30)
        time.sleep(2.5)
        assert run(store, database) == 0
    finally:
        queue(store).set_queue_attributes(QueueUrl=url, Attributes=visibility)
    found = [r.image_reference for r in rows(database)]
    assert sorted(set(found) & set(stored)) == sorted(stored), (
        f"not registered after the kill: {set(stored) - set(found)}"
    )
    assert len(found) == len(set(found)), "an object registered twice"


def test_two_receivers_side_by_side_register_each_object_once(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    """Competing consumers on one queue and one table: how registration grows past one machine."""
    stored = batch(store, tmp_path / "batch", 16)
    runs = [receiver(store, database, "--once", "--batch", "2", "--wait", "1") for _ in range(2)]
    results = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [err for _, err in results]
    registered = [row.image_reference for row in rows(database)]
    assert set(stored) <= set(registered) and len(registered) == len(set(registered)), registered
    assert all("registered" in out for out, _ in results)


def test_receivers_started_at_once_create_the_table_once(database: Path) -> None:
    """Two receivers started together both saw no table; the second's CREATE TABLE failed (exit 2)."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from pydantic import SecretStr  # noqa: PLC0415

    from learning_images.registry.database import connect, upgrade  # noqa: PLC0415

    engines = [connect(SecretStr(database.read_text())) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(upgrade, engines))  # raises DatabaseError if one of them failed
    assert rows(database) == [], "a fresh store has the table and no row"


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
