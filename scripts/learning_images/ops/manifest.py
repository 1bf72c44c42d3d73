"""A city's batch manifest: one record per sample, read lazily and validated field by field.

CSV (with a header row) or JSONL, chosen by the file's extension. Columns/keys:

    image         path of the JPEG, relative to the images folder
    camera_id     the camera (S3 tag-value characters, at most 256)
    event_id      the detection event (same rule)
    label_status  correct | changed | unsure
    captured_at   ISO 8601 with a time zone, e.g. 2026-11-23T17:04:05Z
    quality       optional number; compared with the uploader's --min-quality

Other columns are ignored and never uploaded. A file that is not a manifest (no header with the
required columns, not text, not JSON lines) raises :class:`ManifestError` before any upload;
a record with a bad field becomes an ``invalid`` row that names the field and the reason.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from learning_images import contract

REQUIRED_COLUMNS = ("image", "camera_id", "event_id", "label_status", "captured_at")
OPTIONAL_COLUMNS = ("quality",)
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

TagValue = Annotated[str, Field(pattern=contract.TAG_VALUE_PATTERN.pattern)]


class ManifestError(Exception):
    """The file is not a manifest; the message says what is wrong and what is expected."""


class Sample(BaseModel):
    """One valid manifest record."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    image: str
    camera_id: TagValue
    event_id: TagValue
    label_status: contract.Label
    captured_at: AwareDatetime
    quality: float | None = None

    @field_validator("image")
    @classmethod
    def _relative_path(cls, image: str) -> str:
        path = PurePosixPath(image)
        if not image or path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a path inside the images folder (relative, no '..')")
        return image

    @field_validator("quality", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("quality")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


@dataclass(frozen=True)
class Record:
    """A manifest row: its 1-based number, the raw fields, and the sample or why it is invalid."""

    row: int
    raw: dict[str, Any]
    sample: Sample | None
    #: field -> reason, for an invalid record.
    errors: dict[str, str]


def _validate(row: int, raw: dict[str, Any]) -> Record:
    try:
        return Record(row, raw, Sample.model_validate(raw), {})
    except ValidationError as exc:
        errors = {".".join(str(p) for p in e["loc"]) or "(record)": e["msg"] for e in exc.errors()}
        return Record(row, raw, None, errors)


def manifest_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ManifestError(
            f"manifest {path}: unknown format {path.suffix or '(no extension)'!r}; allowed: {', '.join(FORMATS)}"
        ) from None


def read_manifest(path: Path) -> Iterator[Record]:
    """Yield the records one by one (a batch of any size is never held in memory)."""
    kind = manifest_format(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            yield from (_csv_records if kind == "csv" else _jsonl_records)(path, handle)
    except FileNotFoundError:
        raise ManifestError(f"manifest {path} does not exist") from None
    except UnicodeDecodeError:
        raise ManifestError(f"manifest {path} is not UTF-8 text") from None


def _csv_records(path: Path, handle: Any) -> Iterator[Record]:
    reader = csv.DictReader(handle)
    header = [h.strip() for h in reader.fieldnames or []]
    if missing := [c for c in REQUIRED_COLUMNS if c not in header]:
        raise ManifestError(
            f"manifest {path} is not a batch manifest: its header lacks {', '.join(missing)} "
            f"(required columns: {', '.join(REQUIRED_COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)})"
        )
    reader.fieldnames = header
    for number, row in enumerate(reader, start=1):
        # A short row leaves None values, a long one a None key: both are malformed records.
        if None in row or None in row.values():
            yield Record(number, {k: v for k, v in row.items() if k}, None, {"(record)": "wrong number of columns"})
            continue
        yield _validate(number, dict(row))


def _jsonl_records(path: Path, handle: Any) -> Iterator[Record]:
    number = 0
    for line in handle:
        if not line.strip():
            continue
        number += 1
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raw = None
            reason = f"not JSON ({exc.msg})"
        else:
            reason = "not a JSON object"
        if not isinstance(raw, dict):
            if number == 1:
                raise ManifestError(
                    f"manifest {path} is not a batch manifest: its first line is {reason}; expected one JSON "
                    f"object per line with {', '.join(REQUIRED_COLUMNS)}"
                )
            yield Record(number, {}, None, {"(record)": reason})
            continue
        if number == 1 and not set(REQUIRED_COLUMNS) & set(raw):
            raise ManifestError(
                f"manifest {path} is not a batch manifest: its first record has none of {', '.join(REQUIRED_COLUMNS)}"
            )
        yield _validate(number, raw)


def count_records(path: Path) -> int:
    """Records in the manifest (for the progress bar): one cheap pass without validation."""
    kind = manifest_format(path)
    with path.open(encoding="utf-8", newline="") as handle:
        if kind == "csv":
            return max(0, sum(1 for row in csv.reader(handle) if row) - 1)
        return sum(1 for line in handle if line.strip())
