"""The ``learning_samples`` table: one row per stored object, holding the contract's fields (the
contract: "metadata schema should align with `learning_samples`"), its ``image_reference`` and
what was read of the object when it was registered.

A row is one of three things (:attr:`LearningSample.state`): trainable; quarantined, when the
object breaks a contract rule the backend could not refuse (``quarantined_rule`` names it); or
erased, when a deletion event, retention or reconcile found the object gone (``erased_at``).
Training reads trainable rows only (:func:`trainable`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, MetaData, String, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import Select

from learning_images import contract, minio

#: Constraint names the migrations and every database agree on (Alembic's advice: name them).
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}


_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite assigns ids to INTEGER primary keys only
#: What MinIO's target writes event data as (JSONB: its access format's own column type).
_EVENT_DATA = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LearningSample(Base):
    __tablename__ = "learning_samples"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    #: ``s3://<bucket>/<key>`` (``r2://``, ``gs://``): what training fetches. Unique: a redelivered
    #: event or a second receiver inserts nothing (the database's constraint, not a lock of ours).
    image_reference: Mapped[str] = mapped_column(String(1100), unique=True)
    bucket: Mapped[str] = mapped_column(String(255))
    object_key: Mapped[str] = mapped_column(String(1024))
    # The contract's fields, as the object's metadata carries them (None where it lacks one: quarantined).
    city_id: Mapped[str | None] = mapped_column(String(64))
    camera_id: Mapped[str | None] = mapped_column(String(256))
    event_id: Mapped[str | None] = mapped_column(String(256))
    label_status: Mapped[str | None] = mapped_column(String(16))
    uploaded_at: Mapped[str | None] = mapped_column(String(32))
    captured_at: Mapped[str | None] = mapped_column(String(40))
    quality: Mapped[str | None] = mapped_column(String(32))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    # What the store said of the object.
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(128))
    version_id: Mapped[str | None] = mapped_column(String(1024))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: The contract rule the object breaks (a rule id of the catalogue, e.g. ``refuse.unsure-label``).
    quarantined_rule: Mapped[str | None] = mapped_column(String(64))
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Why it is erased: the event (``s3:ObjectRemoved:Delete``) or the command that found it gone.
    erased_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # GDPR erasure selects by city (and camera, event); retention by label and age.
        Index(None, "city_id", "camera_id", "event_id"),
        Index(None, "label_status", "stored_at"),
        Index(None, "erased_at"),
        # Duplicates (the same bytes uploaded twice) and the training cache's eviction.
        Index(None, "content_sha256"),
    )

    @property
    def state(self) -> str:
        if self.erased_at is not None:
            return "erased"
        return "quarantined" if self.quarantined_rule else "trainable"

    def as_dict(self) -> dict[str, Any]:
        return {column.key: getattr(self, column.key) for column in self.__table__.columns}


class ObjectEventRow(Base):
    """An object event MinIO's PostgreSQL target appended (``learning_images.minio``), waiting for
    the receiver: MinIO writes ``event_time`` and ``event_data``; ``receives`` and ``visible_at``
    are the receiver's lease (``learning_images.registry.sources.postgresql``)."""

    __tablename__ = minio.EVENTS_TABLE

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_data: Mapped[Any] = mapped_column(_EVENT_DATA, nullable=True)
    #: Deliveries so far: a row that keeps failing moves to the dead letters on its last one.
    receives: Mapped[int] = mapped_column(Integer, server_default="0")
    #: Until when it is leased to the receiver that took it; due again from then on.
    visible_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index(None, "visible_at"),)


class DeadLetterEvent(Base):
    """An event the receiver gave up on, with why: kept for a person, never retried by itself."""

    __tablename__ = minio.DEAD_LETTER_TABLE

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_data: Mapped[Any] = mapped_column(_EVENT_DATA, nullable=True)
    receives: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    dead_lettered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


#: The columns that hold the contract's metadata fields, by field name.
METADATA_COLUMNS = (*contract.METADATA_FIELDS, *contract.EXTRA_METADATA_FIELDS)


def trainable() -> Select[tuple[LearningSample]]:
    """The rows training may read: registered, not quarantined, not erased, not the verifier's
    probe (the query pattern's first step: table, then ``image_reference``, then fetch, then verify)."""
    return select(LearningSample).where(
        LearningSample.erased_at.is_(None),
        LearningSample.quarantined_rule.is_(None),
        LearningSample.label_status.in_([label.value for label in contract.UPLOAD_LABELS]),
        LearningSample.city_id != contract.PROBE_CITY_ID,
    )
