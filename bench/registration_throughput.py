"""Registration: the receiver against the ceiling of its own reads, and upload-to-row latency.

    python -m bench.registration_throughput [--objects 200] [--rounds 3] [--latency 40]

One enforcing local S3 with the local stack and its queue (moto delivers S3's events to its SQS).
``--objects`` samples are uploaded once; their event messages are kept and queued again for each
round. In each round, in turn: the receiver (``learning-images-register --once`` into a fresh
SQLite store) and a bare loop of the same metadata reads as the receiver's role (HeadObject and
GetObjectTagging per object, nothing written): the ceiling, one object after another, and
``ceiling-10``, with the receiver's own ten readers, which leaves only what the queue and the
database cost. The ratio (ceiling seconds / receiver seconds) is taken within each round; its
median is reported. Then the latency: ``--latency`` objects uploaded one at a time while the
receiver runs as a process, each timed from its upload's answer to its row in the table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.rounds import in_turn
from learning_images.concurrency import bounded_map
from learning_images.ops.clients import Endpoint, new_session
from learning_images.registry.registrar import READERS


def main() -> int:  # noqa: PLR0915 (one benchmark, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=int, default=40)
    args = parser.parse_args()

    from learning_images.ops import register  # noqa: PLC0415
    from learning_images.outputs import read_outputs_file  # noqa: PLC0415
    from learning_images.sandbox.local import REGION, client, local_store  # noqa: PLC0415
    from tests.support.ops import command_centre_s3, sample, upload, write_batch  # noqa: PLC0415

    seconds: dict[str, list[float]] = {"receiver": [], "ceiling": [], "ceiling-10": []}
    with local_store() as store, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        sqs = client(store.url, "sqs", **store.operator)
        queue = store.outputs["registration"]["queue_url"]
        sqs.purge_queue(QueueUrl=queue)  # S3's test event
        rows = [sample(f"{i:06d}.jpg") for i in range(args.objects)]
        assert upload(store, folder, write_batch(folder, rows, size=1024), folder / "up.jsonl", "--quiet") == 0
        bodies: list[str] = []
        while len(bodies) < args.objects:
            found = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            bodies += [m["Body"] for m in found]
            for m in found:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        outputs = read_outputs_file(store.outputs_file)
        operator = new_session(region_name=REGION, **store.operator)
        endpoint = Endpoint(url=store.url, region=REGION, timeout=30.0)
        receiver = endpoint.client(register.receiver_session(outputs, operator, endpoint), "s3")
        keys = [outputs.key_of(r["image_reference"]) for r in _report(folder / "up.jsonl")]

        def read(key: str | None) -> None:
            receiver.head_object(Bucket=outputs.bucket_name, Key=key)
            receiver.get_object_tagging(Bucket=outputs.bucket_name, Key=key)

        def ceiling(readers: int) -> None:
            list(bounded_map(read, keys, readers))

        for number in range(args.rounds):
            for variant in in_turn(list(seconds), number):
                if variant == "receiver":
                    for start in range(0, len(bodies), 10):
                        batch = bodies[start : start + 10]
                        sqs.send_message_batch(
                            QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": b} for n, b in enumerate(batch)]
                        )
                    url = folder / f"url-{number}"
                    url.write_text(f"sqlite:///{folder / f'store-{number}.db'}")
                    argv = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url]
                    argv += ["--database-url-file", str(url), "--once", "--wait", "1", "--quiet"]
                    started = time.perf_counter()
                    assert register.main(argv, operator=operator) == 0
                else:
                    started = time.perf_counter()
                    ceiling(READERS if variant == "ceiling-10" else 1)
                seconds[variant].append(time.perf_counter() - started)

        latencies = _latencies(store, folder, args.latency, command_centre_s3(store))
    ratios = sorted(c / r for c, r in zip(seconds["ceiling"], seconds["receiver"], strict=True))
    same = sorted(c / r for c, r in zip(seconds["ceiling-10"], seconds["receiver"], strict=True))
    print(f"registration of {args.objects} objects, enforcing local S3 on 127.0.0.1, median of {args.rounds} rounds")
    for variant, values in seconds.items():
        median = statistics.median(values)
        print(f"  {variant:<9} {median:6.2f} s  {args.objects / median:7.1f} objects/s")
    print(f"receiver / ceiling: {statistics.median(ratios):.2f}x (range {ratios[0]:.2f}-{ratios[-1]:.2f})")
    print(
        f"receiver / ceiling-10 ({READERS} readers in one loop): {statistics.median(same):.2f}x "
        f"(range {same[0]:.2f}-{same[-1]:.2f})"
    )
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(f"upload to row, {len(ordered)} objects: median {statistics.median(ordered):.2f} s, p99 {p99:.2f} s")
    return 0


def _report(path: Path) -> list[dict[str, Any]]:
    import json  # noqa: PLC0415

    return [r for r in map(json.loads, path.read_text().splitlines()) if r.get("image_reference")]


def _latencies(store: Any, folder: Path, count: int, s3: Any) -> list[float]:
    """Upload one object at a time, the receiver running as its own process; each object's time
    from its upload's answer to its row."""
    import base64  # noqa: PLC0415
    import hashlib  # noqa: PLC0415
    import os  # noqa: PLC0415
    import uuid  # noqa: PLC0415

    from pydantic import SecretStr  # noqa: PLC0415

    from learning_images import contract  # noqa: PLC0415
    from learning_images.registry.database import connect, state_of  # noqa: PLC0415
    from learning_images.sandbox.sandbox import start_receiver  # noqa: PLC0415

    url = folder / "latency-url"
    url.write_text(f"sqlite:///{folder / 'latency.db'}")
    process = start_receiver(store, url, "--wait", "1", "--quiet", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from learning_images.registry.database import upgrade  # noqa: PLC0415

    engine = connect(SecretStr(url.read_text()))
    upgrade(engine)  # the table exists before the first poll (the receiver would create it too)
    found: list[float] = []
    try:
        for _ in range(count):
            key, body = f"{uuid.uuid4()}.jpg", contract.JPEG_MAGIC + os.urandom(1024)
            fields = {
                contract.CITY_ID: "sandbox-city",
                contract.CAMERA_ID: "bench",
                contract.EVENT_ID: uuid.uuid4().hex,
                contract.LABEL_STATUS: "correct",
                contract.UPLOADED_AT: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            s3.put_object(
                Bucket=store.outputs["bucket_name"],
                Key=key,
                Body=body,
                IfNoneMatch="*",
                ContentType=contract.OBJECT_CONTENT_TYPE,
                Metadata={contract.metadata_key(k): v for k, v in fields.items()},
                Tagging="&".join(f"{k}={v}" for k, v in fields.items()),
                ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode(),
            )
            uploaded = time.perf_counter()
            reference = f"s3://{store.outputs['bucket_name']}/{key}"
            while state_of(engine, reference) != "trainable":
                if time.perf_counter() - uploaded > 60:
                    raise SystemExit(f"{reference} was not registered within 60 s")
                time.sleep(0.01)
            found.append(time.perf_counter() - uploaded)
    finally:
        process.terminate()
        process.wait(timeout=30)
        engine.dispose()
    return found


if __name__ == "__main__":
    sys.exit(main())
