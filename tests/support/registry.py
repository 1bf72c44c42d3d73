"""What the receiver's tests share: the store, the learning stores (SQLite and PostgreSQL), a
clean queue per test, and the helpers that run the receiver and read its rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from learning_images.ops import register
from learning_images.ops.clients import new_session
from learning_images.registry.models import LearningSample
from learning_images.sandbox.local import REGION, LocalStore, client, local_store
from tests.support.ops import read_report, sample, upload, write_batch
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


def sqlite_database(folder: Path) -> Path:
    """A file holding a new SQLite learning store's URL in ``folder``."""
    (folder / "database-url").write_text(f"sqlite:///{folder / 'learning_samples.db'}")
    return folder / "database-url"


def erase_with_key(store: LocalStore, reference: str) -> None:
    """The Command Centre deletes the object with its key (no version id: the clients do not use
    versions on R2 or Cloud Storage)."""
    found = store.outputs["command_centre_credentials"]
    s3 = client(
        store.url, "s3", aws_access_key_id=found["access_key_id"], aws_secret_access_key=found["secret_access_key"]
    )
    s3.delete_object(Bucket=store.outputs["bucket_name"], Key=reference.rsplit("/", 1)[1])


def no_aws(service: str) -> None:
    """The ``aws`` factory of a REST source, which must never ask for one."""
    raise AssertionError(f"a REST source asked for an AWS {service} client")


def not_trainable_after_a_batch(store: LocalStore, folder: Path, count: int) -> dict[str, str]:
    """Upload ``count`` images as a city, run the receiver once; each reference that is not a
    trainable row, with what it is instead."""
    url = sqlite_database(folder)
    stored = batch(store, folder / "batch", count)
    assert run(store, url) == 0, "the receiver failed"
    found = {row.image_reference: row.state for row in rows(url)}
    return {reference: found.get(reference, "no row") for reference in stored if found.get(reference) != "trainable"}


def row_after_an_erasure(store: LocalStore, folder: Path) -> LearningSample:
    """Upload one image, register it, erase it with the Command Centre's key, run the receiver again."""
    url = sqlite_database(folder)
    (reference,) = batch(store, folder / "batch", 1)
    assert run(store, url) == 0, "the receiver failed"
    erase_with_key(store, reference)
    assert run(store, url) == 0, "the receiver failed after the erasure"
    (row,) = [r for r in rows(url) if r.image_reference == reference]
    return row


def queue(store: LocalStore) -> Any:
    return client(store.url, "sqs", **store.operator)


def store_argv(store: LocalStore, database: Path, *extra: str) -> list[str]:
    """A Command Centre command's arguments for ``store`` and the learning store ``database``."""
    return [
        "--outputs",
        str(store.outputs_file),
        "--endpoint-url",
        store.url,
        "--database-url-file",
        str(database),
        *extra,
    ]


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
