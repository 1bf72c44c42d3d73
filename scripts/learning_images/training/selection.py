"""Which samples an epoch reads: trainable rows of ``learning_samples`` (never quarantined, erased
or the verifier's probe) that match the contract's fields, registered before a snapshot time, so
every epoch of a run sees the same set whatever arrives meanwhile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from learning_images import contract
from learning_images.registry.database import DatabaseError
from learning_images.registry.models import METADATA_COLUMNS, LearningSample, trainable
from learning_images.registry.selection import uploaded_within


@dataclass(frozen=True)
class Sample:
    """One row, as the reader needs it: what to fetch and what the fetched image must be."""

    id: int
    image_reference: str
    object_key: str
    size_bytes: int
    #: The contract's fields as registered (``content_sha256`` among them, where the upload set it).
    fields: dict[str, str] = field(default_factory=dict)
    #: The references of later rows of the same bytes (another day, another city), not read again.
    duplicates: tuple[str, ...] = ()

    def __hash__(self) -> int:  # one row, one sample (its fields are a dict)
        return hash(self.id)

    @property
    def content_sha256(self) -> str | None:
        return self.fields.get(contract.CONTENT_SHA256)


@dataclass(frozen=True)
class Selection:
    """Filters on the contract's fields (each a set of allowed values; empty: any) and a snapshot."""

    city_ids: Sequence[str] = ()
    camera_ids: Sequence[str] = ()
    event_ids: Sequence[str] = ()
    labels: Sequence[str] = ()
    uploaded: contract.UploadDays = field(default_factory=contract.UploadDays)
    #: Rows registered after this are left out (None: now, at the query).
    snapshot: datetime | None = None
    #: Each image once (the first row of its bytes, the later ones its ``duplicates``); False: every row.
    distinct: bool = True

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "city_id": list(self.city_ids),
            "camera_id": list(self.camera_ids),
            "event_id": list(self.event_ids),
            "label_status": list(self.labels),
            **self.uploaded.describe(),
        }
        if self.snapshot is not None:
            found["snapshot"] = self.snapshot.isoformat()
        return {name: value for name, value in found.items() if value}


def samples(engine: Engine, bucket: str, selection: Selection) -> list[Sample]:
    """The selection's samples in ``bucket``, in registration order (one query)."""
    query = trainable().where(LearningSample.bucket == bucket)
    for column, allowed in (
        (LearningSample.city_id, selection.city_ids),
        (LearningSample.camera_id, selection.camera_ids),
        (LearningSample.event_id, selection.event_ids),
        (LearningSample.label_status, selection.labels),
    ):
        if allowed:
            query = query.where(column.in_(list(allowed)))
    query = query.where(*uploaded_within(selection.uploaded))
    if selection.snapshot is not None:
        query = query.where(LearningSample.registered_at <= selection.snapshot)
    try:
        with Session(engine) as session:
            found = session.execute(query.order_by(LearningSample.id)).scalars().all()
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the learning store refused the selection ({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None
    chosen = [
        Sample(
            id=row.id,
            image_reference=row.image_reference,
            object_key=row.object_key,
            size_bytes=row.size_bytes,
            fields={name: value for name in METADATA_COLUMNS if (value := getattr(row, name)) is not None},
        )
        for row in found
    ]
    return once_each(chosen) if selection.distinct else chosen


def once_each(chosen: list[Sample]) -> list[Sample]:
    """Each image once: the first row of its bytes (by registration), the later rows of the same
    SHA-256 listed as its duplicates (the contract's "future considerations": deduplication)."""
    first: dict[str, int] = {}
    later: dict[int, list[str]] = {}
    kept: list[Sample] = []
    for sample in chosen:
        digest = sample.content_sha256
        if digest is not None and digest in first:
            later.setdefault(first[digest], []).append(sample.image_reference)
            continue
        if digest is not None:
            first[digest] = sample.id
        kept.append(sample)
    return [replace(s, duplicates=tuple(later[s.id])) if s.id in later else s for s in kept]
