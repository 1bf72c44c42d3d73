"""Render prod under Pulumi's mocks with a growing number of cities, in both city modes.

Prints, per mode and size: render time, resource count, and each policy document's size against
its AWS limit. Run with ``make bench`` (or ``python -m bench.render_scale --cities 10 100 1000
--certificate-cities 10 1000 100000``). Timings are this machine's, under mocks (no provider, no
network): they measure the program's own cost, which is what grows with cities.

- access keys: every city of ``cityIds`` is an IAM user with a key (three resources a city), so the
  program grows with the cities; 100,000 is out of reach (the account's IAM user quota is 5,000 by
  default, and Pulumi's own cost grows faster than linearly past a few hundred resources);
- certificates (``cityAuthentication: certificates``): a city is a certificate of the cities' CA,
  not an input of the program, so the same program is rendered for any number of cities: each
  count renders it again, and the ratio to the access-keys render of the same count is printed.
"""

from __future__ import annotations

import argparse
import json
import time

from learning_images.sandbox.render import Graph, render, stack_config
from learning_images_infra.aws.iam import POLICY_SIZE_LIMITS, compact_size

CERTIFICATES = {
    "learning-images:cityIds": "[]",
    "learning-images:cityAuthentication": "certificates",
    "learning-images:cityPrivateCaArn": "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/cities",
}


def measure(cities: int, *, certificates: bool = False) -> tuple[float, Graph]:
    """Render prod with ``cities`` cities: listed in cityIds, or (certificates) issued by the CA,
    which the program never sees."""
    listed = {"learning-images:cityIds": json.dumps([f"city-{n:06d}" for n in range(cities)])}
    config = {**stack_config("prod"), **(CERTIFICATES if certificates else listed)}
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


def print_runs(title: str, runs: list[tuple[int, float, Graph]]) -> None:
    print(f"\n{title}\n")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cities", type=int, nargs="+", default=[10, 100, 1000], help="access-key city counts")
    parser.add_argument(
        "--certificate-cities", type=int, nargs="+", default=[10, 1000, 100000], help="certificate city counts"
    )
    args = parser.parse_args()
    measure(1)  # warm-up: imports and first-render costs are not the program's per-city cost
    keys = [(count, *measure(count)) for count in args.cities]
    certificates = [(count, *measure(count, certificates=True)) for count in args.certificate_cities]
    print_runs("cityAuthentication: access-keys (one IAM user and key per city)", keys)
    print_runs("cityAuthentication: certificates (no input per city: the same program at every count)", certificates)
    by_count = {count: seconds for count, seconds, _ in keys}
    ratios = [f"{count}: {by_count[count] / seconds:.1f}x" for count, seconds, _ in certificates if count in by_count]
    if ratios:
        print(f"\naccess-keys render / certificates render, same city count: {', '.join(ratios)}")


if __name__ == "__main__":
    main()
