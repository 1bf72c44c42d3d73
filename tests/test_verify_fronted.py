"""The verification script on the backends the upload gateway always fronts (Spaces, B2), each in
its sandbox: the backend program's outputs and gateway in front of the enforcing local S3
(``learning_images.sandbox.fronted``). Every gap of the backend's column is reported GAP, never
PASS; what the gateway holds is probed through it and passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from learning_images import rules
from learning_images.backends import BACKENDS
from learning_images.rules import Enforcement
from tests.support.verifying import run_sandbox

FRONTED = [name for name, row in BACKENDS.items() if row.gateway_only]


@pytest.mark.parametrize("stack", FRONTED)
def test_a_gateway_fronted_stack_reports_every_gap_as_gap_and_passes_what_the_gateway_holds(
    tmp_path: Path, stack: str
) -> None:
    code, report, left = run_sandbox(tmp_path, stack=stack)
    results = {r["rule"]: r for r in report["results"]}
    gaps = {c for c in rules.all_checks() if (rules.treatment(stack, c, gateway=True) or ("",))[0] == "GAP"}
    reported = {check for check, r in results.items() if r["status"] == "GAP"}
    assert reported == gaps, f"stack {stack}: GAP reported for {sorted(reported)}, the column says {sorted(gaps)}"
    held = {
        check
        for rule in rules.RULES
        if rule.holding(stack, gateway=True).enforcement is Enforcement.GATEWAY
        for check in rule.checks
    }
    failed = {check: results[check]["evidence"] for check in held if results[check]["status"] != "PASS"}
    assert not failed, f"stack {stack}: the gateway let through what the contract refuses: {failed}"
    assert not {c: r["evidence"] for c, r in results.items() if r["status"] == "FAIL"}, report["summary"]
    assert code == 0 and not left, f"stack {stack}: {report['summary']}; left behind: {left}"
