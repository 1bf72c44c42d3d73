"""The receiver on MinIO: it leases the rows MinIO's PostgreSQL notification target appends to the
learning store's ``object_events`` (the target's stand-in fed with the local S3's own events),
acknowledges by deleting them, releases, and dead-letters into ``object_events_dead_letter``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, text

from learning_images import minio
from learning_images.outputs import RegistrationOutputs
from learning_images.registry.database import connect, upgrade
from learning_images.registry.models import DeadLetterEvent, ObjectEventRow
from learning_images.registry.sources import open_source
from learning_images.registry.sources import postgresql as table_source
from learning_images.sandbox.local import LocalStore
from learning_images.sandbox.minio import TARGET_INSERT, shipped_store
from tests.support.postgres import Server, postgres_server
from tests.support.registry import batch, erase_with_key, no_aws, rows, run

BUCKET = "learning-images"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def learning_store(postgres: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file holding the module's PostgreSQL learning store's URL, its schema made."""
    url = postgres.new_database()
    engine = connect(SecretStr(url))
    upgrade(engine)
    engine.dispose()
    found = tmp_path_factory.mktemp("learning-store") / "database-url"
    found.write_text(url)
    return found


@pytest.fixture(scope="module")
def store(learning_store: Path) -> Iterator[LocalStore]:
    with shipped_store(events_database=learning_store.read_text()) as made:
        yield made


def engine_of(url_file: Path) -> Engine:
    return connect(SecretStr(url_file.read_text()))


def waiting(url_file: Path, count: int, bound: float = 20.0) -> int:
    """Wait until the target's stand-in has written ``count`` rows; how many are there."""
    engine = engine_of(url_file)
    deadline = time.monotonic() + bound
    try:
        while True:
            with engine.connect() as connection:
                found = connection.execute(select(func.count()).select_from(ObjectEventRow)).scalar_one()
            if found >= count or time.monotonic() > deadline:
                return int(found)
            time.sleep(0.1)
    finally:
        engine.dispose()


def registration(max_receives: int = 3) -> RegistrationOutputs:
    return RegistrationOutputs.model_validate(
        {
            "source": "postgresql",
            "queue_url": minio.EVENTS_TABLE,
            "dead_letter_queue_url": minio.DEAD_LETTER_TABLE,
            "max_receives": max_receives,
        }
    )


def minio_row(key: str, name: str = "s3:ObjectCreated:Put", bucket: str = BUCKET) -> dict[str, object]:
    """A row as MinIO's access format writes it (minio/minio internal/event/target/postgresql.go)."""
    record = {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventName": name,
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
    }
    return {"time": datetime.now(UTC), "data": json.dumps({"Records": [record]})}


def insert(engine: Engine, *found: dict[str, object]) -> None:
    with engine.begin() as connection:
        for row in found:
            connection.execute(TARGET_INSERT, row)


@pytest.fixture
def fresh(postgres: Server) -> Iterator[Engine]:
    """A PostgreSQL learning store of its own, its schema made, nothing in it."""
    engine = connect(SecretStr(postgres.new_database()))
    upgrade(engine)
    yield engine
    engine.dispose()


def count(engine: Engine, table: type[ObjectEventRow] | type[DeadLetterEvent]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


# --- the receiver against the target's stand-in ---------------------------------------------------


def test_the_receiver_registers_a_minio_batch_from_the_events_table(
    store: LocalStore, learning_store: Path, tmp_path: Path
) -> None:
    assert store.outputs["registration"]["source"] == "postgresql", store.outputs["registration"]["source"]
    stored = batch(store, tmp_path / "batch", 3)
    assert waiting(learning_store, 3) >= 3, "minio: the target's stand-in wrote no rows into object_events"
    assert run(store, learning_store) == 0
    found = {row.image_reference: row.state for row in rows(learning_store)}
    not_trainable = {reference: found.get(reference, "no row") for reference in stored}
    assert all(state == "trainable" for state in not_trainable.values()), f"minio: not registered: {not_trainable}"
    assert waiting(learning_store, 0, bound=0) == 0, "minio: object_events keeps rows the receiver acknowledged"


def test_a_minio_erasure_marks_the_row_erased(store: LocalStore, learning_store: Path, tmp_path: Path) -> None:
    (reference,) = batch(store, tmp_path / "batch", 1)
    waiting(learning_store, 1)
    assert run(store, learning_store) == 0
    erase_with_key(store, reference)
    waiting(learning_store, 1)
    assert run(store, learning_store) == 0
    (row,) = [r for r in rows(learning_store) if r.image_reference == reference]
    assert row.state == "erased" and row.erased_by == "s3:ObjectRemoved:DeleteMarkerCreated", (
        f"minio: {reference} erased, row {row.as_dict()}"
    )


def test_a_minio_row_that_is_not_an_event_is_acknowledged_and_counted(
    store: LocalStore, learning_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = engine_of(learning_store)
    another = minio_row("0b5a7c2e-1d3f-4e5a-8b9c-0d1e2f3a4b5c.jpg", bucket="another-bucket")
    insert(engine, another, {"time": datetime.now(UTC), "data": json.dumps({"not": "an event"})})
    assert run(store, learning_store) == 0
    said = capsys.readouterr().out
    assert "2 ignored" in said and "another bucket" in said, said
    assert count(engine, ObjectEventRow) == 0, "minio: an ignored row was left in object_events"
    engine.dispose()


# --- the source, row by row --------------------------------------------------------------------


def test_a_leased_row_is_exclusive_until_acknowledged_or_released(fresh: Engine) -> None:
    insert(fresh, *(minio_row(f"{n}0000000-0000-4000-8000-000000000000.jpg") for n in range(3)))
    first = open_source(registration(), aws=no_aws, engine=fresh)
    second = open_source(registration(), aws=no_aws, engine=fresh)
    taken = first.receive(10, 0)
    assert len(taken) == 3, f"object_events: the first receiver took {len(taken)} of 3 rows"
    assert second.receive(10, 0) == [], "object_events: a leased row was given to a second receiver"
    first.release(taken[:1])
    again = second.receive(10, 0)
    assert [m.id for m in again] == [taken[0].id], "object_events: a released row was not due at once"
    assert again[0].receives == 2, "object_events: a redelivery was not counted"
    first.acknowledge(taken[1:])
    assert count(fresh, ObjectEventRow) == 1, "object_events: acknowledged rows were not deleted"


def test_a_row_whose_receiver_died_comes_due_again_when_its_lease_ends(
    fresh: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert(fresh, minio_row("10000000-0000-4000-8000-000000000000.jpg"))
    monkeypatch.setattr(table_source, "LEASE_SECONDS", 1)
    (taken,) = open_source(registration(), aws=no_aws, engine=fresh).receive(1, 0)
    # The receiver dies here: neither acknowledged nor released.
    later = open_source(registration(), aws=no_aws, engine=fresh).receive(1, 3)
    assert [m.id for m in later] == [taken.id], "object_events: a dead receiver's row never came due again"


def test_a_row_that_keeps_failing_moves_to_the_dead_letters_with_its_reason(fresh: Engine) -> None:
    insert(fresh, minio_row("20000000-0000-4000-8000-000000000000.jpg"))
    source = open_source(registration(max_receives=2), aws=no_aws, engine=fresh)
    (first,) = source.receive(1, 0)
    assert not source.last_receive(first), "object_events: the first delivery was taken for the last"
    source.release([first])
    (last,) = source.receive(1, 0)
    assert source.last_receive(last), "object_events: the second of two deliveries was not the last"
    source.dead_letter(last, "cannot read its object: AccessDenied")
    with fresh.connect() as connection:
        dead = connection.execute(select(DeadLetterEvent)).one()
    assert count(fresh, ObjectEventRow) == 0, "object_events: a dead-lettered row was left in the events table"
    assert dead.reason == "cannot read its object: AccessDenied" and dead.receives == 2, (
        f"object_events_dead_letter: {dead}"
    )


def test_the_migration_adopts_the_table_minio_created_first(postgres: Server) -> None:
    engine = connect(SecretStr(postgres.new_database()))
    with engine.begin() as connection:  # MinIO's own statement, when its target starts first
        connection.execute(
            text("CREATE TABLE object_events (event_time TIMESTAMP WITH TIME ZONE NOT NULL, event_data JSONB);")
        )
    insert(engine, minio_row("30000000-0000-4000-8000-000000000000.jpg"))
    upgrade(engine)
    (taken,) = open_source(registration(), aws=no_aws, engine=engine).receive(1, 0)
    assert taken.receives == 1 and "30000000" in taken.body, f"object_events: MinIO's row was not adopted: {taken}"
    engine.dispose()
