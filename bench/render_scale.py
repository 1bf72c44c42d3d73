"""Render prod under Pulumi's mocks with a growing number of cities.

Prints, per size: render time, resource count, and each policy document's size against its
AWS limit. Run with ``make bench`` (or ``python -m bench.render_scale --cities 10 100 1000``).
Timings are this machine's, under mocks (no provider, no network): they measure the program's
own cost, which is what grows with cities.
"""

from __future__ import annotations

import argparse
import json
import time

from infra.aws.iam import POLICY_SIZE_LIMITS, compact_size
from learning_images.sandbox.render import Graph, render, stack_config


def measure(cities: int) -> tuple[float, Graph]:
    config = {**stack_config("prod"), "learning-images:cityIds": json.dumps([f"city-{n:04d}" for n in range(cities)])}
    started = time.perf_counter()
    graph = render(config, stack="prod")
    return time.perf_counter() - started, graph


def policy_sizes(graph: Graph) -> dict[str, tuple[int, int]]:
    """Policy resource name -> (compact size, AWS limit)."""
    return {
        r.name: (compact_size(r.inputs["policy"]), POLICY_SIZE_LIMITS[r.type])
        for r in graph
        if r.type in POLICY_SIZE_LIMITS and "policy" in r.inputs
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cities", type=int, nargs="+", default=[10, 100, 1000], help="city counts to render")
    args = parser.parse_args()
    measure(1)  # warm-up: imports and first-render costs are not the program's per-city cost
    runs = [(count, *measure(count)) for count in args.cities]

    print("| cities | render (s) | resources | ms per resource |")
    print("|---:|---:|---:|---:|")
    for count, seconds, graph in runs:
        print(f"| {count} | {seconds:.2f} | {len(graph.resources)} | {1000 * seconds / len(graph.resources):.1f} |")

    sizes = [policy_sizes(graph) for _, _, graph in runs]
    print()
    print("| policy document | AWS limit | " + " | ".join(f"{count} cities" for count, _, _ in runs) + " |")
    print("|---|---:|" + "---:|" * len(runs))
    for name in sorted(sizes[0]):
        limit = sizes[0][name][1]
        cells = " | ".join(f"{s[name][0]} ({100 * s[name][0] / limit:.0f}%)" for s in sizes)
        print(f"| `{name}` | {limit} | {cells} |")


if __name__ == "__main__":
    main()
