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


class JsonlReport:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.counts: Counter[str] = Counter()
        self._handle: IO[str] | None = None
        self.committed = False

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
        assert self._handle is not None, "write() outside the report's with-block"
        self._handle.write(json.dumps(row, sort_keys=True) + "\n")
        self._handle.flush()
        self.counts[str(row["status"])] += 1

    def commit(self) -> None:
        """The run completed: the report takes its final name."""
        assert self._handle is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        os.replace(self.partial, self.path)
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
