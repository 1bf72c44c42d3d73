"""JSONL reports written all-or-nothing, shared by the uploader, erasure and retention.

Rows go to ``<report>.partial`` as they are produced (memory stays bounded however long the
batch) and the file takes its final name only when the run completes. A run that stops on a
fatal error or an interrupt removes the partial file: a report that exists is a whole report.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from rich.console import Console
from rich.table import Table


class JsonlReport:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.counts: Counter[str] = Counter()
        self._handle: IO[str] | None = None

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.partial.open("w", encoding="utf-8")
        return self

    def write(self, row: dict[str, Any]) -> None:
        assert self._handle is not None, "write() outside the report's with-block"
        self._handle.write(json.dumps(row, sort_keys=True) + "\n")
        self.counts[str(row["status"])] += 1

    def commit(self) -> None:
        """The run completed: the report takes its final name."""
        assert self._handle is not None
        self._handle.close()
        os.replace(self.partial, self.path)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._handle is not None and not self._handle.closed:
            self._handle.close()
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
