"""The gcs stack's outputs drive the verifier and the client commands against the local stand-in
for Cloud Storage's XML API (``learning_images.sandbox.gcs``): what GCS cannot hold is reported GAP,
never PASS, and a city's batch, retention and erasure work from the same outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from learning_images import contract, rules
from learning_images.ops import erase, retention
from learning_images.ops.clients import new_session
from learning_images.sandbox.gcs import local_gcs_store
from learning_images.sandbox.local import REGION, LocalStore, client
from learning_images.sandbox.sandbox import sandbox
from tests.support.ops import by_row, operator_s3, read_report, sample, upload, write_batch
from tests.support.verifying import statuses


def test_gcs_stack_reports_every_gap_as_gap_and_never_passes_one(tmp_path: Path) -> None:
    live: list[str] = []

    def after(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        listing = client(url, "s3", **operator).list_objects_v2(Bucket=outputs["bucket_name"])
        live.extend(o["Key"] for o in listing.get("Contents", []))

    code = sandbox(["--json", str(tmp_path / "report.json")], engine="applier", after=after, stack="gcs")
    report = json.loads((tmp_path / "report.json").read_text())
    got = statuses(report)
    gaps = {check for check in rules.all_checks() if (rules.treatment("gcs", check) or ("",))[0] == "GAP"}
    assert {check for check, status in got.items() if status == "GAP"} == gaps, got
    assert not {check for check, status in got.items() if status == "PASS"} & gaps, "a gap is never a PASS"
    held = {c for r in rules.RULES if r.held["gcs"].enforcement is rules.Enforcement.STORAGE for c in r.checks} - {
        c for r in rules.RULES for c in r.held["gcs"].unprobed
    }
    failed = {check: status for check, status in got.items() if check in held and status != "PASS"}
    assert not failed, f"checks of rules GCS holds that did not pass against the stand-in: {failed}"
    # A deleted probe stays a noncurrent version (the bucket is versioned, as on GCS) until lifecycle
    # removes it after noncurrentVersionExpiryDays: no live object is left.
    assert code == 0, report.get("summary")
    assert not live, f"live probe objects left behind: {live}"


@pytest.fixture(scope="module")
def gcs_store() -> Iterator[LocalStore]:
    with local_gcs_store() as store:
        yield store


def test_a_city_batch_on_gcs_outputs_uploads_with_gs_references_and_a_rerun_stores_nothing_new(
    gcs_store: LocalStore, tmp_path: Path
) -> None:
    manifest = write_batch(tmp_path, [sample("a.jpg"), sample("b.jpg", "changed"), sample("c.jpg", "unsure")])
    assert upload(gcs_store, tmp_path, manifest, tmp_path / "r.jsonl") == 0
    first = by_row(read_report(tmp_path / "r.jsonl"))
    assert [first[n]["status"] for n in (1, 2, 3)] == ["uploaded", "uploaded", "excluded-unsure"], first
    assert first[1]["image_reference"] == f"gs://{gcs_store.outputs['bucket_name']}/{first[1]['key']}"
    assert upload(gcs_store, tmp_path, manifest, tmp_path / "again.jsonl") == 0
    again = by_row(read_report(tmp_path / "again.jsonl"))
    assert [again[1]["status"], again[2]["status"]] == ["already-present"] * 2, again


def test_retention_and_erasure_run_on_gcs_outputs(gcs_store: LocalStore, tmp_path: Path) -> None:
    rows = [sample("x.jpg", camera_id="cam-gcs-erase"), sample("y.jpg", "changed", camera_id="cam-gcs-keep")]
    assert upload(gcs_store, tmp_path, write_batch(tmp_path, rows), tmp_path / "up.jsonl") == 0
    keys = {r["label_status"]: r["key"] for r in read_report(tmp_path / "up.jsonl")}
    operator = new_session(region_name=REGION, **gcs_store.operator)
    common = ["--outputs", str(gcs_store.outputs_file), "--endpoint-url", gcs_store.url]
    later = (datetime.now(UTC) + timedelta(days=731)).isoformat()
    report = tmp_path / "ret.jsonl"
    assert retention.main([*common, "--report", str(report), "--as-of", later, "--scan"], operator=operator) == 0
    due = {r["key"]: r["status"] for r in read_report(report)}
    assert due[keys["correct"]] == "would-expire", f"correct is due at its retention on GCS: {due}"
    assert due[keys["changed"]] != "would-expire", f"changed never expires: {due}"
    paths = ["--report", str(tmp_path / "erase.jsonl"), "--audit", str(tmp_path / "audit.jsonl")]
    assert erase.main([*common, *paths, "--camera-id", "cam-gcs-erase", "--scan", "--confirm"], operator=operator) == 0
    listed = operator_s3(gcs_store).list_objects_v2(Bucket=gcs_store.outputs["bucket_name"]).get("Contents", [])
    present = {o["Key"] for o in listed}
    assert keys["correct"] not in present and keys["changed"] in present, present
    audit = [r for r in read_report(tmp_path / "audit.jsonl") if r["event"] == "erasure-finished"]
    assert audit and audit[0]["by"]["acting_as"].startswith("hmac-key:"), "the audit names the HMAC key on GCS"
    assert contract.PROBE_CITY_ID not in gcs_store.outputs["city_credentials"]
