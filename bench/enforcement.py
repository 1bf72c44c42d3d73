"""What enforcement costs: the uploader against the enforcing local S3 and against moto alone.

    python -m bench.enforcement [--files 300] [--size-kib 64] [--workers 16] [--rounds 3]

Two local S3s in one run, the same server (learning_images.sandbox.front, HTTPS on 127.0.0.1)
with the local stack provisioned in each: one judging every request with the IAM evaluator,
one passing everything to moto (``--pass-through``, the baseline). The batch uploader uploads
the same fresh files to each, the order alternating from round to round; the ratio is taken
within each round and its median reported. Two cores are shared by the client, moto and the
evaluator, so the figure describes this machine, not AWS.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.rounds import in_turn

CITY = "sandbox-city"


def upload_seconds(outputs_file: Path, url: str, folder: Path, workers: int, ca_bundle: Path) -> float:
    """One batch upload by the real command, in its own process (imports outside the clock would
    need the in-process path; both variants pay the same start-up, so the ratio is fair)."""
    command = [
        sys.executable,
        "-m",
        "learning_images.ops.upload_batch",
        "--outputs",
        str(outputs_file),
        "--endpoint-url",
        url,
        "--city",
        CITY,
        "--images",
        str(folder),
        "--manifest",
        str(folder / "manifest.csv"),
        "--report",
        str(folder / f"report-{time.monotonic_ns()}.jsonl"),
        "--workers",
        str(workers),
        "--quiet",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={"AWS_CA_BUNDLE": str(ca_bundle), "PATH": ""})  # noqa: S603
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--size-kib", type=int, default=64)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from learning_images.sandbox.local import local_store  # noqa: PLC0415
    from tests.support.ops import sample, write_batch  # noqa: PLC0415

    seconds: dict[str, list[float]] = {"enforcing": [], "moto alone": []}
    with ExitStack() as stack:
        stores = {
            "enforcing": stack.enter_context(local_store(enforce=True)),
            "moto alone": stack.enter_context(local_store(enforce=False)),
        }
        for number in range(args.rounds):
            for variant in in_turn(list(stores), number):
                store = stores[variant]
                with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                    folder = Path(tmp)
                    rows = [sample(f"{i:06d}.jpg") for i in range(args.files)]
                    write_batch(folder, rows, "manifest.csv", size=args.size_kib * 1024)
                    seconds[variant].append(
                        upload_seconds(store.outputs_file, store.url, folder, args.workers, store.ca_bundle)
                    )
    ratios = sorted(b / e for e, b in zip(seconds["enforcing"], seconds["moto alone"], strict=True))
    print(
        f"{args.files} files x {args.size_kib} KiB, {args.workers} workers, the uploader over HTTPS on 127.0.0.1, "
        f"median of {args.rounds} rounds"
    )
    for variant, values in seconds.items():
        median = statistics.median(values)
        print(f"  {variant:<12} {median:6.2f} s  {args.files / median:7.1f} files/s")
    print(
        f"enforcing / moto alone: {statistics.median(ratios):.2f}x the throughput "
        f"(median of the rounds' ratios; range {ratios[0]:.2f}-{ratios[-1]:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
