"""The Command Centre's daily ingest report, from ``learning_samples``: per city and upload day, what
was registered by label, what was quarantined with the rule it breaks, what was erased, and how
many rows repeat bytes an earlier row holds (the contract's deduplication). One GROUP BY over the
indexed table, whatever the bucket holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from learning_images import contract
from learning_images.registry.database import DatabaseError
from learning_images.registry.models import LearningSample
from learning_images.registry.selection import uploaded_within


@dataclass
class Day:
    """One city's day of uploads."""

    city_id: str
    day: str
    registered: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    erased: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "city_id": self.city_id,
            "day": self.day,
            "registered": dict(sorted(self.registered.items())),
            "quarantined": dict(sorted(self.quarantined.items())),
            "erased": self.erased,
            "duplicates": self.duplicates,
        }


def ingest_report(engine: Engine, days: contract.UploadDays) -> list[Day]:
    """The report's rows, by city then day, for the upload days ``days`` (all where unbounded)."""
    day = func.substr(LearningSample.uploaded_at, 1, 10).label("day")
    city = func.coalesce(LearningSample.city_id, "(none)").label("city")
    state = select(
        city,
        day,
        LearningSample.label_status,
        LearningSample.quarantined_rule,
        LearningSample.erased_at.is_not(None),
        func.count(),
    ).group_by(
        city, day, LearningSample.label_status, LearningSample.quarantined_rule, LearningSample.erased_at.is_not(None)
    )
    earlier = aliased(LearningSample)
    repeated = (
        select(city, day, func.count())
        .where(
            select(earlier.id)
            .where(and_(earlier.content_sha256 == LearningSample.content_sha256, earlier.id < LearningSample.id))
            .exists()
        )
        .group_by(city, day)
    )
    state = state.where(*uploaded_within(days))
    repeated = repeated.where(*uploaded_within(days))
    found: dict[tuple[str, str], Day] = {}
    try:
        with engine.connect() as connection:
            for city_id, on, label, rule, erased, count in connection.execute(state):
                entry = found.setdefault((city_id, on or "(unknown)"), Day(city_id, on or "(unknown)"))
                if erased:
                    entry.erased += count
                elif rule:
                    entry.quarantined[rule] = entry.quarantined.get(rule, 0) + count
                else:
                    entry.registered[label] = entry.registered.get(label, 0) + count
            for city_id, on, count in connection.execute(repeated):
                found.setdefault((city_id, on or "(unknown)"), Day(city_id, on or "(unknown)")).duplicates += count
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the learning store refused the report ({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None
    return [found[key] for key in sorted(found)]


def totals(report: list[Day]) -> Iterator[tuple[str, int]]:
    yield "registered", sum(sum(d.registered.values()) for d in report)
    yield "quarantined", sum(sum(d.quarantined.values()) for d in report)
    yield "erased", sum(d.erased for d in report)
    yield "duplicates", sum(d.duplicates for d in report)
