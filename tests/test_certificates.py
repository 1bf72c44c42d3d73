"""Cities that authenticate with certificates (IAM Roles Anywhere): what the program declares.
How IAM judges their sessions is proven in tests/test_iam_semantics.py (stack `certificates`)."""

from __future__ import annotations

import copy
import json

import pytest

from learning_images.sandbox.render import Graph, render, stack_config
from learning_images_infra.settings import PROJECT, SettingsError, parse_settings
from tests.conftest import CERTIFICATES

PEM = "-----BEGIN CERTIFICATE-----\nMIIBcities\n-----END CERTIFICATE-----\n"


def test_a_certificate_stack_declares_nothing_per_city(certificates: Graph) -> None:
    per_city = [r.urn for r in certificates if r.type in ("aws:iam/user:User", "aws:iam/accessKey:AccessKey")]
    assert not per_city, f"with certificates a city is a certificate, not an IAM resource: {per_city}"
    assert not certificates.of_type("aws:iam/groupMembership:GroupMembership")
    assert len(certificates.of_type("aws:rolesanywhere/trustAnchor:TrustAnchor")) == 1
    assert len(certificates.of_type("aws:rolesanywhere/profile:Profile")) == 1


def test_the_trust_anchor_is_the_configured_private_ca(certificates: Graph) -> None:
    anchor = certificates.one("aws:rolesanywhere/trustAnchor:TrustAnchor")
    assert anchor["enabled"] is True, anchor.urn
    assert anchor["source"]["sourceType"] == "AWS_ACM_PCA", anchor.urn
    assert anchor["source"]["sourceData"]["acmPcaArn"] == CERTIFICATES["learning-images:cityPrivateCaArn"]


def test_a_pem_bundle_is_the_trust_anchor_when_given() -> None:
    config = {k: v for k, v in CERTIFICATES.items() if k != "learning-images:cityPrivateCaArn"}
    graph = render(config | {"learning-images:cityCertificateAuthority": PEM}, stack="prod")
    source = graph.one("aws:rolesanywhere/trustAnchor:TrustAnchor")["source"]
    assert source == {"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": PEM}}, source


def test_a_city_session_is_bounded(certificates: Graph) -> None:
    profile = certificates.one("aws:rolesanywhere/profile:Profile")
    assert profile["durationSeconds"] <= 3600 and profile["enabled"] is True, profile.urn
    role = certificates.named("city-role")
    assert profile["roleArns"] == [role.outputs["arn"]], "the profile vends only the city role"
    assert role["maxSessionDuration"] == 3600, role.urn


def test_the_city_role_carries_the_city_tier_bound_to_the_certificate(certificates: Graph) -> None:
    policy = json.loads(certificates.named("city-role-policy")["policy"])
    upload = next(s for s in policy["Statement"] if s["Sid"] == "StoreCreateOnlyUpload")
    assert upload["Condition"]["StringEquals"]["s3:RequestObjectTag/city_id"] == "${aws:PrincipalTag/x509Subject/CN}"


def test_the_outputs_name_roles_anywhere_and_hold_no_city_key(certificates: Graph) -> None:
    outputs = certificates.outputs
    assert outputs["city_credentials"] == {} and outputs["probe_credentials"] is None
    found = outputs["roles_anywhere"]
    assert found["role_arn"] == certificates.named("city-role").outputs["arn"]
    assert found["trust_anchor_arn"].startswith("arn:aws:rolesanywhere:")
    assert found["profile_arn"].startswith("arn:aws:rolesanywhere:") and found["session_seconds"] == 3600


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({}, "needs exactly one trust anchor"),
        (
            {
                "cityCertificateAuthority": PEM,
                "cityPrivateCaArn": "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/x",
            },
            "needs exactly one trust anchor",
        ),
        ({"cityCertificateAuthority": "not a pem"}, "is not a PEM certificate bundle"),
        ({"cityPrivateCaArn": "arn:aws:iam::123456789012:role/x"}, "is not an AWS Private CA ARN"),
        ({"cityCertificateAuthority": PEM, "cityIds": '["paris"]'}, "so `cityIds` must be empty"),
        ({"cityCertificateAuthority": PEM, "citySessionSeconds": "43200"}, "citySessionSeconds"),
    ],
)
def test_certificate_settings_are_checked_before_anything_is_created(extra: dict[str, str], problem: str) -> None:
    config = stack_config("dev") | {f"{PROJECT}:cityAuthentication": "certificates", f"{PROJECT}:cityIds": "[]"}
    with pytest.raises(SettingsError) as raised:
        parse_settings(config | {f"{PROJECT}:{k}": v for k, v in extra.items()})
    assert problem in str(raised.value), raised.value


def test_a_trust_anchor_without_certificates_is_refused() -> None:
    with pytest.raises(SettingsError, match="a trust anchor is set, but `cityAuthentication` is access-keys"):
        parse_settings(stack_config("dev") | {f"{PROJECT}:cityCertificateAuthority": PEM})


def test_r2_has_no_certificate_mode() -> None:
    with pytest.raises(SettingsError, match="cityAuthentication: is an AWS setting"):
        parse_settings(stack_config("r2") | {f"{PROJECT}:cityAuthentication": "certificates"})


def test_the_policy_pack_passes_a_certificate_stack(certificates: Graph) -> None:
    from tests.test_policies import PROD_CONFIG, violations  # noqa: PLC0415

    found = violations(certificates.resources, PROD_CONFIG)
    assert not found, f"prod with certificate cities violates the contract: {json.dumps(found, indent=1)}"


def test_the_policy_pack_refuses_a_city_role_that_can_read(certificates: Graph) -> None:
    from tests.test_policies import violations  # noqa: PLC0415

    resources = copy.deepcopy(certificates.resources)
    policy = next(r for r in resources if r.name == "city-role-policy")
    document = json.loads(policy.inputs["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    policy.inputs["policy"] = json.dumps(document)
    found = violations(resources)
    assert "iam-tier-roles-least-privilege" in found, found
    assert any("the city tier must not have s3:GetObject" in m for m in found["iam-tier-roles-least-privilege"]), found
