"""What starting the enforcing local S3 costs: a front forked from the fork server against one
started as its own command (the baseline, as ``up`` still starts it).

    python -m bench.front_start [--rounds 5]

Each round starts one front each way (the order alternating), waits until it serves, asks it once
(an operator made through IAM, then its ListBuckets, so moto has imported what first requests
need), then reads the front's own CPU
time from ``/proc/<pid>/stat`` before stopping it: the front's CPU, not the caller's, and not its
evaluator processes', which both ways start alike. The ratio is taken within each round and its
median reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.rounds import in_turn
from learning_images.sandbox.local import REGION, create_operator, start_front


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (fields 14 and 15 of /proc/<pid>/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_start(detached: bool) -> tuple[float, float]:
    """Seconds until the front served its first request, and the front's CPU seconds by then."""
    import boto3  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="bench-front-") as tmp:
        started = time.perf_counter()
        process, emulator = start_front(Path(tmp), detached=detached)
        os.environ["AWS_CA_BUNDLE"] = str(emulator.ca_bundle)
        operator = create_operator(emulator.url)
        boto3.client("s3", endpoint_url=emulator.url, region_name=REGION, **operator).list_buckets()
        wall = time.perf_counter() - started
        cpu = cpu_seconds(process.pid)
        process.terminate()
        process.wait(timeout=10)
        return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    one_start(detached=False)  # the fork server's own start, once per process: not a front's
    found: dict[str, list[tuple[float, float]]] = {"command": [], "forked": []}
    for round_number in range(args.rounds):
        for variant in in_turn(list(found), round_number):
            found[variant].append(one_start(detached=variant == "command"))
    for variant, runs in found.items():
        print(
            f"{variant:8} start to first answer {statistics.median(w for w, _ in runs):5.2f} s, "
            f"front CPU {statistics.median(c for _, c in runs):5.2f} s (median of {len(runs)})"
        )
    ratios = sorted(f[1] / c[1] for f, c in zip(found["forked"], found["command"], strict=True))
    walls = sorted(f[0] / c[0] for f, c in zip(found["forked"], found["command"], strict=True))
    print(f"forked / command: CPU {statistics.median(ratios):.2f}x, start {statistics.median(walls):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
