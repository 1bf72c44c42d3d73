"""The Command Centre's day in the sandbox, after the verifier: a city's batch registered by the
receiver, the training reader's two epochs (the second from its cache), retention and a GDPR
erasure selected in ``learning_samples``. Each step is the installed command as the Command
Centre runs it; each prints its own summary, and the stage fails when one does not do what the
contract says.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import boto3

from learning_images import contract
from learning_images.sandbox.local import LocalStore

#: Images of the sandbox's batch.
IMAGES = 4
#: Seconds the receiver has to register the batch (it long-polls for 1 s in the sandbox).
REGISTRATION_BOUND = 60


class OperationsError(Exception):
    """A step did not do what the contract says; the message names it."""


def _batch(folder: Path, camera: str) -> Path:
    folder.mkdir(parents=True)
    rows = ["image,camera_id,event_id,label_status,captured_at"]
    for n in range(IMAGES):
        (folder / f"image-{n}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2048) + b"\xff\xd9")
        rows.append(f"image-{n}.jpg,{camera},evt-{uuid.uuid4().hex[:8]},correct,2026-12-01T10:00:00Z")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


def _step(name: str, code: int, allowed: tuple[int, ...] = (0,)) -> None:
    if code not in allowed:
        raise OperationsError(f"{name} exited {code}")


def _registered(database_url_file: Path, camera: str, count: int, state: str) -> Callable[[], bool]:
    from sqlalchemy import create_engine, func, select  # noqa: PLC0415 (the [registry] extra)

    from learning_images.registry.models import LearningSample  # noqa: PLC0415

    def done() -> bool:
        engine = create_engine(database_url_file.read_text())
        try:
            with engine.connect() as connection:
                found = connection.execute(
                    select(func.count())
                    .where(LearningSample.camera_id == camera)
                    .where(
                        LearningSample.erased_at.is_(None)
                        if state == "trainable"
                        else LearningSample.erased_at.is_not(None)
                    )
                ).scalar_one()
        finally:
            engine.dispose()
        return int(found) >= count

    return done


def _wait(what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + REGISTRATION_BOUND
    while not done():
        if time.monotonic() > deadline:
            raise OperationsError(f"{what} within {REGISTRATION_BOUND}s")
        time.sleep(0.5)


def operations(store: LocalStore, database_url_file: Path, operator: boto3.Session) -> int:
    """The stage; 0 when every step did what the contract says, else 1 (the step is named)."""
    from learning_images.ops import erase, fetch, retention, upload_batch  # noqa: PLC0415

    folder = store.outputs_file.parent / "operations"
    camera = f"cam-sandbox-{uuid.uuid4().hex[:8]}"
    city = next(iter(store.outputs["city_credentials"]), contract.PROBE_CITY_ID)
    outputs = ["--outputs", str(store.outputs_file)]
    endpoint = ["--endpoint-url", store.url]
    learning_store = ["--database-url-file", str(database_url_file)]
    print("sandbox: the Command Centre's day, from learning_samples", flush=True)
    try:
        manifest = _batch(folder / "batch", camera)
        report = folder / "upload.jsonl"
        city_endpoint = [] if store.outputs.get("city_endpoint_url") else endpoint
        upload = [
            "--city",
            city,
            "--manifest",
            str(manifest),
            "--images",
            str(manifest.parent),
            "--report",
            str(report),
        ]
        _step("the upload", upload_batch.main([*outputs, *city_endpoint, *upload]))
        _wait("the receiver did not register the batch", _registered(database_url_file, camera, IMAGES, "trainable"))
        cache = ["--cache", str(folder / "cache"), "--camera-id", camera]
        for epoch in (1, 2):
            out = ["--out", str(folder / f"epoch-{epoch}")]
            said = io.StringIO()
            with contextlib.redirect_stderr(said):
                code = fetch.main([*outputs, *endpoint, *learning_store, *cache, *out], operator=operator)
            print(said.getvalue(), end="", flush=True)
            _step(f"training epoch {epoch}", code)
            if epoch == 2 and f"0 downloaded, {IMAGES} from the cache" not in said.getvalue():
                raise OperationsError("the second epoch was not served from the cache")
        retained = ["--report", str(folder / "retention.jsonl"), "--quiet"]
        _step("retention", retention.main([*outputs, *endpoint, *learning_store, *retained], operator=operator), (0, 1))
        erased = ["--camera-id", camera, "--confirm", "--report", str(folder / "erase.jsonl")]
        erased += ["--audit", str(folder / "audit.jsonl")]
        _step("the erasure", erase.main([*outputs, *endpoint, *learning_store, *erased], operator=operator))
        _wait("the erased rows were not marked", _registered(database_url_file, camera, IMAGES, "erased"))
    except OperationsError as failed:
        print(f"sandbox: the Command Centre's day failed: {failed}", flush=True)
        return 1
    print(f"sandbox: the Command Centre's day passed: {IMAGES} images registered, read twice (the second "
          "from the cache), retention and erasure selected in learning_samples", flush=True)  # fmt: skip
    return 0
