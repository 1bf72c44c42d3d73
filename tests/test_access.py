"""The three credential tiers: city upload-only, Command Centre read/write, training read-only."""

from __future__ import annotations

import pytest

from learning_images import contract
from tests.support.stack import Graph, allowed_actions, allows, as_list, render, statements

READ = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectAttributes"]
LIST = ["s3:ListBucket", "s3:ListBucketVersions"]
DELETE = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
TAGGING = ["s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging"]
#: Tag actions no tier is granted at all (s3:PutObjectTagging comes with an upload only).
REWRITE = TAGGING[1:]
WRITE = ["s3:PutObject", "s3:PutObjectAcl", "s3:RestoreObject"]
BUCKET_ARN = "arn:aws:s3:::learning-images"


def city_policy(graph: Graph):  # type: ignore[no-untyped-def]
    return graph.one("aws:iam/groupPolicy:GroupPolicy", "city-uploaders-policy")


def role_policy(graph: Graph, tier: str):  # type: ignore[no-untyped-def]
    return graph.one("aws:iam/rolePolicy:RolePolicy", f"{tier}-role-policy")


def test_each_city_gets_its_own_user_tagged_with_its_city_id(full: Graph) -> None:
    users = {u.name: u for u in full.of_type("aws:iam/user:User")}
    for city in ("nyc", "paris"):
        user = users[f"city-{city}"]
        assert user["tags"]["city_id"] == city, f"{user.urn}: the principal tag binds uploads to the city"
        assert user["path"] == "/learning-images/test/city/", (
            f"{user.urn}: the path is how the bucket policy finds cities"
        )
        keys = [k for k in full.of_type("aws:iam/accessKey:AccessKey") if k["user"] == user.name]
        assert len(keys) == 1, f"{user.urn}: one access key per city"


def test_probe_uploader_uses_the_reserved_city_id(full: Graph) -> None:
    probe = full.one("aws:iam/user:User", f"city-{contract.PROBE_CITY_ID}")
    assert probe["tags"]["city_id"] == contract.PROBE_CITY_ID
    assert probe["path"] == "/learning-images/test/city/", "the probe is an ordinary city uploader"


def test_city_users_share_one_group_with_one_policy(full: Graph) -> None:
    (membership,) = full.of_type("aws:iam/groupMembership:GroupMembership")
    assert sorted(membership["users"]) == ["city-contract-probe", "city-nyc", "city-paris"]
    assert len(full.of_type("aws:iam/groupPolicy:GroupPolicy")) == 1
    assert not full.of_type("aws:iam/userPolicy:UserPolicy"), "cities get no per-user policy"


def test_city_tier_can_only_upload_create_only_with_its_own_city_tag(full: Graph) -> None:
    policy = city_policy(full)
    (upload,) = [s for s in statements(policy) if "s3:PutObject" in as_list(s["Action"])]
    assert upload["Resource"] == f"{BUCKET_ARN}/????????-????-????-????-????????????.jpg"
    assert upload["Condition"] == {
        "StringEquals": {
            "s3:if-none-match": "*",
            "s3:RequestObjectTag/label_status": ["correct", "changed"],
            "s3:RequestObjectTag/city_id": "${aws:PrincipalTag/city_id}",
        }
    }, f"{policy.urn}: a city uploads create-only, with an allowed label, as itself"


def test_city_tier_may_tag_only_its_own_new_uploads(full: Graph) -> None:
    """A tagged PutObject is authorised as s3:PutObjectTagging too; the grant carries the same
    tag conditions, and the bucket policy refuses it on stored objects (DenyRetagOfStoredObject)."""
    policy = city_policy(full)
    (tagging,) = [s for s in statements(policy) if "s3:PutObjectTagging" in as_list(s["Action"])]
    assert tagging["Resource"] == f"{BUCKET_ARN}/????????-????-????-????-????????????.jpg"
    assert tagging["Condition"] == {
        "StringEquals": {
            "s3:RequestObjectTag/label_status": ["correct", "changed"],
            "s3:RequestObjectTag/city_id": "${aws:PrincipalTag/city_id}",
        }
    }, f"{policy.urn}: a city sets tags only on its own uploads, with an allowed label"


@pytest.mark.parametrize("action", READ + LIST + DELETE + REWRITE)
def test_city_tier_cannot_read_list_delete_or_rewrite_tags(full: Graph, action: str) -> None:
    policy = city_policy(full)
    assert not allows(policy, action), f"{policy.urn}: the city tier is upload-only, yet allows {action}"


def test_city_tier_may_use_the_key_only_through_s3(full: Graph) -> None:
    """An SSE-KMS PutObject needs kms:GenerateDataKey and kms:Decrypt (S3 API Reference)."""
    policy = city_policy(full)
    (kms,) = [s for s in statements(policy) if any(a.startswith("kms:") for a in as_list(s["Action"]))]
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms["Resource"] == full.outputs["kms_key_arn"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


@pytest.mark.parametrize("action", READ[:3] + LIST + DELETE + ["s3:PutObject", "s3:BypassGovernanceRetention"])
def test_command_centre_can_read_list_upload_and_delete_versions(full: Graph, action: str) -> None:
    assert allows(role_policy(full, "command-centre"), action), f"the Command Centre needs {action}"


@pytest.mark.parametrize("action", [*REWRITE, "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"])
def test_command_centre_cannot_retag_or_reconfigure(full: Graph, action: str) -> None:
    assert not allows(role_policy(full, "command-centre"), action), f"the Command Centre must not have {action}"


def test_command_centre_uploads_are_create_only(full: Graph) -> None:
    policy = role_policy(full, "command-centre")
    (upload,) = [s for s in statements(policy) if s["Action"] == "s3:PutObject"]
    assert upload["Condition"]["StringEquals"]["s3:if-none-match"] == "*"


def test_command_centre_can_erase_in_the_replica(full: Graph) -> None:
    policy = role_policy(full, "command-centre")
    replica = full.outputs["replica"]["bucket_arn"]
    erase = [s for s in statements(policy) if s["Resource"] == f"{replica}/*"]
    assert erase and {"s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} <= set(erase[0]["Action"])


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:GetObjectTagging", "s3:ListBucket", "kms:Decrypt"])
def test_training_tier_can_read_objects_tags_and_list(full: Graph, action: str) -> None:
    assert allows(role_policy(full, "training"), action), f"training needs {action}"


@pytest.mark.parametrize("action", WRITE + DELETE + TAGGING + ["kms:GenerateDataKey", "s3:ListBucketVersions"])
def test_training_tier_cannot_write_delete_or_tag(full: Graph, action: str) -> None:
    policy = role_policy(full, "training")
    assert not allows(policy, action), f"{policy.urn}: training is read-only, yet allows {action}"


@pytest.mark.parametrize(
    ("role", "principal"),
    [
        ("command-centre-role", "arn:aws:iam::123456789012:role/operators"),
        ("training-role", "arn:aws:iam::123456789012:role/trainer"),
    ],
)
def test_tier_roles_are_assumable_only_by_configured_principals(full: Graph, role: str, principal: str) -> None:
    resource = full.one("aws:iam/role:Role", role)
    (trust,) = statements(resource, "assumeRolePolicy")
    assert trust["Principal"] == {"AWS": principal} and trust["Action"] == "sts:AssumeRole", resource.urn


def test_tier_roles_default_to_the_account(dev: Graph) -> None:
    for role in ("command-centre-role", "training-role"):
        resource = dev.one("aws:iam/role:Role", role)
        (trust,) = statements(resource, "assumeRolePolicy")
        assert trust["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}, resource.urn


def test_no_identity_policy_uses_wildcard_actions_or_resources(full: Graph) -> None:
    identity = [*full.of_type("aws:iam/groupPolicy:GroupPolicy"), *full.of_type("aws:iam/rolePolicy:RolePolicy")]
    for policy in identity:
        for stmt in statements(policy):
            for action in as_list(stmt["Action"]):
                assert "*" not in action, f"{policy.urn}: {stmt['Sid']} allows the wildcard action {action}"
            for resource in as_list(stmt["Resource"]):
                assert resource != "*", f"{policy.urn}: {stmt['Sid']} allows every resource"


def test_adding_a_city_adds_only_its_identity_and_key() -> None:
    base = {"aws:region": "eu-west-1", "learning-images:replication": "false"}
    one = render({**base, "learning-images:cityIds": '["a"]'})
    two = render({**base, "learning-images:cityIds": '["a", "b"]'})
    added = sorted(r.type for r in two)
    for resource in one:
        added.remove(resource.type)
    assert added == ["aws:iam/accessKey:AccessKey", "aws:iam/user:User"], f"a new city added {added}"
    assert allowed_actions(city_policy(one)) == allowed_actions(city_policy(two))
