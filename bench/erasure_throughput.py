"""Erasure of many versions: concurrent deletions (the default) against one after another.

    python -m bench.erasure_throughput [--objects 300] [--workers 16] [--rounds 2]

One enforcing local S3 with the local stack; each round uploads ``--objects`` fresh samples for
each variant (one camera per variant and round) and erases them by metadata with ``--confirm``,
``--workers 1`` and ``--workers N`` alternating. The seconds include finding the candidates
(one HeadObject each, 16 at a time in both variants) and proving nothing remains, so the ratio
is the end-to-end gain a Command Centre operator sees.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.rounds import in_turn, print_workers_ratio
from learning_images.ops.clients import new_session


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=300)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from learning_images.ops import erase  # noqa: PLC0415
    from learning_images.sandbox.local import REGION, local_store  # noqa: PLC0415
    from tests.support.ops import sample, upload, write_batch  # noqa: PLC0415

    seconds: dict[int, list[float]] = {1: [], args.workers: []}
    with local_store() as store, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        operator = new_session(region_name=REGION, **store.operator)
        for number in range(args.rounds):
            for workers in in_turn([1, args.workers], number):
                camera = f"cam-bench-{number}-{workers}"
                rows = [sample(f"{camera}-{i:06d}.jpg", camera_id=camera) for i in range(args.objects)]
                manifest = write_batch(folder, rows, f"{camera}.csv", size=1024)
                assert upload(store, folder, manifest, folder / f"{camera}.jsonl", "--quiet") == 0
                command = [
                    *("--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--camera-id", camera),
                    "--scan",
                    *("--confirm", "--workers", str(workers)),
                    *("--report", str(folder / f"erase-{camera}.jsonl"), "--audit", str(folder / "audit.jsonl")),
                ]
                started = time.perf_counter()
                assert erase.main(command, operator=operator) == 0
                seconds[workers].append(time.perf_counter() - started)
    title = f"erasure of {args.objects} objects by metadata, enforcing local S3 on 127.0.0.1, median of {args.rounds}"
    print_workers_ratio(title, seconds, args.objects, "objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
