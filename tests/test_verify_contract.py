"""The verification script against the local sandbox: what it proves, and how it fails.

Each test starts its own moto server on 127.0.0.1 (scripts/learning_images/sandbox/sandbox.py) and stops it.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from learning_images import rules
from learning_images.rules import Enforcement, Sid
from learning_images.sandbox.sandbox import Hook, client, sandbox
from learning_images.verify import verify_contract
from tests.ops import as_r2

#: Every rule the enforcing local S3 can judge must PASS in the sandbox (the stack's own bucket,
#: identity and key policies evaluated under IAM semantics) ...
PASS_LOCALLY = {
    "config.bucket-policy-guards",
    "refuse.without-if-none-match",
    "refuse.unsure-label",
    "refuse.missing-tag",
    "refuse.blank-metadata",
    "refuse.lock-headers",
    "refuse.tag-rewrite",
    "refuse.other-city",
    "refuse.key-with-slash",
    "refuse.key-not-uuid",
    "access.anonymous-list-refused",
    "access.plain-http-refused",
    "config.public-access-block",
    "config.default-encryption",
    "config.versioning",
    "config.lifecycle",
    "upload.accepted",
    "upload.read-back",
    "upload.encrypted",
    "upload.reference",
    "refuse.overwrite",
    "tier.city.GetObject",
    "tier.city.ListObjectsV2",
    "tier.city.GetObjectTagging",
    "tier.city.DeleteObject",
    "tier.training.GetObject",
    "tier.training.GetObjectTagging",
    "tier.training.ListObjectsV2",
    "tier.training.ListObjectVersions",
    "tier.training.PutObject",
    "tier.training.DeleteObject",
    "tier.command-centre.GetObject",
    "tier.command-centre.GetObjectTagging",
    "tier.command-centre.ListObjectsV2",
    "tier.command-centre.ListObjectVersions",
    "tier.command-centre.PutObject",
    "tier.command-centre.DeleteObjectVersion",
    "access.anonymous-read-refused",
}
#: ... and only what a cloud alone proves is SKIP, never PASS: every rule that rests on an IAM
#: condition gets a verdict from the enforcing local S3.
SKIP_LOCALLY = {
    "config.replication",
    "config.object-lock",
    "replication.arrives",
}
#: What S3 cannot hold at all, so the local AWS stack reports it as a gap.
GAP_LOCALLY = {"refuse.not-jpeg"}


def leftover_objects(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> list[str]:
    s3 = client(url, "s3", **operator)
    listing = s3.list_object_versions(Bucket=outputs["bucket_name"])
    return [f"{v['Key']}@{v['VersionId']}" for v in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]]


def run_sandbox(tmp_path: Path, **hooks: Any) -> tuple[int, dict[str, Any], list[str]]:
    """Run the sandbox flow; return the exit code, the JSON report and what was left behind."""
    left: list[str] = []
    report = tmp_path / "report.json"

    def after(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        left.extend(leftover_objects(url, outputs, operator))

    code = sandbox(
        ["--json", str(report), "--junit", str(tmp_path / "report.xml")], engine="applier", after=after, **hooks
    )
    return code, json.loads(report.read_text()) if report.exists() else {}, left


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {r["rule"]: r["status"] for r in report["results"]}


@dataclass(frozen=True)
class CleanRun:
    """One sandbox run of the untouched local stack: what several rules are checked against."""

    code: int
    report: dict[str, Any]
    left: list[str]
    printed: str
    secrets: list[str]
    junit: Path


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    tmp_path = tmp_path_factory.mktemp("clean-run")
    secrets: list[str] = []

    def remember(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        secrets.append(outputs["probe_credentials"]["secret_access_key"])
        secrets.extend(c["secret_access_key"] for c in outputs["city_credentials"].values())

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code, report, left = run_sandbox(tmp_path, tamper=remember)
    return CleanRun(code, report, left, printed.getvalue(), secrets, tmp_path / "report.xml")


def test_sandbox_passes_every_rule_it_can_judge_and_skips_only_what_a_cloud_proves(clean_run: CleanRun) -> None:
    got = statuses(clean_run.report)
    assert {rule for rule, status in got.items() if status == "PASS"} == PASS_LOCALLY, got
    assert {rule for rule, status in got.items() if status == "SKIP"} == SKIP_LOCALLY, got
    assert {rule for rule, status in got.items() if status == "GAP"} == GAP_LOCALLY, got
    assert clean_run.code == 0, f"nothing failed, so the exit code must be 0: {clean_run.report['summary']}"
    assert not clean_run.left, f"probe objects left behind: {clean_run.left}"


def test_skips_say_why(clean_run: CleanRun) -> None:
    for result in clean_run.report["results"]:
        if result["status"] == "SKIP":
            assert result["reason"], f"{result['rule']}: a SKIP must give its reason"


def test_junit_report_counts_failures_and_skips(clean_run: CleanRun) -> None:
    suite = ET.parse(clean_run.junit).getroot()
    assert suite.get("failures") == "0" and suite.get("skipped") == str(len(SKIP_LOCALLY | GAP_LOCALLY))
    assert int(suite.get("tests", "0")) == len(PASS_LOCALLY | SKIP_LOCALLY | GAP_LOCALLY)


def test_secrets_are_never_printed(clean_run: CleanRun) -> None:
    printed = clean_run.printed + json.dumps(clean_run.report)
    assert clean_run.code == 0 and clean_run.secrets
    assert not [s for s in clean_run.secrets if s in printed], "a secret access key was printed"


def weaken(sid: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Hook:
    """A tamper hook that rewrites one guard of the provisioned bucket policy (None drops it)."""

    def tamper(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        s3 = client(url, "s3", **operator)
        policy = json.loads(s3.get_bucket_policy(Bucket=outputs["bucket_name"])["Policy"])
        kept = []
        for statement in policy["Statement"]:
            changed = change(statement) if statement["Sid"] == sid else statement
            if changed is not None:
                kept.append(changed)
        s3.put_bucket_policy(Bucket=outputs["bucket_name"], Policy=json.dumps({**policy, "Statement": kept}))

    return tamper


def narrow_to_unsure(statement: dict[str, Any]) -> dict[str, Any]:
    """The retag guard's ``Null`` (any stored object) becomes ``StringEquals unsure`` (only objects
    labelled unsure): a careless edit that leaves every correct object retaggable."""
    return {**statement, "Condition": {"StringEquals": {"s3:ExistingObjectTag/label_status": "unsure"}}}


@pytest.mark.parametrize(
    ("sid", "change", "expected"),
    [
        # A dropped Sid is also missing from the deployed policy (config.bucket-policy-guards).
        (Sid.INSECURE_TRANSPORT, lambda s: None, {"access.plain-http-refused", "config.bucket-policy-guards"}),
        (Sid.RETAG_STORED_OBJECT, narrow_to_unsure, {"refuse.tag-rewrite"}),
    ],
    ids=["drop-a-sid", "narrow-a-condition"],
)
def test_a_weakened_guard_fails_exactly_its_rule(
    tmp_path: Path, sid: str, change: Callable[[dict[str, Any]], dict[str, Any] | None], expected: set[str]
) -> None:
    """Mutation: the same local stack with one guard weakened (a guard backed by nothing else);
    the enforcing sandbox must report exactly that rule FAIL, and exit 1."""
    code, report, left = run_sandbox(tmp_path, tamper=weaken(sid, change))
    failed = {r for r, status in statuses(report).items() if status == "FAIL"}
    assert failed == expected, f"weakening {sid} must fail exactly {sorted(expected)}, failed {sorted(failed)}"
    assert code == 1
    assert not left, f"probe objects left behind: {left}"


def test_bad_credentials_exit_2_with_a_message_and_leave_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def revoke_probe_key(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        iam = client(url, "iam", **operator)
        user = next(u["UserName"] for u in iam.list_users()["Users"] if u["UserName"].startswith("city-contract-probe"))
        iam.delete_access_key(UserName=user, AccessKeyId=outputs["probe_credentials"]["access_key_id"])

    code, _, left = run_sandbox(tmp_path, tamper=revoke_probe_key)
    out = capsys.readouterr().out
    assert code == 2
    assert "the credentials were refused" in out and "check the stack outputs" in out, out
    assert not left, f"probe objects left behind: {left}"


def test_probe_failing_half_way_exits_2_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: verify_contract.Verifier) -> None:
        self.put("command-centre")  # one more object, then the probe breaks
        raise RuntimeError("probe broke")

    monkeypatch.setattr(verify_contract.Verifier, "check_tiers", broken)
    code, _, left = run_sandbox(tmp_path)
    assert code == 2
    assert "stopped on an unexpected RuntimeError: probe broke; probe objects were removed" in capsys.readouterr().out
    assert not left, f"probe objects left behind: {left}"


def test_interrupted_run_exits_2_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: verify_contract.Verifier) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(verify_contract.Verifier, "check_refusals", interrupted)
    code, _, left = run_sandbox(tmp_path)
    assert code == 2
    assert not left, f"probe objects left behind: {left}"


def test_exhausted_time_budget_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = sandbox(["--time-budget", "0"], engine="applier")
    assert code == 2
    assert "the time budget ran out" in capsys.readouterr().out


def test_r2_stack_without_its_gateway_reports_every_gap_as_gap_and_never_passes_one(tmp_path: Path) -> None:
    """The R2 path end to end without the gateway: token-style credentials for every tier (IAM
    users carrying the tier policies stand in for R2 tokens), R2-shaped outputs, the matrix deciding GAP."""

    code, report, _ = run_sandbox(tmp_path, tamper=as_r2)
    got = statuses(report)
    gaps = {check for check in rules.all_checks() if (rules.treatment("r2", check) or ("",))[0] == "GAP"}
    assert {rule for rule, status in got.items() if status == "GAP"} == gaps, got
    assert not {rule for rule, status in got.items() if status == "PASS"} & gaps, "a gap is never a PASS"
    assert got["upload.accepted"] == got["upload.read-back"] == got["upload.reference"] == "PASS", got
    assert code == 0, report["summary"]


def test_r2_stack_with_its_gateway_passes_what_the_gateway_holds_and_reports_it_so(tmp_path: Path) -> None:
    """The r2 stack as shipped: the gateway in the Workers runtime in front of the R2 stand-in.
    Every check of a rule the gateway holds is probed through it and reported as enforced by the
    gateway; what the gateway cannot cover (versions, replication, bucket policy) stays a GAP."""
    code, report, _ = run_sandbox(tmp_path, stack="r2")
    results = {r["rule"]: r for r in report["results"]}
    held = {check for rule in rules.RULES if rule.r2_gateway is Enforcement.GATEWAY for check in rule.checks}
    by_gateway = {check for check, r in results.items() if r["enforcement"] == Enforcement.GATEWAY.value}
    assert by_gateway == held, f"reported as enforced by the gateway: {sorted(by_gateway)}, expected {sorted(held)}"
    failed = {check: results[check]["evidence"] for check in held if results[check]["status"] != "PASS"}
    assert not failed, f"the gateway let through what the contract refuses: {failed}"
    gaps = {c for c in rules.all_checks() if (rules.treatment("r2", c, gateway=True) or ("",))[0] == "GAP"}
    assert {check for check, r in results.items() if r["status"] == "GAP"} == gaps
    assert "12 of them enforced by the gateway" in report["summary"], report["summary"]
    assert code == 0, report["summary"]


def test_probe_objects_a_killed_run_left_are_removed_by_the_next(tmp_path: Path) -> None:
    """A verifier killed (SIGKILL) before its cleanup leaves its probe objects; its journal names
    them, and the next run removes them first and says so."""
    state = tmp_path / "state"
    leftover = "0f8fad5b-d9cb-469f-a165-70867728950e.jpg"

    def left_by_a_killed_run(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        probe = outputs["probe_credentials"]
        s3 = client(
            url, "s3", aws_access_key_id=probe["access_key_id"], aws_secret_access_key=probe["secret_access_key"]
        )
        fields = {
            "city_id": "contract-probe",
            "camera_id": "probe-camera",
            "event_id": "probe-killed",
            "label_status": "correct",
            "uploaded_at": "2026-11-25T00:00:00Z",
        }
        tags = "&".join(f"{k}={v}" for k, v in fields.items())
        s3.put_object(Bucket=outputs["bucket_name"], Key=leftover, Body=b"\xff\xd8\xff", Tagging=tags, IfNoneMatch="*")
        state.mkdir()
        (state / f"probes-{outputs['bucket_name']}.txt").write_text(leftover + "\n")

    left: list[str] = []

    def after(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        left.extend(leftover_objects(url, outputs, operator))

    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        code = sandbox(["--state-dir", str(state)], engine="applier", tamper=left_by_a_killed_run, after=after)
    assert code == 0
    assert not left, f"probe objects left behind: {left}"
    assert f"removed the probe objects a stopped run left behind: {leftover}" in printed.getvalue()
    assert not list(state.glob("probes-*")), "a run that cleaned up keeps no journal"
