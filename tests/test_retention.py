"""The metadata-driven retention job's bucket scan (``--scan``) against the local S3 (a fresh store
per test: it scans all); tests/test_retention_by_sql.py selects in learning_samples.

Ages are moved with --as-of (moto stamps every object "now"); the job reads the same periods
the stack declares (its outputs), evaluated by contract.due_action.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from learning_images import contract
from learning_images.ops import retention
from learning_images.ops.clients import new_session
from learning_images.sandbox.local import REGION, LocalStore, local_store
from learning_images.sandbox.r2 import local_r2_store
from tests.support.ops import operator_s3, read_report, sample, upload, without_guards, write_batch


def accidental(store: LocalStore, label: str, tag_label: str | None = None) -> str:
    """An object the uploader would never send (e.g. ``unsure``), which the guards refuse: written
    as the operator with the bucket policy lifted (an object from before the guards, or a bypass)."""
    key = contract.sample_key("sandbox-city", "cam-x", "evt-x", label + (tag_label or ""), "0" * 64)
    fields = {contract.CITY_ID: "sandbox-city", contract.LABEL_STATUS: label}
    extra = {"Tagging": urlencode({**fields, contract.LABEL_STATUS: tag_label})} if tag_label else {}
    with without_guards(store) as s3:
        s3.put_object(
            Bucket=store.outputs["bucket_name"],
            Key=key,
            Body=b"\xff\xd8\xff",
            Metadata={contract.metadata_key(k): v for k, v in fields.items()},
            **extra,
        )
    return key


def uploaded(store: LocalStore, tmp_path: Path, *labels: str) -> dict[str, str]:
    rows = [sample(f"{label}.jpg", label) for label in labels]
    assert upload(store, tmp_path, write_batch(tmp_path, rows), tmp_path / "up.jsonl") == 0
    return {r["label_status"]: r["key"] for r in read_report(tmp_path / "up.jsonl")}


def run(store: LocalStore, tmp_path: Path, days: int, *extra: str) -> dict[str, dict[str, Any]]:
    as_of = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    argv = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--report", str(tmp_path / "ret.jsonl")]
    argv += ["--as-of", as_of, "--scan", *extra]
    assert retention.main(argv, operator=new_session(region_name=REGION, **store.operator)) == 0
    return {r["key"]: r for r in read_report(tmp_path / "ret.jsonl")}


def present(store: LocalStore) -> set[str]:
    listing = operator_s3(store).list_objects_v2(Bucket=store.outputs["bucket_name"])
    return {o["Key"] for o in listing.get("Contents", [])}


def test_retention_dry_run_reports_what_is_due_and_deletes_nothing(tmp_path: Path) -> None:
    with local_r2_store() as store:
        keys = uploaded(store, tmp_path, "correct", "changed")
        keys["unsure"] = accidental(store, "unsure")
        got = run(store, tmp_path, 31)
        assert got[keys["unsure"]]["status"] == "would-expire", "unsure is due after unsureExpiryDays"
        assert got[keys["correct"]]["status"] == "keep" and got[keys["changed"]]["status"] == "keep"
        assert present(store) == set(keys.values()), "a dry run deletes nothing"


def test_retention_expires_only_what_the_contract_says(tmp_path: Path) -> None:
    with local_r2_store() as store:
        keys = uploaded(store, tmp_path, "correct", "changed")
        keys["unsure"] = accidental(store, "unsure")
        # --confirm evaluates at the job's clock: move it past correct's retention.
        later = datetime.now(UTC) + timedelta(days=731)
        argv = [
            "--outputs",
            str(store.outputs_file),
            "--endpoint-url",
            store.url,
            "--report",
            str(tmp_path / "r.jsonl"),
            "--scan",
        ]
        operator = new_session(region_name=REGION, **store.operator)
        assert retention.main([*argv, "--confirm"], operator=operator, now=later) == 0
        got = {r["key"]: r for r in read_report(tmp_path / "r.jsonl")}
        assert got[keys["unsure"]]["status"] == got[keys["correct"]]["status"] == "expired"
        assert got[keys["changed"]]["status"] == "covered-by-lifecycle", "changed is archived by age, never expired"
        assert present(store) == {keys["changed"]}, "only `changed` survives two years: kept forever"


def test_on_aws_lifecycle_covered_objects_are_reported_and_drift_is_applied(tmp_path: Path) -> None:
    with local_store() as store:
        keys = uploaded(store, tmp_path, "correct")
        drifted = accidental(store, "unsure", tag_label="correct")  # tags say correct: lifecycle keeps it
        got = run(store, tmp_path, 800)
        assert got[keys["correct"]]["status"] == "covered-by-lifecycle", "S3 lifecycle expires it, not this job"
        assert got[drifted]["status"] == "would-expire" and got[drifted]["drift"]["tags"]["label_status"] == "correct"
        assert json.dumps(got)  # the report is JSON throughout
        assert present(store) == {keys["correct"], drifted}, "a dry run deletes nothing"
