"""The operations' bounded concurrency: every item done once, never more than 2 x workers in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from learning_images.concurrency import Ticker, bounded_map


def test_every_item_is_done_once_with_at_most_twice_the_workers_pending() -> None:
    lock, state = threading.Lock(), {"running": 0, "peak": 0, "pulled": 0, "done": 0}

    def items() -> Iterator[int]:
        for number in range(200):
            with lock:
                state["pulled"] += 1
                # What the map has taken from the input but not yet handed back.
                state["peak"] = max(state["peak"], state["pulled"] - state["done"])
            yield number

    def work(number: int) -> int:
        time.sleep(0.001)
        return number * 2

    results = []
    for result in bounded_map(work, items(), workers=4):
        with lock:
            state["done"] += 1
        results.append(result)
    assert sorted(results) == [n * 2 for n in range(200)]
    assert state["peak"] <= 2 * 4 + 1, f"{state['peak']} items pending at once: memory must stay bounded"


def test_progress_outside_a_terminal_is_a_line_every_thousand() -> None:
    lines: list[str] = []
    ticker = Ticker("retention", lines.append, every=1000)
    for _ in range(2500):
        ticker.tick()
    assert lines == ["retention: 1000 done", "retention: 2000 done"]
