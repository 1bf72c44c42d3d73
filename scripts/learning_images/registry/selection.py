"""What the Command Centre's operations select in ``learning_samples`` instead of reading the bucket:
the contract's query pattern (table, then ``image_reference``, then the object), so an operation
costs what it touches, not what the bucket holds.

- GDPR erasure "via metadata queries": the rows of a city, camera, event and upload-date range;
- marking rows erased once their objects are gone (erasure, retention), in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from learning_images import contract
from learning_images.registry.database import DatabaseError
from learning_images.registry.models import LearningSample

#: The columns a metadata selection may filter on, by the contract's field names.
SELECTABLE = {
    contract.CITY_ID: LearningSample.city_id,
    contract.CAMERA_ID: LearningSample.camera_id,
    contract.EVENT_ID: LearningSample.event_id,
}


#: References per UPDATE ... IN (...): below every database's limit on bound parameters.
_CHUNK = 500


def uploaded_within(days: contract.UploadDays) -> list[ColumnElement[bool]]:
    """The conditions on ``uploaded_at`` of an upload-day range: ISO 8601 UTC text, whose order is
    time order, so a day range is a text range (the last day up to the next one's midnight)."""
    found: list[ColumnElement[bool]] = []
    if days.first is not None:
        found.append(LearningSample.uploaded_at >= days.first.isoformat())
    if days.last is not None:
        found.append(LearningSample.uploaded_at < (days.last + timedelta(days=1)).isoformat())
    return found


def erasure_keys(engine: Engine, bucket: str, selector: Mapping[str, str], uploaded: contract.UploadDays) -> list[str]:
    """The object keys of the rows not yet erased in ``bucket`` that match every field of
    ``selector`` and the upload range; one indexed query (``city_id, camera_id, event_id``)."""
    query = select(LearningSample.object_key).where(LearningSample.bucket == bucket, LearningSample.erased_at.is_(None))
    for name, value in selector.items():
        query = query.where(SELECTABLE[name] == value)
    # uploaded_at is ISO 8601 UTC text: its order is time order, so a day range is a text range.
    query = query.where(*uploaded_within(uploaded))
    try:
        with engine.connect() as connection:
            return list(connection.execute(query.order_by(LearningSample.id)).scalars())
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the learning store refused the selection ({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None


def mark_erased(engine: Engine, references: Iterable[str], by: str) -> int:
    """Mark the rows of ``references`` erased now (those not marked yet), in one transaction; how many."""
    found = list(references)
    if not found:
        return 0
    now, marked = datetime.now(UTC), 0
    try:
        with engine.begin() as connection:
            for start in range(0, len(found), _CHUNK):
                done = connection.execute(
                    update(LearningSample)
                    .where(
                        LearningSample.image_reference.in_(found[start : start + _CHUNK]),
                        LearningSample.erased_at.is_(None),
                    )
                    .values(erased_at=now, erased_by=by[:64])
                )
                marked += int(done.rowcount)
        return marked
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the learning store refused marking rows erased ({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None


def due_rows(
    engine: Engine, bucket: str, rules: Iterable[contract.LifecycleRule], as_of: datetime
) -> list[tuple[str, str, datetime]]:
    """(key, label, stored_at) of the rows not erased that an expiring lifecycle rule names and that
    are at least its age at ``as_of``: one indexed query per rule (``label_status, stored_at``)."""
    found: list[tuple[str, str, datetime]] = []
    try:
        with engine.connect() as connection:
            for rule in rules:
                if rule.tag is None or rule.tag[0] != contract.LABEL_STATUS or rule.expiration_days is None:
                    continue
                cutoff = as_of.astimezone(UTC) - timedelta(days=rule.expiration_days)
                query = select(LearningSample.object_key, LearningSample.label_status, LearningSample.stored_at).where(
                    LearningSample.bucket == bucket,
                    LearningSample.erased_at.is_(None),
                    LearningSample.label_status == rule.tag[1],
                    LearningSample.stored_at <= cutoff,
                )
                found += [(key, label, at) for key, label, at in connection.execute(query.order_by(LearningSample.id))]
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the learning store refused the selection ({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None
    return found
