"""The verification script on the R2 stack, with and without its upload gateway, in the R2 sandbox."""

from __future__ import annotations

from pathlib import Path

from learning_images import rules
from learning_images.rules import Enforcement
from tests.support.ops import as_r2
from tests.support.verifying import run_sandbox, statuses


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
    held = {
        check
        for rule in rules.RULES
        if rule.gateway is not None and rule.gateway.enforcement is Enforcement.GATEWAY
        for check in rule.checks
    }
    by_gateway = {check for check, r in results.items() if r["enforcement"] == Enforcement.GATEWAY.value}
    assert by_gateway == held, f"reported as enforced by the gateway: {sorted(by_gateway)}, expected {sorted(held)}"
    failed = {check: results[check]["evidence"] for check in held if results[check]["status"] != "PASS"}
    assert not failed, f"the gateway let through what the contract refuses: {failed}"
    gaps = {c for c in rules.all_checks() if (rules.treatment("r2", c, gateway=True) or ("",))[0] == "GAP"}
    assert {check for check, r in results.items() if r["status"] == "GAP"} == gaps
    assert "13 of them enforced by the gateway" in report["summary"], report["summary"]
    assert code == 0, report["summary"]
