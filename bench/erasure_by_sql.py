"""Erasure of one camera's images, and retention, selected in learning_samples, against the bucket scan.

    python -m bench.erasure_by_sql [--sizes 2000 20000] [--selected 50] [--rounds 2]

One enforcing local S3 with the local stack and a SQLite learning store. For each store size, the
bucket is filled to that many objects (uploaded as the city does, 1 KiB each; their rows written
straight into learning_samples, as the receiver would have). Each round uploads ``--selected``
fresh images under a new camera id, registers them with the receiver, and erases them with
``--confirm``: once selected in the table, once with ``--scan`` (a listing of every version, then a
HeadObject per key), the two in turn. The seconds are the whole command: selection, deletion of
every version, the proof that nothing remains, the audit.

Retention (a dry run on the local stack, whose lifecycle owns expiry: the same selection either
way) is timed at each size too: from the table (one query per expiring rule) against ``--scan``
(a listing, then a HeadObject and a GetObjectTagging per object).

Targets (issue 26): the table's erasure does not grow with the store (within noise), and it is at
least 20x faster than the scan at 20,000 objects; retention from the table against the scan at
20,000.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.rounds import in_turn
from learning_images.ops.clients import new_session


def main() -> int:  # noqa: PLR0915 (one benchmark, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--selected", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from pydantic import SecretStr  # noqa: PLC0415
    from sqlalchemy import insert  # noqa: PLC0415

    from learning_images import contract  # noqa: PLC0415
    from learning_images.ops import erase, register, retention  # noqa: PLC0415
    from learning_images.registry.database import connect, upgrade  # noqa: PLC0415
    from learning_images.registry.models import LearningSample  # noqa: PLC0415
    from learning_images.sandbox.local import REGION, client, local_store  # noqa: PLC0415
    from tests.support.ops import read_report, sample, upload, write_batch  # noqa: PLC0415

    seconds: dict[tuple[int, str], list[float]] = {}
    with local_store() as store, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        url_file = folder / "database-url"
        url_file.write_text(f"sqlite:///{folder / 'learning_samples.db'}")
        engine = connect(SecretStr(url_file.read_text()))
        upgrade(engine)
        operator = new_session(region_name=REGION, **store.operator)
        sqs = client(store.url, "sqs", **store.operator)
        queue_url = store.outputs["registration"]["queue_url"]
        bucket, held = store.outputs["bucket_name"], 0

        def fill(to: int) -> None:
            """Upload filler images until the bucket holds ``to``; their rows straight into the table."""
            nonlocal held
            count = to - held
            rows = [sample(f"fill-{held + n:06d}.jpg") for n in range(count)]
            batch = folder / f"fill-{to}"
            batch.mkdir()
            # The fillers' rows are written below, not by the receiver: their events would only pile
            # up in the queue (moto's queue slows as it grows), so the notification is off meanwhile.
            s3 = client(store.url, "s3", **store.operator)
            notifying = s3.get_bucket_notification_configuration(Bucket=bucket)
            notifying.pop("ResponseMetadata", None)
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
            manifest = write_batch(batch, rows, size=1024)
            # Uploads are create-only and resume from their report: a timeout under load costs a rerun.
            for _attempt in range(5):
                if upload(store, batch, manifest, batch / "report.jsonl", "--quiet", "--timeout", "60") == 0:
                    break
            else:
                raise AssertionError(f"the filler batch of {count} did not upload")
            stored = [r for r in read_report(batch / "report.jsonl") if r.get("key")]
            now = datetime.now(UTC)
            values: list[dict[str, Any]] = [
                {
                    "image_reference": r["image_reference"],
                    "bucket": bucket,
                    "object_key": r["key"],
                    "city_id": "sandbox-city",
                    "camera_id": rows[r["row"] - 1]["camera_id"],
                    "event_id": rows[r["row"] - 1]["event_id"],
                    "label_status": "correct",
                    "uploaded_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "size_bytes": 1024,
                    "etag": "",
                    "stored_at": now,
                }
                for r in stored
            ]
            with engine.begin() as connection:
                for start in range(0, len(values), 1000):
                    connection.execute(insert(LearningSample), values[start : start + 1000])
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notifying)
            held = to
            print(f"store holds {held} objects ({contract.LABEL_STATUS}=correct fillers and rows)", flush=True)

        for size in args.sizes:
            fill(size)
            for number in range(args.rounds):
                for how in in_turn(["table", "scan"], number):
                    camera = f"cam-{how}-{uuid.uuid4().hex[:8]}"
                    batch = folder / camera
                    batch.mkdir()
                    rows = [sample(f"{camera}-{i:03d}.jpg", camera_id=camera) for i in range(args.selected)]
                    manifest = write_batch(batch, rows, size=1024)
                    assert upload(store, batch, manifest, batch / "report.jsonl", "--quiet") == 0
                    receiver = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url]
                    receiver += ["--database-url-file", str(url_file), "--once", "--wait", "1", "--quiet"]
                    assert register.main(receiver, operator=operator) == 0
                    command = [
                        *("--outputs", str(store.outputs_file), "--endpoint-url", store.url),
                        *("--database-url-file", str(url_file), "--camera-id", camera, "--confirm"),
                        *("--report", str(batch / "erase.jsonl"), "--audit", str(folder / "audit.jsonl")),
                        *(["--scan"] if how == "scan" else []),
                    ]
                    started = time.perf_counter()
                    assert erase.main(command, operator=operator) == 0
                    seconds.setdefault((size, how), []).append(time.perf_counter() - started)
                    sqs.purge_queue(QueueUrl=queue_url)  # the erasure's deletion events: not measured here
                for how in in_turn(["table", "scan"], number):
                    command = [
                        *("--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--quiet"),
                        *("--database-url-file", str(url_file), "--report", str(folder / f"retention-{how}.jsonl")),
                        *(["--scan"] if how == "scan" else []),
                    ]
                    started = time.perf_counter()
                    assert retention.main(command, operator=operator) in (0, 1)
                    seconds.setdefault((size, f"retention {how}"), []).append(time.perf_counter() - started)
    print(f"erasure of {args.selected} images by camera, enforcing local S3 on 127.0.0.1, median of {args.rounds}")
    median = {key: statistics.median(values) for key, values in seconds.items()}
    for (size, how), value in sorted(median.items()):
        print(f"  store of {size:>6} objects, {how:<16} {value:7.2f} s")
    first, last = args.sizes[0], args.sizes[-1]
    print(f"table at {last} / table at {first}: {median[(last, 'table')] / median[(first, 'table')]:.2f}x")
    for size in args.sizes:
        print(f"erasure, scan / table at {size}: {median[(size, 'scan')] / median[(size, 'table')]:.1f}x")
        ratio = median[(size, "retention scan")] / median[(size, "retention table")]
        print(f"retention, scan / table at {size}: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
