"""The receiver's faults in the enforcing sandbox, on SQLite and a real PostgreSQL: dead letters,
a database stopped mid-run, a SIGKILL mid-batch, receivers side by side and started together."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from learning_images.sandbox.local import LocalStore, client
from learning_images.sandbox.sandbox import start_receiver
from tests.support import registry
from tests.support.postgres import Server
from tests.support.registry import batch, queue, rows, run, s3_event

# The shared fixtures, bound in this module: one store and one PostgreSQL server per module.
store = registry.store
postgres = registry.postgres
database = registry.database
empty_queues = registry.empty_queues


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
    return start_receiver(store, database, *extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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
