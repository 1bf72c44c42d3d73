"""The verification script on the minio stack in its sandbox: the program's own users' policies,
judged as MinIO judges them (``learning_images.sandbox.minio``). Every gap of the minio column is
reported GAP, never PASS; everything MinIO's policies hold passes."""

from __future__ import annotations

from pathlib import Path

from learning_images import rules
from tests.support.verifying import run_sandbox, statuses


def test_minio_stack_reports_every_gap_as_gap_and_never_passes_one(tmp_path: Path) -> None:
    code, report, left = run_sandbox(tmp_path, stack="minio")
    got = statuses(report)
    gaps = {check for check in rules.all_checks() if (rules.treatment("minio", check) or ("",))[0] == "GAP"}
    assert {check for check, status in got.items() if status == "GAP"} == gaps, got
    assert not {check for check, status in got.items() if status == "FAIL"}, report["summary"]
    held = [
        "upload.accepted",
        "upload.encrypted",
        "refuse.unsure-label",
        "refuse.missing-tag",
        "refuse.other-city",
        "refuse.lock-headers",
        "refuse.tag-rewrite",
        "tier.city.GetObject",
        "tier.training.PutObject",
        "tier.city.DeleteObject",
        "access.plain-http-refused",
    ]
    assert all(got[check] == "PASS" for check in held), {check: got[check] for check in held}
    assert code == 0 and not left, f"{report['summary']}; left behind: {left}"
