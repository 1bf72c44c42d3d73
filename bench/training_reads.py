"""Training reads: the reader (fetch, verify against the row, cache) against a bare concurrent GET
loop of the same objects (the ceiling), and a cached epoch against the first.

    python -m bench.training_reads [--images 400] [--size 65536] [--workers 16] [--rounds 3]

One enforcing local S3 with the local stack and a SQLite learning store; ``--images`` images of
``--size`` bytes uploaded as a city and registered by the receiver. Each round, in turn: the bare
loop (GetObject and read the body, ``--workers`` at a time, the training tier's client), the
reader's first epoch into an empty cache, and its second epoch from that cache.

Targets (issue 26): the reader at least 0.9x the bare loop; a cached epoch at least 10x the first.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.rounds import in_turn


def main() -> int:  # noqa: PLR0915 (one benchmark, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--size", type=int, default=65536)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from pydantic import SecretStr  # noqa: PLC0415

    from learning_images.concurrency import bounded_map  # noqa: PLC0415
    from learning_images.ops import register  # noqa: PLC0415
    from learning_images.ops.clients import Endpoint, new_session, training_session  # noqa: PLC0415
    from learning_images.outputs import parse_outputs  # noqa: PLC0415
    from learning_images.registry.database import connect, upgrade  # noqa: PLC0415
    from learning_images.sandbox.local import REGION, local_store  # noqa: PLC0415
    from learning_images.training.cache import Cache  # noqa: PLC0415
    from learning_images.training.reader import Reader  # noqa: PLC0415
    from learning_images.training.selection import Selection, samples  # noqa: PLC0415
    from tests.support.ops import sample, upload, write_batch  # noqa: PLC0415

    seconds: dict[str, list[float]] = {"bare GET loop": [], "reader, first epoch": [], "reader, cached epoch": []}
    with local_store() as store, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        url = SecretStr(f"sqlite:///{folder / 'learning_samples.db'}")
        (folder / "database-url").write_text(url.get_secret_value())
        engine = connect(url)
        upgrade(engine)
        rows = [sample(f"img-{n:05d}.jpg", camera_id="cam-bench-training") for n in range(args.images)]
        manifest = write_batch(folder / "batch", rows, size=args.size)
        assert upload(store, folder / "batch", manifest, folder / "report.jsonl", "--quiet") == 0
        operator = new_session(region_name=REGION, **store.operator)
        receiver = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--quiet"]
        receiver += ["--database-url-file", str(folder / "database-url"), "--once", "--wait", "1"]
        assert register.main(receiver, operator=operator) == 0
        outputs = parse_outputs(store.outputs, "the sandbox")
        endpoint = Endpoint(store.url, REGION, timeout=30)
        s3 = endpoint.client(training_session(outputs, operator, endpoint, "bench"), "s3", max_pool_connections=64)
        chosen = samples(engine, outputs.bucket_name, Selection(camera_ids=["cam-bench-training"]))
        assert len(chosen) == args.images, f"{len(chosen)} registered of {args.images}"

        def bare() -> int:
            def get(key: str) -> int:
                return len(s3.get_object(Bucket=outputs.bucket_name, Key=key)["Body"].read())

            return sum(bounded_map(get, [s.object_key for s in chosen], args.workers))

        def epochs() -> tuple[float, float]:
            cache_dir = folder / "cache"
            shutil.rmtree(cache_dir, ignore_errors=True)
            reader = Reader(outputs, engine, lambda: s3, Cache(cache_dir), workers=args.workers)
            timed = []
            for _ in range(2):
                started = time.perf_counter()
                assert sum(1 for _ in reader.read_all(chosen)) == args.images, reader.counts.skipped
                timed.append(time.perf_counter() - started)
            return timed[0], timed[1]

        variants: dict[str, Any] = {"bare": bare, "reader": epochs}
        for number in range(args.rounds):
            for name in in_turn(list(variants), number):
                started = time.perf_counter()
                found = variants[name]()
                if name == "bare":
                    seconds["bare GET loop"].append(time.perf_counter() - started)
                else:
                    seconds["reader, first epoch"].append(found[0])
                    seconds["reader, cached epoch"].append(found[1])
    median = {name: statistics.median(values) for name, values in seconds.items()}
    print(f"{args.images} images of {args.size} bytes, --workers {args.workers}, median of {args.rounds} rounds")
    for name, value in median.items():
        print(f"  {name:<22} {value:6.2f} s  {args.images / value:7.1f} images/s")
    print(f"reader / bare loop (throughput): {median['bare GET loop'] / median['reader, first epoch']:.2f}x")
    cached = median["reader, first epoch"] / median["reader, cached epoch"]
    print(f"cached epoch / first epoch (throughput): {cached:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
