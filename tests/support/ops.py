"""Helpers for the operational scripts' tests: images, manifests, runs, and the operator's view."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from learning_images.ops import upload_batch
from learning_images.sandbox import r2
from learning_images.sandbox.local import LocalStore, client

CITY = "sandbox-city"
COLUMNS = ["image", "camera_id", "event_id", "label_status", "captured_at", "quality"]


def jpeg(path: Path, size: int = 2048) -> Path:
    """Bytes that start like a JPEG; unique content, so each sample gets its own key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(max(0, size - 6)) + b"\xff\xd9")
    return path


def sample(image: str, label: str = "correct", **fields: Any) -> dict[str, Any]:
    return {
        "image": image,
        "camera_id": f"cam-{uuid.uuid4().hex[:8]}",
        "event_id": f"evt-{uuid.uuid4().hex[:8]}",
        "label_status": label,
        "captured_at": "2026-11-23T17:04:05Z",
        "quality": 0.9,
        **fields,
    }


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
    return path


def write_batch(folder: Path, rows: list[dict[str, Any]], manifest: str = "m.csv", *, size: int = 2048) -> Path:
    """A city's batch in ``folder``: an image of ``size`` bytes for each row, and the manifest."""
    for row in rows:
        jpeg(folder / row["image"], size=size)
    return write_csv(folder / manifest, rows)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def upload(store: LocalStore, folder: Path, manifest: Path, report: Path, *extra: str) -> int:
    # Where the outputs name the cities' own endpoint (the R2 gateway), the uploader finds it there.
    endpoint = [] if store.outputs.get("city_endpoint_url") else ["--endpoint-url", store.url]
    return upload_batch.main(
        [
            "--outputs",
            str(store.outputs_file),
            *endpoint,
            "--city",
            CITY,
            "--images",
            str(folder),
            "--manifest",
            str(manifest),
            "--report",
            str(report),
            "--quiet",
            *extra,
        ]
    )


def read_report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_row(report: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["row"]: r for r in report}


def operator_s3(store: LocalStore, **overrides: Any) -> Any:
    return client(store.url, "s3", **store.operator)


def command_centre_s3(store: LocalStore) -> Any:
    """The Command Centre tier (the role, assumed by the operator): the one that may delete."""
    sts = client(store.url, "sts", **store.operator)
    found = sts.assume_role(RoleArn=store.outputs["command_centre_role_arn"], RoleSessionName="test")["Credentials"]
    return client(
        store.url,
        "s3",
        aws_access_key_id=found["AccessKeyId"],
        aws_secret_access_key=found["SecretAccessKey"],
        aws_session_token=found["SessionToken"],
    )


@contextlib.contextmanager
def without_guards(store: LocalStore) -> Iterator[Any]:
    """The operator's S3 client with the bucket policy lifted for the block, then restored:
    for objects the guards would refuse (written before the guards, or by a bypass), which
    retention and erasure must still handle."""
    s3 = operator_s3(store)
    bucket = store.outputs["bucket_name"]
    try:
        policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucketPolicy":  # an R2 stand-in has none
            raise
        yield s3
        return
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        yield s3
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)


def versions(store: LocalStore, bucket: str | None = None, prefix: str = "") -> list[dict[str, Any]]:
    """Every version and delete marker in a bucket (the primary unless named)."""
    s3 = operator_s3(store)
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket or store.outputs["bucket_name"], Prefix=prefix
    ):
        found += page.get("Versions", []) + page.get("DeleteMarkers", [])
    return found


def as_r2(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
    """A ``local_store`` tamper hook: the r2 stack without its upload gateway (cities hold R2
    tokens), on the R2 stand-in (``learning_images.sandbox.r2``)."""
    r2.as_r2(url, outputs, operator, gateway=False)


def free_port() -> int:
    """A loopback port nothing listens on (a refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def silent_endpoint() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that accepts connections and never answers (a hung store), closed
    when the block ends; its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()
