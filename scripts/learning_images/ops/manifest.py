"""A city's batch manifest: one record per sample, read lazily and validated field by field.

CSV (with a header row) or JSONL, chosen by the file's extension. Columns/keys:

    image         path of the JPEG, relative to the images folder
    camera_id     the camera (S3 tag-value characters, at most 256)
    event_id      the detection event (same rule)
    label_status  correct | changed | unsure
    captured_at   ISO 8601 with a time zone, e.g. 2026-11-23T17:04:05Z
    quality       optional number from 0 to 1; compared with the uploader's --min-quality

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
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from learning_images import contract

REQUIRED_COLUMNS = ("image", "camera_id", "event_id", "label_status", "captured_at")
OPTIONAL_COLUMNS = ("quality",)
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

#: A camera or event id as the contract writes it (tag-value characters, no space at either end or
#: two in a row): what the bucket policy, the gateway and the signature all see the same way.
IdValue = Annotated[str, Field(pattern=contract.ID_PATTERN.pattern)]


class ManifestError(Exception):
    """The file is not a manifest; the message says what is wrong and what is expected."""


class Sample(BaseModel):
    """One valid manifest record."""

    # python-re: the id pattern looks around (no space at its ends), which Rust's regex cannot.
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True, regex_engine="python-re")

    image: str
    camera_id: IdValue
    event_id: IdValue
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

    @field_validator("captured_at", mode="before")
    @classmethod
    def _iso_8601_with_a_zone(cls, value: Any) -> Any:
        # pydantic would also take an epoch number or a digit string (`20261123` as seconds).
        if isinstance(value, datetime):
            return value  # from code, not a manifest: AwareDatetime still requires its zone
        if not isinstance(value, str) or not contract.ZONED_TIMESTAMP_PATTERN.match(value.strip()):
            raise ValueError("must be ISO 8601 with a time zone, e.g. 2026-11-23T17:04:05Z")
        return value

    @field_validator("quality", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("quality")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        low, high = contract.QUALITY_RANGE
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"must be a number from {low:g} to {high:g}")
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


#: A CSV field may be this long; longer is a broken file (an image path or an id is never near it).
FIELD_LIMIT = 64 * 1024
#: Delimiters a spreadsheet export may use; the header decides which.
DELIMITERS = (",", ";", "\t")


def _open(path: Path) -> Any:
    """The manifest as text; a UTF-8 byte-order mark (spreadsheet exports) is not part of it."""
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ManifestError(f"manifest {path} does not exist") from None
    except IsADirectoryError:
        raise ManifestError(f"manifest {path} is a folder, not a file") from None
    except PermissionError:
        raise ManifestError(f"manifest {path} cannot be read (permission denied)") from None


def _delimiter(path: Path, header_line: str) -> str:
    found = [d for d in DELIMITERS if d in header_line]
    if len(found) != 1:
        return ","  # the header check names what is missing
    return found[0]


def check_manifest(path: Path) -> int:
    """Read the whole manifest once before anything is uploaded: a file that is not a manifest,
    or a CSV that cannot be read to its end (a quote that never closes swallows every later line;
    an absurdly long field), is refused here, with its line, and nothing is sent. Returns the
    number of records."""
    kind = manifest_format(path)
    with _open(path) as handle:
        try:
            if kind == "jsonl":
                return sum(1 for record in _jsonl_records(path, handle) if record is not None)
            header_line = handle.readline()
            handle.seek(0)
            reader = csv.reader(handle, delimiter=_delimiter(path, header_line), strict=True)
            count = 0
            for row in reader:
                if any(len(field) > FIELD_LIMIT for field in row):
                    raise ManifestError(
                        f"manifest {path} line {reader.line_num}: a field is longer than {FIELD_LIMIT} characters "
                        "(a quote that never closes?)"
                    )
                count += 1
        except csv.Error as exc:
            raise ManifestError(
                f"manifest {path} is not readable CSV near line {reader.line_num}: {exc} "
                "(a quote that never closes swallows every later line; close it or remove it)"
            ) from None
        except UnicodeDecodeError:
            raise ManifestError(f"manifest {path} is not UTF-8 text: line {first_non_utf8_line(path)}") from None
    if count and kind == "csv":
        next(iter(read_manifest(path)), None)  # the header check
    return max(0, count - 1)


def read_manifest(path: Path) -> Iterator[Record]:
    """Yield the records one by one (a batch of any size is never held in memory)."""
    kind = manifest_format(path)
    with _open(path) as handle:
        try:
            yield from (_csv_records if kind == "csv" else _jsonl_records)(path, handle)
        except UnicodeDecodeError:
            raise ManifestError(f"manifest {path} is not UTF-8 text: line {first_non_utf8_line(path)}") from None


def first_non_utf8_line(path: Path) -> int:
    """The number of the first line that is not UTF-8, for the error that names it."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _csv_records(path: Path, handle: Any) -> Iterator[Record]:
    header_line = handle.readline()
    handle.seek(0)
    delimiter = _delimiter(path, header_line)
    reader = csv.DictReader(handle, delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    if missing := [c for c in REQUIRED_COLUMNS if c not in header]:
        raise ManifestError(
            f"manifest {path} is not a batch manifest: its header lacks {', '.join(missing)} "
            f"(required columns: {', '.join(REQUIRED_COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)}; "
            "separated by commas, semicolons or tabs)"
        )
    if duplicated := sorted({c for c in header if header.count(c) > 1 and c}):
        raise ManifestError(
            f"manifest {path} has the column {', '.join(duplicated)} more than once: which one is meant is "
            "unknown, so nothing is uploaded (keep one)"
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
    """Records in the manifest (the progress bar's total); refuses a broken file like check_manifest."""
    return check_manifest(path)
