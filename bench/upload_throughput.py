"""Uploader throughput against the local S3, beside two plain boto3 loops on the same files.

    python -m bench.upload_throughput [--files 600] [--size-kib 256] [--workers 16]

One moto server, the local stack, the city's credentials for every variant, in one run:

- sequential: a plain ``put_object`` loop, one file after another;
- ceiling: ``put_object`` from ``--workers`` threads with no checks, no metadata, no tags (what
  the endpoint can take from this client);
- same-requests: the uploader's request shape (metadata, tags, checksum, ``If-None-Match``) from
  the same threads, without its selection, naming or report: what the request shape costs;
- uploader: ``learning_images.ops.upload_batch`` (validation, hashing, UUID v5 keys, metadata, tags,
  checksum, ``If-None-Match``, report), with the same number of workers.

Each variant runs in its own process, so its peak memory (high-water RSS since exec) is its
own. The order of the variants rotates from round to round, and the uploader's ratio to the
ceiling is taken within each round. The numbers describe this machine and moto, not AWS: on
two cores the server and the client share the CPU, so the client's CPU seconds are reported
beside its throughput.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.rounds import in_turn

VARIANTS = ("sequential", "ceiling", "same-requests", "uploader")
CITY = "sandbox-city"  # the local stack's city (Pulumi.local.yaml)


def s3_client(outputs: dict[str, Any], url: str, workers: int) -> Any:
    import boto3  # noqa: PLC0415 (child process only)
    from botocore.config import Config  # noqa: PLC0415

    key = outputs["city_credentials"][CITY]
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name=outputs["region"],
        aws_access_key_id=key["access_key_id"],
        aws_secret_access_key=key["secret_access_key"],
        config=Config(max_pool_connections=workers, s3={"addressing_style": "path"}),
    )


def child(variant: str, outputs_file: Path, url: str, folder: Path, workers: int) -> float:
    """One variant, in this process: the seconds its work took. Imports are excluded for every
    variant alike (a daily batch pays them once); creating the client and, for the uploader,
    reading the outputs and the manifest are included."""
    # Only what the variant needs, so each peak RSS is its own.
    if variant == "uploader":
        from learning_images.ops import upload_batch  # noqa: PLC0415
    else:
        import boto3  # noqa: PLC0415, F401

    outputs = json.loads(outputs_file.read_text())
    files = sorted(folder.glob("*.jpg"))
    started = time.perf_counter()
    if variant == "uploader":
        code = upload_batch.main(
            [
                *("--outputs", str(outputs_file), "--endpoint-url", url, "--city", CITY),
                *("--images", str(folder), "--manifest", str(folder / "manifest.csv")),
                *("--report", str(folder / "report.jsonl"), "--workers", str(workers), "--quiet"),
            ]
        )
        if code != 0:
            raise SystemExit(code)
        return time.perf_counter() - started
    s3 = s3_client(outputs, url, workers)

    def put(path: Path) -> None:
        s3.put_object(Bucket=outputs["bucket_name"], Key=f"{uuid.uuid4()}.jpg", Body=path.read_bytes())

    def put_like_the_uploader(path: Path) -> None:
        body = path.read_bytes()
        fields = {
            "city_id": CITY,
            "camera_id": "c",
            "event_id": path.stem,
            "label_status": "correct",
            "uploaded_at": "t",
        }
        s3.put_object(
            Bucket=outputs["bucket_name"],
            Key=f"{uuid.uuid4()}.jpg",
            Body=body,
            ContentType="image/jpeg",
            Metadata={k.replace("_", "-"): v for k, v in fields.items()},
            Tagging=urlencode(fields),
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode(),
            IfNoneMatch="*",
        )

    if variant == "sequential":
        for path in files:
            put(path)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(put if variant == "ceiling" else put_like_the_uploader, files))
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    """This process's peak resident memory since exec.

    Not ``ru_maxrss``: on Linux it survives exec, so a child reports the parent's peak at fork
    (here the sandbox, with Pulumi loaded) whenever that is higher than its own. ``VmHWM`` is
    the high-water mark of the exec'd image alone.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource  # noqa: PLC0415 (not Linux: the best there is)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_variant(variant: str, outputs_file: Path, url: str, folder: Path, workers: int) -> dict[str, float]:
    argv = [sys.executable, "-m", "bench.upload_throughput", "--child", variant]
    argv += ["--outputs", str(outputs_file), "--url", url, "--folder", str(folder), "--workers", str(workers)]
    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        argv += ["--result", result.name]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        if (code := os.waitstatus_to_exitcode(status)) != 0:
            raise SystemExit(f"bench: variant {variant} exited {code}")
        measured = json.loads(Path(result.name).read_text())
    # The client's own CPU (user + system): on a machine whose cores the server shares, every
    # client CPU second is taken from the server, so this is the cost the ratio hides.
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": float(measured["seconds"]), "peak_rss_mib": float(measured["peak_rss_mib"]), "cpu_seconds": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--size-kib", type=int, default=256)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="rounds on fresh files; medians are reported")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--outputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seconds = child(args.child, args.outputs, args.url, args.folder, args.workers)
        args.result.write_text(json.dumps({"seconds": seconds, "peak_rss_mib": peak_rss_mib()}))
        return 0
    # Imported here, not at the top: the variants' processes must not carry the sandbox's
    # Pulumi imports in their peak memory.
    from learning_images.sandbox.local import local_store  # noqa: PLC0415
    from tests.support.ops import sample, write_batch  # noqa: PLC0415

    runs: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    # Judging off (moto alone): the baseline variants are bare PutObjects, which the stack's guards
    # refuse; what enforcement costs is bench.enforcement's measure, not this one's.
    with local_store(enforce=False) as store:
        for round_number in range(args.rounds):
            # Fresh images every round, so the uploader's deterministic keys are new each time.
            with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                folder = Path(tmp)
                rows = [sample(f"{i:06d}.jpg") for i in range(args.files)]
                write_batch(folder, rows, "manifest.csv", size=args.size_kib * 1024)
                for variant in in_turn(VARIANTS, round_number):
                    runs[variant].append(run_variant(variant, store.outputs_file, store.url, folder, args.workers))
    results = {v: sorted(r, key=lambda x: x["seconds"])[len(r) // 2] for v, r in runs.items()}
    # The ratio is taken within each round (same files, same server state), then its median.
    ratios = sorted(c["seconds"] / u["seconds"] for c, u in zip(runs["ceiling"], runs["uploader"], strict=True))
    mib = args.files * args.size_kib / 1024
    print(
        f"{args.files} files x {args.size_kib} KiB ({mib:.0f} MiB), {args.workers} workers, moto on 127.0.0.1, "
        f"median of {args.rounds} rounds"
    )
    print(f"{'variant':<14}{'seconds':>9}{'files/s':>10}{'MiB/s':>9}{'client CPU s':>14}{'peak RSS MiB':>14}")
    for variant, r in results.items():
        rate = args.files / r["seconds"]
        print(
            f"{variant:<14}{r['seconds']:>9.2f}{rate:>10.1f}{mib / r['seconds']:>9.1f}"
            f"{r['cpu_seconds']:>14.2f}{r['peak_rss_mib']:>14.0f}"
        )
    print(
        f"uploader / ceiling:    {statistics.median(ratios):.0%} of the ceiling's throughput "
        f"(median of the rounds' ratios; range {ratios[0]:.0%}-{ratios[-1]:.0%})"
    )
    print(f"uploader / sequential: {results['sequential']['seconds'] / results['uploader']['seconds']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
