"""Retention over many objects: concurrent (the job's default) against the sequential loop it was.

    python -m bench.retention_throughput [--objects 500] [--workers 16] [--rounds 3]

One enforcing local S3 with the local stack, ``--objects`` samples uploaded by the uploader,
then the retention job's dry run over all of them with ``--workers 1`` (one object after another,
what the job did before) and with ``--workers N``, alternating, in the same run. Each object costs
a HeadObject and a GetObjectTagging through the enforcing front, so the figure is about request
latency hidden by concurrency; on AWS, where each request takes tens of milliseconds, the gain is
larger. The ratio is taken within each round; its median is reported.
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
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from learning_images.ops import retention  # noqa: PLC0415
    from learning_images.sandbox.local import REGION, local_store  # noqa: PLC0415
    from tests.support.ops import sample, upload, write_batch  # noqa: PLC0415

    seconds: dict[int, list[float]] = {1: [], args.workers: []}
    with local_store() as store, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        rows = [sample(f"{i:06d}.jpg") for i in range(args.objects)]
        assert upload(store, folder, write_batch(folder, rows, size=1024), folder / "up.jsonl", "--quiet") == 0
        operator = new_session(region_name=REGION, **store.operator)
        common = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--quiet"]
        for number in range(args.rounds):
            for workers in in_turn([1, args.workers], number):
                report = folder / f"retention-{number}-{workers}.jsonl"
                started = time.perf_counter()
                code = retention.main(
                    [*common, "--report", str(report), "--workers", str(workers), "--scan"], operator=operator
                )
                seconds[workers].append(time.perf_counter() - started)
                assert code == 0
    title = f"retention dry run over {args.objects} objects, enforcing local S3 on 127.0.0.1, median of {args.rounds}"
    print_workers_ratio(title, seconds, args.objects, "objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
