"""The verification script on the backends the upload gateway always fronts (Spaces, B2), each in
its sandbox: the backend program's outputs and gateway in front of the enforcing local S3
(``learning_images.sandbox.fronted``). Every gap of the backend's column is reported GAP, never
PASS; what the gateway holds is probed through it and passes."""

from __future__ import annotations

from typing import Any

import pytest

from learning_images import rules
from learning_images.backends import BACKENDS
from learning_images.rules import Enforcement
from tests.support.verifying import run_sandbox

FRONTED = [name for name, row in BACKENDS.items() if row.gateway_only]
#: The registration checks: the probe's row, trainable, then erased.
REGISTRATION = ("registration.registered", "registration.erased")


@pytest.fixture(scope="module", params=FRONTED)
def fronted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """One sandbox run per fronted stack: its exit code, its report and what it left."""
    stack = str(request.param)
    return stack, run_sandbox(tmp_path_factory.mktemp(stack), stack=stack)


def test_a_gateway_fronted_stack_reports_every_gap_as_gap_and_passes_what_the_gateway_holds(
    fronted: tuple[str, Any],
) -> None:
    stack, (code, report, left) = fronted
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


def test_a_gateway_fronted_stack_registers_through_its_event_source(fronted: tuple[str, Any]) -> None:
    """Where the backend has an event source (B2's webhooks, queued by the gateway), the probe's
    upload is registered and its erasure marked; where it has none (Spaces), both are GAP."""
    stack, (_, report, _) = fronted
    statuses = {r["rule"]: r["status"] for r in report["results"] if r["rule"] in REGISTRATION}
    expected = "PASS" if BACKENDS[stack].event_source else "GAP"
    assert statuses == dict.fromkeys(REGISTRATION, expected), f"stack {stack}: registration reported {statuses}"
