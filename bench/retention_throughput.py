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
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import boto3  # noqa: PLC0415

    from learning_images.ops import retention  # noqa: PLC0415
    from learning_images.sandbox.sandbox import REGION, local_store  # noqa: PLC0415
    from tests.ops import jpeg, sample, upload, write_csv  # noqa: PLC0415

    seconds: dict[int, list[float]] = {1: [], args.workers: []}
    with local_store() as store, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        rows = [sample(f"{i:06d}.jpg") for i in range(args.objects)]
        for row in rows:
            jpeg(folder / row["image"], size=1024)
        assert upload(store, folder, write_csv(folder / "m.csv", rows), folder / "up.jsonl", "--quiet") == 0
        operator = boto3.Session(region_name=REGION, **store.operator)
        common = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--quiet"]
        for number in range(args.rounds):
            order = [1, args.workers] if number % 2 == 0 else [args.workers, 1]
            for workers in order:
                report = folder / f"retention-{number}-{workers}.jsonl"
                started = time.perf_counter()
                code = retention.main([*common, "--report", str(report), "--workers", str(workers)], operator=operator)
                seconds[workers].append(time.perf_counter() - started)
                assert code == 0
    ratios = sorted(s / c for s, c in zip(seconds[1], seconds[args.workers], strict=True))
    print(f"retention dry run over {args.objects} objects, enforcing local S3 on 127.0.0.1, median of {args.rounds}")
    for workers, values in seconds.items():
        median = statistics.median(values)
        print(f"  --workers {workers:<3} {median:6.2f} s  {args.objects / median:7.1f} objects/s")
    print(f"concurrent / sequential: {statistics.median(ratios):.1f}x (range {ratios[0]:.1f}-{ratios[-1]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
