"""JSONL reports shared by the uploader, erasure and retention: written as the run goes, so a
kill leaves a record of what was done; named as final only when the run completes.

Rows go to ``<report>.partial`` as they are produced, each flushed to the file at once (memory
stays bounded however long the batch, and a killed process leaves every row it wrote). A run
that completes renames it to ``<report>`` after an fsync: a report under its final name is a
whole run's. A run that stops (a fatal error, Ctrl-C, SIGTERM, SIGKILL) leaves the ``.partial``
file as the record of what it did; the next run replaces it. Two runs cannot write one report:
the second is refused at once (an exclusive lock on the ``.partial`` file).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from rich.console import Console
from rich.table import Table


class ReportBusyError(Exception):
    """Another run is writing this report: the message names it."""


class ReportPathError(Exception):
    """The report would replace an input or another run's record: the message names both."""


class ReportWriteError(Exception):
    """The report cannot be written (a full or read-only disk): what is done is not recorded."""


class JsonlReport:
    """``inputs``: files the run reads, which the report must never replace. ``owner``: fields
    every row carries that say whose record it is (the uploader's manifest and city); an existing
    report whose first row has other values (or none) is another run's, and is not replaced."""

    def __init__(self, path: Path, *, inputs: tuple[Path, ...] = (), owner: dict[str, str] | None = None) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.counts: Counter[str] = Counter()
        self._handle: IO[str] | None = None
        self.committed = False
        self.inputs = inputs
        self.owner = owner or {}

    def check_path(self) -> None:
        """Before anything is done: the report is no input, is not another run's, and can be written."""
        mine = {self.path.resolve(), self.partial.resolve()}
        for given in self.inputs:
            if given.resolve() in mine:
                raise ReportPathError(
                    f"--report {self.path} would overwrite the input {given}: give the report its own path"
                )
        for existing in (self.path, self.partial):
            if existing.is_file() and existing.stat().st_size and not self._is_own(existing):
                owner = ", ".join(f"{k} {v}" for k, v in self.owner.items())
                raise ReportPathError(
                    f"{existing} exists and is not the record of this run ({owner}): it is kept; "
                    "choose another --report, or move that file away"
                )
        existed = self.partial.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.partial.open("a", encoding="utf-8") as probe:
                probe.flush()
                os.fsync(probe.fileno())
            if not existed:
                self.partial.unlink()
        except OSError as exc:
            raise ReportWriteError(f"cannot write the report {self.partial} ({exc.strerror or exc})") from None

    def _is_own(self, existing: Path) -> bool:
        if not self.owner:
            return True
        try:
            with existing.open(encoding="utf-8") as handle:
                first = json.loads(handle.readline())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return False
        return isinstance(first, dict) and all(first.get(k) == v for k, v in self.owner.items())

    def __enter__(self) -> Self:
        self.check_path()
        handle = self.partial.open("a", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ReportBusyError(
                f"another run is writing {self.path} right now; give this one its own --report"
            ) from None
        handle.truncate(0)
        self._handle = handle
        return self

    def write(self, row: dict[str, Any]) -> None:
        """One row, on disk before this returns. A failed write (full or read-only disk) raises
        :class:`ReportWriteError`: the caller must stop, since what it does next would go unrecorded."""
        assert self._handle is not None, "write() outside the report's with-block"
        try:
            self._handle.write(json.dumps({**row, **self.owner}, sort_keys=True) + "\n")
            self._handle.flush()
        except OSError as exc:
            raise ReportWriteError(
                f"writing the report {self.partial} failed ({exc.strerror or exc}) "
                f"after {sum(self.counts.values())} rows"
            ) from None
        self.counts[str(row["status"])] += 1

    def commit(self) -> None:
        """The run completed: the report takes its final name."""
        assert self._handle is not None
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            os.replace(self.partial, self.path)
        except OSError as exc:
            raise ReportWriteError(f"completing the report {self.path} failed ({exc.strerror or exc})") from None
        self._handle.close()
        self.committed = True

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # Not committed: the .partial file stays, the record of what this run did (unless it did
        # nothing, which needs no record).
        if self._handle is not None and not self._handle.closed:
            self._handle.close()
            if not self.counts:
                self.partial.unlink(missing_ok=True)


def print_counts(console: Console, title: str, counts: Counter[str], order: list[str]) -> None:
    table = Table(title=title)
    table.add_column("status")
    table.add_column("rows", justify="right")
    for status in [*order, *sorted(set(counts) - set(order))]:
        if counts.get(status):
            table.add_row(status, str(counts[status]))
    table.add_row("total", str(sum(counts.values())), style="bold")
    console.print(table)
