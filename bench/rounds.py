"""What every benchmark here does the same way: the variants' order within a round, and the
report of a concurrent variant against a sequential one."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TypeVar

Variant = TypeVar("Variant")


def in_turn(variants: Sequence[Variant], round_number: int) -> list[Variant]:
    """The variants in this round's order, rotated each round: the server's state grows with every
    run, and a fixed order would hand the same variant the emptiest server every time."""
    shift = round_number % len(variants)
    return [*variants[shift:], *variants[:shift]]


def print_workers_ratio(title: str, seconds: dict[int, list[float]], items: int, unit: str) -> None:
    """Median seconds and rate per ``--workers`` value, then the sequential/concurrent ratio taken
    within each round (``seconds`` holds ``1`` first, then the concurrent count)."""
    sequential, concurrent = seconds.values()
    ratios = sorted(s / c for s, c in zip(sequential, concurrent, strict=True))
    print(title)
    for workers, values in seconds.items():
        median = statistics.median(values)
        print(f"  --workers {workers:<3} {median:6.2f} s  {items / median:7.1f} {unit}/s")
    print(f"concurrent / sequential: {statistics.median(ratios):.1f}x (range {ratios[0]:.1f}-{ratios[-1]:.1f})")
