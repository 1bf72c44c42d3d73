"""Bounded concurrency for the operations: at most ``workers`` items in flight, whatever the
size of the input, results in completion order. Memory stays flat on a million objects, and
an interrupt stops the submission at once (items already running finish)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(function: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``function`` over ``items`` on ``workers`` threads, never more than ``2 x workers`` pending."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: set[Future[R]] = set()
        try:
            for item in items:
                pending.add(pool.submit(function, item))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        finally:
            for future in pending:
                future.cancel()


class Ticker:
    """Progress outside a terminal: one plain line every ``every`` items (a bar would flood a log)."""

    def __init__(self, label: str, write: Callable[[str], None], every: int = 1000) -> None:
        self.label, self.write, self.every, self.count = label, write, every, 0
        self._lock = threading.Lock()  # ticked from worker threads

    def tick(self) -> None:
        with self._lock:
            self.count += 1
            due = self.count % self.every == 0
            count = self.count
        if due:
            self.write(f"{self.label}: {count} done")
