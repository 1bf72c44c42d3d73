"""How an object event becomes a row of ``learning_samples``.

An event names an object (``learning_images.registry.events`` reads each service's form); it is
not trusted for the object's metadata (an S3 event carries neither metadata nor tags). So the registrar reads
the object (HeadObject, and its tags where the backend has them), checks what it read against the
contract, and writes one row: trainable, or quarantined with the rule the object breaks (a
backend that cannot refuse a bad upload still cannot make it trainable). A removal marks the row
erased once the object has no current version. Each batch is one transaction, written with the
database's own idempotency (an insert that does nothing where the reference is already a row), so
a redelivered event, a second receiver or a rerun after a kill give one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy import Engine, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from learning_images import contract
from learning_images.concurrency import bounded_map
from learning_images.outputs import StackOutputs
from learning_images.registry.database import DatabaseError
from learning_images.registry.events import CREATED, REMOVED, ObjectEvent
from learning_images.registry.models import LearningSample

_GONE = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}
#: Objects of one batch read at once (a batch is at most ten messages, each usually one record).
READERS = 10


def contract_breach(key: str, fields: Mapping[str, str], tags: Mapping[str, str] | None) -> tuple[str, str] | None:  # noqa: PLR0911 (one return per rule)
    """The first contract rule an object breaks, as (the catalogue's check, why), or None."""
    if "/" in key:
        return "refuse.key-with-slash", f"key {key!r} has a '/'"
    if not contract.OBJECT_KEY_PATTERN.fullmatch(key):
        return "refuse.key-not-uuid", f"key {key!r} is not <uuid>.jpg"
    missing = [name for name in contract.METADATA_FIELDS if not fields.get(name)]
    if missing:
        return "refuse.missing-tag", f"no {', '.join(missing)} in its metadata"
    malformed = [
        name
        for name, value in fields.items()
        if name in contract.METADATA_PATTERNS
        and (not contract.METADATA_PATTERNS[name].fullmatch(value) or contract.CONTROL_CHARACTERS.search(value))
    ]
    if malformed:
        return "refuse.blank-metadata", f"{', '.join(malformed)} not in the contract's form"
    if fields[contract.LABEL_STATUS] not in {label.value for label in contract.UPLOAD_LABELS}:
        return "refuse.unsure-label", f"label_status is {fields[contract.LABEL_STATUS]!r}"
    if tags is not None:
        differ = {name for name in contract.METADATA_FIELDS if tags.get(name) != fields.get(name)}
        if differ or set(tags) - set(contract.METADATA_FIELDS):
            return "refuse.tag-rewrite", f"tags differ from metadata: {sorted(differ or set(tags))}"
    return None


@dataclass
class Outcome:
    """What one batch did, by kind; the receiver prints and sums these."""

    registered: int = 0
    duplicates: int = 0
    quarantined: int = 0
    erased: int = 0
    #: Created and gone before it was read, or removed while a version is still current.
    skipped: int = 0
    ignored: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        for name in ("registered", "duplicates", "quarantined", "erased", "skipped", "ignored", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.reasons += other.reasons

    def line(self) -> str:
        return (
            f"{self.registered} registered, {self.duplicates} already registered, {self.quarantined} quarantined, "
            f"{self.erased} marked erased, {self.skipped} skipped, {self.ignored} ignored, {self.failed} failed"
        )


class Registrar:
    """Reads objects as the receiver (its S3 client) and writes their rows (its engine)."""

    def __init__(self, engine: Engine, outputs: StackOutputs, s3: Any) -> None:
        self.engine = engine
        self.outputs = outputs
        self.s3 = s3

    def read(self, key: str) -> dict[str, Any] | None:
        """The row an object makes, or None if it has no current version. Raises ClientError
        for anything else (a refusal, throttling): the event is retried."""
        try:
            head = self.s3.head_object(Bucket=self.outputs.bucket_name, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _GONE:
                return None
            raise
        metadata = head.get("Metadata", {})
        fields = {
            name: metadata[contract.metadata_key(name)]
            for name in (*contract.METADATA_FIELDS, *contract.EXTRA_METADATA_FIELDS)
            if contract.metadata_key(name) in metadata
        }
        tags = None
        if self.outputs.capabilities.object_tags:
            found = self.s3.get_object_tagging(Bucket=self.outputs.bucket_name, Key=key)["TagSet"]
            tags = {tag["Key"]: tag["Value"] for tag in found}
        breach = contract_breach(key, fields, tags)
        return {
            "image_reference": self.outputs.reference(key, any_key=True),
            "bucket": self.outputs.bucket_name,
            "object_key": key,
            **{name: fields.get(name) for name in (*contract.METADATA_FIELDS, *contract.EXTRA_METADATA_FIELDS)},
            "size_bytes": int(head.get("ContentLength", 0)),
            "etag": str(head.get("ETag", "")).strip('"'),
            "version_id": head.get("VersionId"),
            "stored_at": head.get("LastModified") or datetime.now(UTC),
            "quarantined_rule": breach[0] if breach else None,
            "quarantine_reason": breach[1] if breach else None,
        }

    def register(self, events: Iterable[ObjectEvent]) -> Outcome:
        """Read every event's object, then write the batch in one transaction. Raises
        :class:`DatabaseError` when the database refuses it (nothing was written), ClientError when
        an object could not be read (nothing was written either)."""
        outcome = Outcome()
        rows: dict[str, dict[str, Any]] = {}
        erased: dict[str, ObjectEvent] = {}
        # The batch's objects are read side by side: each read is a round trip to the store, and
        # one after another they were the receiver's whole cost (measured: bench/registration_throughput.py).
        read = bounded_map(lambda event: (event, self.read(event.key)), list(events), READERS)
        for event, row in sorted(read, key=lambda pair: pair[0].time):
            reference = self.outputs.reference(event.key, any_key=True)
            if event.kind == CREATED and row is not None:
                rows[reference] = row
            elif event.kind == REMOVED and row is None:
                erased[reference] = event
                rows.pop(reference, None)
            else:
                outcome.skipped += 1
        try:
            with self.engine.begin() as connection:
                if rows:
                    statement = _insert(self.engine.dialect.name).values(list(rows.values()))
                    inserted = connection.execute(
                        statement.on_conflict_do_nothing(index_elements=["image_reference"]).returning(
                            LearningSample.image_reference, LearningSample.quarantined_rule
                        )
                    ).all()
                    outcome.duplicates += len(rows) - len(inserted)
                    outcome.quarantined += sum(1 for _, rule in inserted if rule)
                    outcome.registered += sum(1 for _, rule in inserted if not rule)
                    outcome.reasons += [f"{ref}: {rows[ref]['quarantine_reason']}" for ref, rule in inserted if rule]
                for reference, event in erased.items():
                    done = connection.execute(
                        update(LearningSample)
                        .where(LearningSample.image_reference == reference, LearningSample.erased_at.is_(None))
                        .values(erased_at=event.time, erased_by=event.name[:64])
                    )
                    outcome.erased += done.rowcount
                    outcome.skipped += 1 - done.rowcount
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"the learning store refused the batch ({type(getattr(exc, 'orig', None) or exc).__name__})"
            ) from None
        return outcome


def _insert(dialect: str) -> Any:
    """The dialect's INSERT, which has ``ON CONFLICT DO NOTHING`` (PostgreSQL's and SQLite's own)."""
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](LearningSample)
