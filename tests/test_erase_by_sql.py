"""GDPR erasure by metadata, selected in learning_samples (the contract's deletion "via metadata
queries"): the rows the filter names, every version of their objects erased in the store, the
rows marked erased; nothing read of the objects the filter does not name. On SQLite and on a real
PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from learning_images.ops import erase
from learning_images.ops.clients import new_session
from learning_images.registry.models import LearningSample
from learning_images.sandbox.local import REGION, LocalStore
from tests.support import registry
from tests.support.ops import command_centre_s3, read_report
from tests.support.registry import batch, rows, run

store = registry.store
postgres = registry.postgres
database = registry.database
empty_queues = registry.empty_queues


def argv(store: LocalStore, database: Path, tmp_path: Path, *args: str) -> list[str]:
    return [
        *("--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--database-url-file", str(database)),
        *("--report", str(tmp_path / "erase.jsonl"), "--audit", str(tmp_path / "audit.jsonl"), *args),
    ]


def erase_selected(store: LocalStore, database: Path, tmp_path: Path, *args: str) -> int:
    return erase.main(
        argv(store, database, tmp_path, *args), operator=new_session(region_name=REGION, **store.operator)
    )


def versions(store: LocalStore, reference: str) -> int:
    key = reference.rsplit("/", 1)[1]
    found = command_centre_s3(store).list_object_versions(Bucket=store.outputs["bucket_name"], Prefix=key)
    return len(found.get("Versions", [])) + len(found.get("DeleteMarkers", []))


def states(database: Path) -> dict[str, tuple[str, str | None]]:
    return {row.image_reference: (row.state, row.erased_by) for row in rows(database)}


def registered(store: LocalStore, database: Path, folder: Path, count: int, camera: str) -> list[str]:
    stored = batch(store, folder, count, camera_id=camera)
    assert run(store, database) == 0, "the receiver failed"
    assert all(states(database)[r][0] == "trainable" for r in stored), "the batch is not registered"
    return stored


def test_a_camera_selected_in_learning_samples_is_erased_everywhere_and_its_rows_marked(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camera = f"cam-sql-{uuid.uuid4().hex[:8]}"
    mine = registered(store, database, tmp_path / "mine", 2, camera)
    other = registered(store, database, tmp_path / "other", 1, f"cam-other-{uuid.uuid4().hex[:8]}")
    assert (
        erase_selected(store, database, tmp_path, "--city-id", "sandbox-city", "--camera-id", camera, "--confirm") == 0
    )
    for reference in mine:
        assert versions(store, reference) == 0, f"{reference}: every version and marker must be gone"
        assert states(database)[reference] == ("erased", "learning-images-erase"), f"{reference}: row not marked"
    assert versions(store, other[0]) == 1 and states(database)[other[0]][0] == "trainable", "outside the filter"
    finished = [r for r in read_report(tmp_path / "audit.jsonl") if r["event"] == "erasure-finished"]
    assert finished[-1]["selection"]["selected_in"] == "learning_samples", finished[-1]["selection"]
    assert "2 rows marked erased" in capsys.readouterr().err


def test_a_selection_that_matches_no_row_exits_1_and_says_so(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert erase_selected(store, database, tmp_path, "--camera-id", "cam-nobody", "--confirm") == 1
    assert "the selection matches nothing" in capsys.readouterr().err
    assert not (tmp_path / "audit.jsonl").exists() or "erasure-started" not in (tmp_path / "audit.jsonl").read_text()


def test_an_erasure_without_a_filter_is_refused(store: LocalStore, database: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        erase_selected(store, database, tmp_path, "--confirm")
    assert refused.value.code == 2


def test_a_learning_store_that_does_not_answer_fails_before_any_deletion(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camera = f"cam-db-down-{uuid.uuid4().hex[:8]}"
    (reference,) = registered(store, database, tmp_path / "batch", 1, camera)
    down = tmp_path / "down-url"
    down.write_text("postgresql+psycopg://learning:secret@127.0.0.1:1/learning_samples")
    assert erase_selected(store, down, tmp_path, "--camera-id", camera, "--confirm") == 2
    err = capsys.readouterr().err
    assert "does not answer" in err and "nothing was deleted" in err and "secret" not in err, err
    assert versions(store, reference) == 1, "an erasure that could not read the table deleted something"


def test_a_row_whose_object_is_already_gone_is_named_and_marked_not_an_error(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camera = f"cam-gone-{uuid.uuid4().hex[:8]}"
    (reference,) = registered(store, database, tmp_path / "batch", 1, camera)
    s3, key = command_centre_s3(store), reference.rsplit("/", 1)[1]
    for version in s3.list_object_versions(Bucket=store.outputs["bucket_name"], Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=store.outputs["bucket_name"], Key=key, VersionId=version["VersionId"])
    assert erase_selected(store, database, tmp_path, "--camera-id", camera, "--confirm") == 0
    assert reference in capsys.readouterr().err, "the row of an object already gone must be named"
    assert states(database)[reference][0] == "erased"


def test_an_upload_day_range_selects_only_the_rows_of_its_days(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    camera = f"cam-days-{uuid.uuid4().hex[:8]}"
    old, new = registered(store, database, tmp_path / "batch", 2, camera)
    engine = create_engine(database.read_text())
    with engine.begin() as connection:  # one of the two was uploaded in January
        connection.execute(
            update(LearningSample)
            .where(LearningSample.image_reference == old)
            .values(uploaded_at="2026-01-15T09:00:00Z")
        )
    engine.dispose()
    code = erase_selected(
        store, database, tmp_path, "--camera-id", camera, "--uploaded-from", "2026-01-01", "--uploaded-until",
        "2026-01-31", "--confirm",
    )  # fmt: skip
    assert code == 0
    assert versions(store, old) == 0 and states(database)[old][0] == "erased", "the January upload is erased"
    assert versions(store, new) == 1 and states(database)[new][0] == "trainable", "December's is outside the range"


def test_an_erasure_killed_mid_run_converges_on_the_rerun(store: LocalStore, database: Path, tmp_path: Path) -> None:
    camera = f"cam-sigkill-{uuid.uuid4().hex[:8]}"
    stored = registered(store, database, tmp_path / "batch", 12, camera)
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": store.operator["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": store.operator["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
    }
    command = [
        sys.executable,
        "-m",
        "learning_images.ops.erase",
        *argv(store, database, tmp_path, "--camera-id", camera),
    ]
    process = subprocess.Popen([*command, "--confirm", "--workers", "1"], env=env)  # noqa: S603 (the project's own)
    audit = tmp_path / "audit.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if audit.exists() and audit.read_text().count('"version-deleted"') >= 2:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the erasure finished before it could be killed: give it more objects"
    assert any(versions(store, r) for r in stored), "the kill came after every deletion"
    rerun = subprocess.run([*command, "--confirm"], env=env, check=False)  # noqa: S603
    assert rerun.returncode == 0
    assert not any(versions(store, r) for r in stored), "the rerun left versions behind"
    assert all(states(database)[r][0] == "erased" for r in stored), "the rerun left rows unmarked"
