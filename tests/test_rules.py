"""The rule catalogue, the verification script and the builders agree, and the README shows the catalogue."""

from __future__ import annotations

import functools
import json

import boto3
import pytest
from botocore.stub import Stubber

from learning_images import contract, rules
from learning_images.ops.clients import Endpoint, TierSessions, new_session
from learning_images.outputs import StackOutputs, parse_outputs
from learning_images.rules import Enforcement
from learning_images.sandbox.r2 import r2_config
from learning_images.sandbox.render import ROOT, render, stack_config
from learning_images.verify.probes import Status
from learning_images.verify.verifier import Verifier
from policies.contract_policies import POLICIES
from tests.support.stack import Graph
from tests.test_verify_contract import GAP_LOCALLY, PASS_LOCALLY, SKIP_LOCALLY


@functools.cache
def outputs_of(stack: str) -> StackOutputs:
    """A shipped stack's outputs; ``r2-without-gateway`` is the r2 stack with ``r2UploadGateway: false``."""
    if stack == "r2-without-gateway":
        return parse_outputs(render(r2_config(gateway=False), stack="r2").outputs, stack)
    return parse_outputs(render(stack_config(stack), stack=stack).outputs, stack)


@functools.cache
def _verifier(stack: str) -> Verifier:
    outputs = outputs_of(stack)
    session = new_session(aws_access_key_id="id", aws_secret_access_key="secret", region_name="eu-west-1")
    sessions = TierSessions(operator=session, probe=session, command_centre=session, training=session)
    return Verifier(outputs, sessions, Endpoint(url=None, region="eu-west-1", timeout=5), wait_replication=0)


def verifier(stack: str) -> Verifier:
    """A verifier of ``stack`` with no results yet (its four clients cost 0.5 s: built once)."""
    found = _verifier(stack)
    found.results = []
    return found


def test_matrix_covers_exactly_the_checks_the_verifier_makes() -> None:
    checks = rules.all_checks()
    assert len(checks) == len(set(checks)), "each check belongs to one contract rule"
    assert set(checks) == PASS_LOCALLY | SKIP_LOCALLY | GAP_LOCALLY, (
        "every reported rule has a row, and every row's checks are made"
    )


@pytest.mark.parametrize("check", rules.all_checks())
def test_r2_without_its_gateway_reports_a_gap_as_gap_never_as_pass(check: str) -> None:
    r2 = verifier("r2-without-gateway")
    r2.record(check, "probe", Status.PASS, "as if the probe had passed")
    (result,) = r2.results
    row = next(c for c in rules.RULES if check in c.checks)
    r2_row = row.held["r2"]
    if check in r2_row.unprobed:
        assert (result.status, result.reason) == (Status.SKIP, r2_row.unprobed[check])
    elif r2_row.enforcement is not Enforcement.STORAGE:
        assert result.status is Status.GAP, (
            f"{check}: R2 {r2_row.enforcement.value}, so a probe that passed must say GAP"
        )
        assert r2_row.covered_by in result.reason, f"{check}: the GAP must name what covers it"
    else:
        assert result.status is Status.PASS, f"{check}: R2 enforces it, so the probe decides"


@pytest.mark.parametrize("check", rules.all_checks())
def test_r2_with_its_gateway_lets_the_probe_decide_what_the_gateway_holds(check: str) -> None:
    r2 = verifier("r2")
    assert r2.outputs.capabilities.upload_gateway, "the shipped r2 stack has its upload gateway on"
    r2.record(check, "probe", Status.FAIL, "as the probe saw it")
    (result,) = r2.results
    row = next(c for c in rules.RULES if check in c.checks)
    if row.gateway is not None and row.gateway.enforcement is Enforcement.GATEWAY:
        assert result.status is Status.FAIL, f"{check}: the gateway holds it, so the probe decides, never GAP"
        assert result.enforcement == Enforcement.GATEWAY.value, f"{check}: reported as enforced by the gateway"
    elif check not in row.held["r2"].unprobed and row.held["r2"].enforcement is not Enforcement.STORAGE:
        assert result.status is Status.GAP, f"{check}: the gateway does not hold it, so R2's gap stays a GAP"


@pytest.mark.parametrize("check", rules.all_checks())
def test_aws_reports_the_probe_unchanged_where_s3_holds_the_rule(check: str) -> None:
    aws = verifier("dev")
    aws.record(check, "probe", Status.FAIL, "as the probe saw it")
    row = next(c for c in rules.RULES if check in c.checks)
    held = row.held["aws"].enforcement
    expected = Status.FAIL if held is Enforcement.STORAGE else Status.GAP
    assert aws.results[0].status is expected, f"{check}: AWS {held.value}"


def test_every_r2_gap_names_its_mitigation() -> None:
    for row in rules.RULES:
        if row.held["r2"].enforcement is not Enforcement.STORAGE:
            assert row.held["r2"].covered_by, f"capability matrix row {row.rule!r}: an R2 gap needs what covers it"


def test_s3_enforces_every_rule_but_the_image_format_which_iam_cannot_read() -> None:
    """No IAM condition key reads an upload's Content-Type or body: the one rule S3 cannot hold."""
    not_on_s3 = {row.rule for row in rules.RULES if row.held["aws"].enforcement is not Enforcement.STORAGE}
    assert not_on_s3 == {"uploads are JPEG images whose checksum the store verified"}, not_on_s3


def test_the_capability_matrix_and_the_readmes_summary_match_the_data() -> None:
    assert rules.markdown_table() in (ROOT / "docs" / "rules.md").read_text(), (
        "docs/rules.md's rule matrix differs from learning_images/rules/: regenerate it with `make docs`"
    )
    assert rules.summary_table() in (ROOT / "README.md").read_text(), (
        "README.md's rule summary differs from learning_images/rules/: regenerate it with `make docs`"
    )


def test_every_guard_of_the_rendered_policy_is_a_catalogued_rule_and_back(prod: Graph, dev: Graph) -> None:
    for graph, administrators in ((prod, True), (dev, False)):
        policy = next(
            r for r in graph.of_type("aws:s3/bucketPolicy:BucketPolicy") if r.name == "learning-images-policy"
        )
        rendered = {s["Sid"] for s in json.loads(policy.inputs["policy"])["Statement"]}
        catalogued = rules.learning_bucket_sids(administrators=administrators)
        assert rendered == catalogued, (
            f"{policy.urn}: guards without a rule {sorted(rendered - catalogued)}, "
            f"rules without their guard {sorted(catalogued - rendered)}"
        )


def test_every_proof_the_catalogue_names_exists() -> None:
    missing = []
    for rule in rules.RULES:
        for proof in rule.proofs:
            path, name = proof.split("::")
            if f"def {name}(" not in (ROOT / path).read_text():
                missing.append(f"{rule.rule}: {proof}")
    assert not missing, f"the rule catalogue names proofs that do not exist: {missing}"


def test_every_lifecycle_rule_and_pack_policy_the_catalogue_names_exists() -> None:
    lifecycle = {
        r.id for r in contract.lifecycle_rules(contract.CONTRACT_PERIODS, contract.ArchiveStorageClass.GLACIER_IR)
    }
    policies = {p.name for p in POLICIES}
    for rule in rules.RULES:
        assert set(rule.lifecycle) <= lifecycle, (
            f"{rule.rule}: unknown lifecycle rules {set(rule.lifecycle) - lifecycle}"
        )
        named = set(rule.policies)
        assert named <= policies, f"{rule.rule}: unknown pack policies {named - policies}"


@pytest.mark.parametrize("broken", ["renamed", "dropped"])
def test_the_verifier_fails_a_deployed_policy_that_lost_a_guard(dev: Graph, broken: str) -> None:
    """Mutation: the verifier knows the guards from the catalogue, so a builder that renames or
    drops one is reported FAIL on the deployed policy, never passed by its own output."""
    policy = json.loads(dev.named("learning-images-policy").inputs["policy"])
    statements = [s for s in policy["Statement"] if s["Sid"] != rules.Sid.OVERWRITE]
    if broken == "renamed":
        statements.append({**next(s for s in policy["Statement"] if s["Sid"] == rules.Sid.OVERWRITE), "Sid": "Other"})
    check = verifier("dev")
    s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="id", aws_secret_access_key="secret")
    stub = Stubber(s3)
    stub.add_response("get_bucket_policy", {"Policy": json.dumps({**policy, "Statement": statements})})
    stub.activate()
    check.s3["operator"] = s3
    check.check_bucket_policy()
    (result,) = check.results
    assert result.status is Status.FAIL and rules.Sid.OVERWRITE in result.reason, result


def test_every_rule_says_how_each_backend_of_the_table_holds_it_and_what_covers_each_gap() -> None:
    """`mitigation` silently meant R2's for every backend; an AWS gap had nothing of its own."""
    from learning_images.backends import BACKENDS  # noqa: PLC0415

    for rule in rules.RULES:
        assert list(rule.held) == list(BACKENDS), f"{rule.rule!r}: held by {list(rule.held)}, not every backend"
        for backend, held in rule.held.items():
            if held.enforcement is not Enforcement.STORAGE:
                assert held.covered_by, f"{rule.rule!r}: the {backend} gap names nothing that covers it"
                for check in rule.checks:
                    found = rules.treatment(backend, check)
                    assert found is None or found[0] == "SKIP" or held.covered_by in found[1], (
                        f"{check} on {backend}: the GAP must name what covers it on {backend}"
                    )
