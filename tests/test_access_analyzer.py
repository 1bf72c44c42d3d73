"""The pull request's IAM Access Analyzer step submits every rendered policy and fails on findings."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from learning_images.sandbox import access_analyzer
from tests.support.stack import Graph


def validated_types(client: Any) -> set[str]:
    """The resource types ValidatePolicy accepts, as AWS's API model lists them."""
    return set(client.meta.service_model.shape_for("ValidatePolicyResourceType").enum)


def stubbed(graph: Graph, *, finding: str | None = None, public: bool = False) -> tuple[Any, Stubber, int]:
    client = boto3.client("accessanalyzer", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    accepted = validated_types(client) - {"AWS::IAM::AssumeRolePolicyDocument"}
    stub = Stubber(client)
    documents = list(access_analyzer.documents(graph))
    for number, document in enumerate(documents):
        findings = []
        if finding and number == 0:
            findings = [
                {
                    "findingDetails": "broken",
                    "findingType": finding,
                    "issueCode": "TEST",
                    "learnMoreLink": "https://example.invalid",
                    "locations": [],
                }
            ]
        stub.add_response(
            "validate_policy",
            {"findings": findings},
            {
                "policyDocument": document.text,
                "policyType": ANY,
                **(
                    {"validatePolicyResourceType": document.resource_type} if document.resource_type in accepted else {}
                ),
            },
        )
        if document.resource_type:
            stub.add_response(
                "check_no_public_access",
                {"result": "FAIL" if public and number == 0 else "PASS", "message": "public"},
                {"policyDocument": document.text, "resourceType": document.resource_type},
            )
    stub.activate()
    return client, stub, len(documents)


def test_every_rendered_policy_is_submitted_to_access_analyzer(prod: Graph) -> None:
    found = list(access_analyzer.documents(prod))
    kinds = {(d.policy_type, d.resource_type) for d in found}
    assert ("RESOURCE_POLICY", "AWS::S3::Bucket") in kinds and ("RESOURCE_POLICY", "AWS::KMS::Key") in kinds
    assert ("RESOURCE_POLICY", "AWS::IAM::AssumeRolePolicyDocument") in kinds and ("IDENTITY_POLICY", None) in kinds
    fields = sum(1 for r in prod for f in ("policy", "assumeRolePolicy") if f in r.inputs)
    assert len(found) == fields, "every policy document of the stack must be analysed"


@pytest.mark.parametrize(
    ("finding", "public", "code"), [(None, False, 0), ("SECURITY_WARNING", False, 1), (None, True, 1)]
)
def test_a_blocking_finding_or_a_public_grant_fails_the_step(
    prod: Graph, monkeypatch: pytest.MonkeyPatch, finding: str | None, public: bool, code: int
) -> None:
    monkeypatch.setattr(access_analyzer, "render", lambda *a, **k: prod)
    client, stub, _ = stubbed(prod, finding=finding, public=public)
    assert access_analyzer.main(["--stack", "prod"], analyzer=client) == code
    stub.assert_no_pending_responses()


def test_validate_policy_is_asked_only_for_resource_types_it_accepts(prod: Graph) -> None:
    """ValidatePolicy was sent validatePolicyResourceType=AWS::KMS::Key, which its API refuses."""
    client = boto3.client("accessanalyzer", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.accessanalyzer.ValidatePolicy", lambda params, **_: sent.append(params)
    )
    stub = Stubber(client)
    for document in access_analyzer.documents(prod):
        stub.add_response("validate_policy", {"findings": []}, None)
        if document.resource_type:
            stub.add_response("check_no_public_access", {"result": "PASS", "message": ""}, None)
    with stub:
        for document in access_analyzer.documents(prod):
            access_analyzer.analyse(client, document)
    named = {p["validatePolicyResourceType"] for p in sent if "validatePolicyResourceType" in p}
    assert named <= validated_types(client), f"ValidatePolicy refuses resource types {named - validated_types(client)}"
    assert "AWS::S3::Bucket" in named, "the bucket policy is validated with S3's own checks"
