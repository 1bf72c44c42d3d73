"""The receiver's source on MinIO: the table MinIO's PostgreSQL notification target appends to.

MinIO pushes each of the bucket's events into ``object_events`` (``learning_images.minio``), in the
Command Centre's own database. The receiver leases rows as a queue's consumers lease messages: one
statement takes the oldest due rows no other receiver holds (``FOR UPDATE SKIP LOCKED``), counts
the delivery and hides them for :data:`LEASE_SECONDS`, and commits. Acknowledging deletes them;
releasing makes them due at once; a receiver killed mid-batch leaves its rows to come due when the
lease ends. On a row's last delivery the receiver moves it, with its reason, to
``object_events_dead_letter`` in one transaction. Receivers side by side share the table as
competing consumers: the database's row locks are the only coordination.

SQLite (the sandbox's embedded learning store, which a MinIO server cannot write) has no row
locks; its one writer at a time makes the same statement exclusive.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from learning_images import minio
from learning_images.outputs import RegistrationOutputs
from learning_images.registry.events import ObjectEvent, minio_events
from learning_images.registry.models import DeadLetterEvent, ObjectEventRow
from learning_images.registry.sources import Message, SourceError

#: Seconds a taken row stays hidden from other receivers while its batch is registered.
LEASE_SECONDS = 120
#: Seconds between looks at the table while a receive waits for rows (MinIO does not NOTIFY).
POLL_SECONDS = 1.0


def open_source(
    registration: RegistrationOutputs, *, aws: object = None, engine: Engine | None = None
) -> PostgresSource:
    if engine is None:
        raise SourceError("the PostgreSQL source reads the learning store's database: no engine was given")
    return PostgresSource(engine, registration)


def _now() -> datetime:
    return datetime.now(UTC)


class PostgresSource:
    def __init__(self, engine: Engine, registration: RegistrationOutputs) -> None:
        expected = (minio.EVENTS_TABLE, minio.DEAD_LETTER_TABLE)
        if (registration.queue_url, registration.dead_letter_queue_url) != expected:
            raise SourceError(
                f"the outputs name the tables {registration.queue_url!r} and {registration.dead_letter_queue_url!r}; "
                f"this receiver reads {expected[0]!r} and writes {expected[1]!r}"
            )
        self.engine = engine
        self.max_receives = registration.max_receives or minio.MAX_RECEIVES

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise SourceError(f"{what} {minio.EVENTS_TABLE} failed: {type(exc).__name__}") from None

    def _take(self, count: int) -> list[Message]:
        now = _now()
        due = (
            select(ObjectEventRow.id)
            .where(ObjectEventRow.visible_at <= now)
            .order_by(ObjectEventRow.id)
            .limit(count)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        taken = (
            update(ObjectEventRow)
            .where(ObjectEventRow.id.in_(due))
            .values(receives=ObjectEventRow.receives + 1, visible_at=now + timedelta(seconds=LEASE_SECONDS))
            .returning(ObjectEventRow.id, ObjectEventRow.event_data, ObjectEventRow.receives)
        )
        with self._transaction("taking rows of") as connection:
            rows = connection.execute(taken).all()
        return [
            Message(str(row.id), json.dumps(row.event_data), f"{row.id}/{row.receives}", row.receives)
            for row in sorted(rows, key=lambda row: row.id)
        ]

    def receive(self, count: int, wait_seconds: int) -> list[Message]:
        """The oldest due rows, up to ``count``, leased to this receiver; waits up to ``wait_seconds``."""
        deadline = time.monotonic() + wait_seconds
        while not (messages := self._take(count)) and time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
        return messages

    def acknowledge(self, messages: list[Message]) -> list[str]:
        """Delete the rows (their effect is committed). A row already gone was acknowledged by a
        receiver that took it after this one's lease ran out: its effect is committed too."""
        if messages:
            with self._transaction("deleting rows of") as connection:
                connection.execute(delete(ObjectEventRow).where(ObjectEventRow.id.in_([int(m.id) for m in messages])))
        return []

    def release(self, messages: list[Message]) -> None:
        """Make the rows due at once (their batch was not committed). Best effort: a failure leaves
        them to come due when their lease ends."""
        if not messages:
            return
        with contextlib.suppress(SourceError), self._transaction("releasing rows of") as connection:
            connection.execute(
                update(ObjectEventRow)
                .where(ObjectEventRow.id.in_([int(m.id) for m in messages]))
                .values(visible_at=_now())
            )

    def last_receive(self, message: Message) -> bool:
        return message.receives >= self.max_receives

    def dead_letter(self, message: Message, reason: str) -> None:
        """Move the row with ``reason`` to the dead letters: one transaction, so it is in exactly one table."""
        with self._transaction("dead-lettering a row of") as connection:
            row = connection.execute(select(ObjectEventRow).where(ObjectEventRow.id == int(message.id))).first()
            if row is None:
                return  # another receiver took it after this one's lease and finished it
            connection.execute(
                insert(DeadLetterEvent).values(
                    event_time=row.event_time, event_data=row.event_data, receives=row.receives, reason=reason
                )
            )
            connection.execute(delete(ObjectEventRow).where(ObjectEventRow.id == row.id))

    def events(self, message: Message, bucket: str) -> list[ObjectEvent]:
        return minio_events(message.body, bucket)
