"""Retention from learning_samples: the rows due by label and age selected in the table. On R2,
whose lifecycle cannot read labels, each is deleted with the Command Centre's credential and its
row marked erased; on AWS, whose lifecycle expires by the same labels, rows past their rule are
reported overdue (drift), never deleted here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from learning_images.ops import retention
from learning_images.ops.clients import new_session
from learning_images.sandbox.local import REGION, LocalStore
from learning_images.sandbox.r2 import local_r2_store
from tests.support import registry
from tests.support.ops import operator_s3, read_report, sample, upload, write_batch
from tests.support.registry import rows, run, sqlite_database


@pytest.fixture(scope="module")
def r2() -> Iterator[LocalStore]:
    with local_r2_store(gateway=False) as made:
        yield made


store = registry.store


def registered(store: LocalStore, tmp_path: Path, *labels: str) -> tuple[Path, dict[str, str]]:
    """A batch of these labels uploaded and registered in a new learning store; its key by label."""
    folder = tmp_path / "batch"
    manifest = write_batch(folder, [sample(f"{label}.jpg", label) for label in labels])
    assert upload(store, folder, manifest, folder / "up.jsonl") == 0
    database = sqlite_database(tmp_path)
    assert run(store, database) == 0
    return database, {r["label_status"]: r["key"] for r in read_report(folder / "up.jsonl")}


def retain(store: LocalStore, database: Path, tmp_path: Path, days: int, *extra: str) -> tuple[int, dict[str, Any]]:
    argv = [
        *("--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--database-url-file", str(database)),
        *("--report", str(tmp_path / "retention.jsonl"), *extra),
    ]
    later = datetime.now(UTC) + timedelta(days=days)
    code = retention.main(argv, operator=new_session(region_name=REGION, **store.operator), now=later)
    return code, {r["key"]: r for r in read_report(tmp_path / "retention.jsonl")}


def present(store: LocalStore) -> set[str]:
    listing = operator_s3(store).list_objects_v2(Bucket=store.outputs["bucket_name"])
    return {o["Key"] for o in listing.get("Contents", [])}


def test_on_r2_the_rows_due_are_expired_and_marked_and_nothing_else_is_read(r2: LocalStore, tmp_path: Path) -> None:
    database, keys = registered(r2, tmp_path, "correct", "changed")
    code, got = retain(r2, database, tmp_path, 731, "--confirm")
    assert code == 0
    assert set(got) == {keys["correct"]}, f"the table selects only the row due, not every object: {sorted(got)}"
    assert got[keys["correct"]]["status"] == "expired"
    assert keys["correct"] not in present(r2) and keys["changed"] in present(r2), "changed is kept forever"
    states = {row.object_key: (row.state, row.erased_by) for row in rows(database)}
    assert states[keys["correct"]] == ("erased", "learning-images-retention"), states
    assert states[keys["changed"]][0] == "trainable"


def test_a_dry_run_from_the_table_deletes_and_marks_nothing(r2: LocalStore, tmp_path: Path) -> None:
    database, keys = registered(r2, tmp_path, "correct")
    code, got = retain(r2, database, tmp_path, 731)
    assert code == 0 and got[keys["correct"]]["status"] == "would-expire"
    assert keys["correct"] in present(r2) and rows(database)[0].state == "trainable"


def test_on_aws_rows_past_their_lifecycle_rule_are_reported_overdue_and_not_deleted(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, keys = registered(store, tmp_path, "correct")
    code, got = retain(store, database, tmp_path, 800, "--confirm")
    assert code == 1, "rows S3 lifecycle should have removed are drift: exit 1"
    assert got[keys["correct"]]["status"] == "overdue", got
    assert keys["correct"] in present(store), "on AWS retention never deletes what lifecycle owns"
    assert "overdue" in capsys.readouterr().err


def test_a_learning_store_that_does_not_answer_stops_retention_before_any_deletion(
    r2: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    down = tmp_path / "down-url"
    down.write_text("postgresql+psycopg://learning:secret@127.0.0.1:1/learning_samples")
    argv = ["--outputs", str(r2.outputs_file), "--endpoint-url", r2.url, "--database-url-file", str(down)]
    argv += ["--report", str(tmp_path / "retention.jsonl"), "--confirm"]
    assert retention.main(argv, operator=new_session(region_name=REGION, **r2.operator)) == 2
    err = capsys.readouterr().err
    assert "does not answer" in err and "secret" not in err, err
