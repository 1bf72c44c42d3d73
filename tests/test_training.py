"""The training reader (``learning_images.training``) and ``learning-images-fetch``: the contract's
query pattern, table -> image_reference -> fetch -> verify, with the training tier's read-only
credential; a content-addressed cache; datasets a DataLoader takes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, update

from learning_images.ops import fetch, ingest_report
from learning_images.ops.clients import Endpoint, new_session, training_session
from learning_images.outputs import parse_outputs
from learning_images.registry.database import connect
from learning_images.registry.models import LearningSample
from learning_images.sandbox.local import REGION, LocalStore
from learning_images.training.cache import Cache, CacheError
from learning_images.training.datasets import SampleDataset, SampleStream
from learning_images.training.reader import Reader, UnavailableError
from learning_images.training.selection import Selection, samples
from tests.support import registry
from tests.support.ops import command_centre_s3, sample, upload, write_batch
from tests.support.registry import batch, run, store_argv

store = registry.store
postgres = registry.postgres
empty_queues = registry.empty_queues


@pytest.fixture
def database(tmp_path: Path) -> Path:
    (tmp_path / "database-url").write_text(f"sqlite:///{tmp_path / 'learning_samples.db'}")
    return tmp_path / "database-url"


def registered(store: LocalStore, database: Path, folder: Path, count: int, **fields: Any) -> list[str]:
    stored = batch(store, folder, count, **fields)
    assert run(store, database) == 0, "the receiver failed"
    return stored


class Counted:
    """The training tier's S3 client, counting its GetObject calls."""

    def __init__(self, store: LocalStore) -> None:
        self.store, self.gets, self.made = store, 0, 0

    def __call__(self) -> Any:
        self.made += 1
        outputs = parse_outputs(self.store.outputs, "the sandbox")
        endpoint = Endpoint(self.store.url, REGION, timeout=10)
        operator = new_session(region_name=REGION, **self.store.operator)
        s3 = endpoint.client(training_session(outputs, operator, endpoint, "test"), "s3")

        def counted(**_: Any) -> None:
            self.gets += 1

        s3.meta.events.register("before-call.s3.GetObject", counted)
        return s3


def reader_for(store: LocalStore, database: Path, cache: Path | None) -> tuple[Reader, Counted]:
    client = Counted(store)
    engine = connect(_secret(database))
    return Reader(parse_outputs(store.outputs, "the sandbox"), engine, client, Cache(cache) if cache else None), client


def _secret(database: Path) -> Any:
    from pydantic import SecretStr  # noqa: PLC0415

    return SecretStr(database.read_text())


def selected(store: LocalStore, database: Path, **filters: Any) -> list[Any]:
    return samples(connect(_secret(database)), store.outputs["bucket_name"], Selection(**filters))


def test_an_epoch_reads_every_selected_trainable_image_verified(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-train-{uuid.uuid4().hex[:8]}"
    stored = registered(store, database, tmp_path / "batch", 4, camera_id=camera)
    registered(store, database, tmp_path / "other", 1)  # another camera: not selected
    found = selected(store, database, camera_ids=[camera])
    assert sorted(s.image_reference for s in found) == sorted(stored), "the selection is the camera's rows"
    reader, _ = reader_for(store, database, None)
    read = dict(reader.read_all(found))
    assert len(read) == 4 and not reader.counts.skipped, reader.counts.skipped
    for one, data in read.items():
        assert data[:2] == b"\xff\xd8" and len(data) == one.size_bytes, f"{one.image_reference}: not its image"


def test_an_epoch_makes_one_client_per_process_however_many_threads_read(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    """read_all's threads each found no client yet and made their own, disposing the pool the
    others were reading through."""
    camera = f"cam-client-{uuid.uuid4().hex[:8]}"
    registered(store, database, tmp_path / "batch", 6, camera_id=camera)
    reader, client = reader_for(store, database, None)
    assert len(dict(reader.read_all(selected(store, database, camera_ids=[camera])))) == 6
    assert client.made == 1, f"Reader: {client.made} training clients made in one process, for {reader.workers} threads"


def test_a_cached_epoch_downloads_nothing(store: LocalStore, database: Path, tmp_path: Path) -> None:
    camera = f"cam-cache-{uuid.uuid4().hex[:8]}"
    registered(store, database, tmp_path / "batch", 3, camera_id=camera)
    found = selected(store, database, camera_ids=[camera])
    reader, client = reader_for(store, database, tmp_path / "cache")
    first = dict(reader.read_all(found))
    assert client.gets == 3, f"the first epoch fetched {client.gets} times for 3 images"
    second = dict(reader.read_all(found))
    assert client.gets == 3, "the second epoch downloaded again"
    assert second == first and reader.counts.cached == 3


def test_an_image_that_differs_from_its_row_is_named_and_skipped(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-differs-{uuid.uuid4().hex[:8]}"
    wrong, right = registered(store, database, tmp_path / "batch", 2, camera_id=camera)
    engine = create_engine(database.read_text())
    with engine.begin() as connection:  # the row says another content than the store holds
        connection.execute(
            update(LearningSample).where(LearningSample.image_reference == wrong).values(content_sha256="0" * 64)
        )
    engine.dispose()
    reader, _ = reader_for(store, database, tmp_path / "cache")
    read = {s.image_reference for s, _ in reader.read_all(selected(store, database, camera_ids=[camera]))}
    assert read == {right}, f"a differing image was handed out: {read}"
    (why,) = reader.counts.skipped
    assert wrong in why and "SHA-256" in why, why
    assert not list((tmp_path / "cache").rglob("0" * 64)), "a differing image was cached"


def test_an_image_erased_after_it_was_cached_is_evicted_on_the_next_read(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-evict-{uuid.uuid4().hex[:8]}"
    (reference,) = registered(store, database, tmp_path / "batch", 1, camera_id=camera)
    (sample,) = selected(store, database, camera_ids=[camera])
    reader, _ = reader_for(store, database, tmp_path / "cache")
    reader.read(sample)
    cached = Cache(tmp_path / "cache").path(sample.content_sha256)
    assert cached.exists()
    s3, key = command_centre_s3(store), reference.rsplit("/", 1)[1]
    for version in s3.list_object_versions(Bucket=store.outputs["bucket_name"], Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=store.outputs["bucket_name"], Key=key, VersionId=version["VersionId"])
    assert run(store, database) == 0  # the receiver marks the row erased
    with pytest.raises(UnavailableError, match="erased"):
        reader.read(sample)
    assert not cached.exists(), "an erased image stayed in the cache"


def test_an_epoch_sees_the_rows_registered_by_its_snapshot_only(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-snapshot-{uuid.uuid4().hex[:8]}"
    before = registered(store, database, tmp_path / "first", 1, camera_id=camera)
    snapshot = datetime.now(UTC)
    time.sleep(1.1)  # registered_at has a second's resolution on SQLite
    registered(store, database, tmp_path / "second", 1, camera_id=camera)
    found = selected(store, database, camera_ids=[camera], snapshot=snapshot)
    assert [s.image_reference for s in found] == before, "a row registered after the snapshot was selected"


def test_the_map_style_dataset_and_the_stream_hand_out_the_same_images(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-datasets-{uuid.uuid4().hex[:8]}"
    registered(store, database, tmp_path / "batch", 3, camera_id=camera)
    found = selected(store, database, camera_ids=[camera])
    reader, _ = reader_for(store, database, tmp_path / "cache")
    mapped = SampleDataset(reader, found)
    assert len(mapped) == 3
    by_index = sorted((fields["event_id"], data) for data, fields in (mapped[i] for i in range(len(mapped))))
    streamed = sorted((fields["event_id"], data) for data, fields in SampleStream(reader, found))
    assert by_index == streamed and all(f == camera for f in {mapped[0][1]["camera_id"]})
    with pytest.raises(IndexError):
        mapped[3]  # the end a DataLoader's sampler never passes


def test_an_unwritable_cache_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with pytest.raises(CacheError, match="cannot be written"):
        Cache(blocked / "cache")


# --- learning-images-fetch ------------------------------------------------------------------------


fetch_argv = store_argv


def test_fetch_writes_each_selected_image_once_and_a_rerun_writes_nothing(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camera = f"cam-fetch-{uuid.uuid4().hex[:8]}"
    stored = registered(store, database, tmp_path / "batch", 3, camera_id=camera)
    operator = new_session(region_name=REGION, **store.operator)
    out = tmp_path / "out"
    argv = fetch_argv(store, database, "--camera-id", camera, "--out", str(out), "--cache", str(tmp_path / "cache"))
    assert fetch.main(argv, operator=operator) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(r.rsplit("/", 1)[1] for r in stored)
    assert fetch.main(argv, operator=operator) == 0
    assert "3 already in" in capsys.readouterr().err


def test_fetch_of_a_selection_that_matches_nothing_exits_1(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = fetch_argv(store, database, "--camera-id", "cam-nobody", "--out", str(tmp_path / "out"))
    assert fetch.main(argv, operator=new_session(region_name=REGION, **store.operator)) == 1
    assert "matches no trainable row" in capsys.readouterr().err


def test_fetch_with_an_unusable_cache_exits_2_naming_it(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    argv = fetch_argv(store, database, "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "a-file" / "cache"))
    assert fetch.main(argv, operator=new_session(region_name=REGION, **store.operator)) == 2
    assert "a-file/cache cannot be written" in capsys.readouterr().err


def test_fetch_killed_mid_run_leaves_only_whole_images_and_a_rerun_converges(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-fetch-kill-{uuid.uuid4().hex[:8]}"
    stored = registered(store, database, tmp_path / "batch", 30, camera_id=camera)
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": store.operator["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": store.operator["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
    }
    out = tmp_path / "out"
    command = [sys.executable, "-m", "learning_images.ops.fetch", *fetch_argv(store, database, "--camera-id", camera)]
    command += ["--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, env=env)  # noqa: S603 (the project's own command)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and len(list(out.glob("*.jpg"))) >= 3:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the fetch finished before it could be killed"
    sizes = {p.name: p.stat().st_size for p in out.glob("*.jpg")}
    assert sizes and all(size > 0 for size in sizes.values())
    assert subprocess.run(command, env=env, check=False).returncode == 0  # noqa: S603
    assert sorted(p.name for p in out.glob("*.jpg")) == sorted(r.rsplit("/", 1)[1] for r in stored)
    assert not list(out.glob(".*")), "the rerun left an unfinished file behind"


# --- duplicates and the ingest report --------------------------------------------------------------


def test_the_same_bytes_uploaded_twice_are_read_once_and_listed_as_duplicates(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-dup-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "batch"
    # One image file, two rows (two events of one camera): two keys, one SHA-256.
    rows = [
        sample("same.jpg", camera_id=camera),
        sample("same.jpg", camera_id=camera),
        sample("other.jpg", camera_id=camera),
    ]
    manifest = write_batch(folder, rows)
    assert upload(store, folder, manifest, folder / "report.jsonl") == 0
    assert run(store, database) == 0
    every = selected(store, database, camera_ids=[camera], distinct=False)
    once = selected(store, database, camera_ids=[camera])
    assert len(every) == 3 and len(once) == 2, f"{len(every)} rows, {len(once)} images"
    (first,) = [s for s in once if s.duplicates]
    later = [s for s in every if s.content_sha256 == first.content_sha256 and s.id != first.id]
    assert first.id < later[0].id and first.duplicates == (later[0].image_reference,), first


def test_the_ingest_report_counts_each_city_days_rows_by_state(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camera = f"cam-report-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "batch"
    rows = [
        sample("a.jpg", camera_id=camera),
        sample("a.jpg", camera_id=camera),
        sample("b.jpg", "changed", camera_id=camera),
    ]
    manifest = write_batch(folder, rows)
    assert upload(store, folder, manifest, folder / "report.jsonl") == 0
    assert run(store, database) == 0
    engine = create_engine(database.read_text())
    with engine.begin() as connection:  # one row quarantined, as the receiver records a broken rule
        (first,) = connection.execute(
            LearningSample.__table__.select().where(LearningSample.label_status == "changed")
        ).all()
        connection.execute(
            update(LearningSample).where(LearningSample.id == first.id).values(quarantined_rule="refuse.missing-tag")
        )
    engine.dispose()
    out = tmp_path / "report.json"
    assert ingest_report.main(["--database-url-file", str(database), "--json", str(out)]) == 0
    (day,) = json.loads(out.read_text())["days"]
    assert day["city_id"] == "sandbox-city" and day["registered"] == {"correct": 2}, day
    assert day["quarantined"] == {"refuse.missing-tag": 1} and day["duplicates"] == 1 and day["erased"] == 0, day
    assert "sandbox-city" in capsys.readouterr().out


def test_an_ingest_report_of_an_empty_range_exits_1(database: Path) -> None:
    assert (
        ingest_report.main(["--database-url-file", str(database), "--since", "2001-01-01", "--until", "2001-01-02"])
        == 1
    )
