"""The R2 backend: what it declares for each contract rule it can hold."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from learning_images import contract
from learning_images.r2 import ITEM_READ, ITEM_WRITE
from learning_images.sandbox.render import Graph, Resource, render, stack_config
from learning_images_infra.r2.store import endpoint_url

ACCOUNT = "0123456789abcdef0123456789abcdef"
DAY = 86_400
TOKEN = "cloudflare:index/accountToken:AccountToken"


@pytest.fixture(scope="module")
def r2() -> Graph:
    return render(stack_config("r2"), stack="r2")


def without_gateway() -> dict[str, str]:
    """The r2 stack with ``r2UploadGateway: false``: cities hold R2 tokens, as before the gateway."""
    config = {k: v for k, v in stack_config("r2").items() if "Gateway" not in k or k.endswith("UploadGateway")}
    return config | {"learning-images:r2UploadGateway": "false"}


@pytest.fixture(scope="module")
def r2_tokens() -> Graph:
    return render(without_gateway(), stack="r2")


def group_names(graph: Graph, token: Resource) -> set[str]:
    """Permission group names of a token (the mock derives each id from its name)."""
    by_id = {uuid.uuid5(uuid.NAMESPACE_DNS, name).hex: name for name in (ITEM_READ, ITEM_WRITE)}
    return {by_id[group["id"]] for policy in token["policies"] for group in policy["permissionGroups"]}


def test_r2_bucket_is_in_the_configured_jurisdiction_and_location(r2: Graph) -> None:
    bucket = r2.one("cloudflare:index/r2Bucket:R2Bucket")
    assert (bucket["accountId"], bucket["jurisdiction"], bucket["location"]) == (ACCOUNT, "eu", "weur"), bucket.urn
    assert bucket["name"] == "learning-images-r2"
    assert bucket.name in r2.protected, f"{bucket.urn}: the bucket must be protected like the AWS one"


def test_r2_dev_public_domain_is_declared_off(r2: Graph) -> None:
    domain = r2.one("cloudflare:index/r2ManagedDomain:R2ManagedDomain")
    assert domain["enabled"] is False, f"{domain.urn}: no public access through r2.dev"


def test_no_custom_domain_is_declared(r2: Graph) -> None:
    assert not r2.of_type("cloudflare:index/r2CustomDomain:R2CustomDomain"), (
        "a custom domain would serve the bucket publicly"
    )


def test_r2_lifecycle_aborts_incomplete_uploads_and_archives_after_a_year(r2: Graph) -> None:
    lifecycle = r2.one("cloudflare:index/r2BucketLifecycle:R2BucketLifecycle")
    rules = {rule["id"]: rule for rule in lifecycle["rules"]}
    abort = rules["abort-incomplete-multipart-uploads"]
    assert abort["abortMultipartUploadsTransition"]["condition"] == {"type": "Age", "maxAge": 1 * DAY}
    archive = rules["archive-to-infrequent-access"]
    assert archive["storageClassTransitions"] == [
        {"storageClass": "InfrequentAccess", "condition": {"type": "Age", "maxAge": 365 * DAY}}
    ]
    for rule in rules.values():
        assert rule["enabled"] is True and rule["conditions"] == {"prefix": ""}, f"{lifecycle.urn}: {rule['id']}"


def test_r2_lifecycle_never_deletes_by_age_alone(r2: Graph) -> None:
    lifecycle = r2.one("cloudflare:index/r2BucketLifecycle:R2BucketLifecycle")
    deleting = [rule["id"] for rule in lifecycle["rules"] if "deleteObjectsTransition" in rule]
    assert not deleting, (
        f"{lifecycle.urn}: R2 cannot filter by label, so an age-only delete would remove `changed` objects"
    )


def test_r2_bucket_lock_refuses_overwrite_and_delete_for_the_unsure_expiry(r2: Graph) -> None:
    lock = r2.one("cloudflare:index/r2BucketLock:R2BucketLock")
    (rule,) = lock["rules"]
    assert rule["enabled"] is True and rule["prefix"] == ""
    assert rule["condition"] == {"type": "Age", "maxAgeSeconds": 30 * DAY}, (
        f"{lock.urn}: objects are locked for unsureExpiryDays, so the retention job can still delete unsure on time"
    )


@pytest.mark.parametrize(
    ("token", "groups"),
    [
        ("training-token", {ITEM_READ}),
        ("command-centre-token", {ITEM_READ, ITEM_WRITE}),
        ("city-amsterdam-token", {ITEM_READ, ITEM_WRITE}),
        ("city-contract-probe-token", {ITEM_READ, ITEM_WRITE}),
    ],
)
def test_each_tier_token_has_its_object_permissions(r2_tokens: Graph, token: str, groups: set[str]) -> None:
    resource = r2_tokens.one(TOKEN, token)
    assert group_names(r2_tokens, resource) == groups, f"{resource.urn}: permissions {group_names(r2_tokens, resource)}"


@pytest.mark.parametrize("gateway", [True, False], ids=["with-gateway", "without-gateway"])
def test_every_tier_token_is_scoped_to_the_one_bucket(r2: Graph, r2_tokens: Graph, gateway: bool) -> None:
    expected = {f"com.cloudflare.edge.r2.bucket.{ACCOUNT}_eu_learning-images-r2": "*"}
    # The receiver's token is the registration tests' (tests/test_registration_r2.py).
    for token in (t for t in (r2 if gateway else r2_tokens).of_type(TOKEN) if t.name != "receiver-token"):
        for policy in token["policies"]:
            assert policy["effect"] == "allow"
            assert json.loads(policy["resources"]) == expected, f"{token.urn}: must name exactly the store's bucket"


def test_without_the_gateway_each_city_gets_its_own_token(r2_tokens: Graph) -> None:
    names = sorted(t.name for t in r2_tokens.of_type(TOKEN) if t.name.startswith("city-"))
    assert names == ["city-amsterdam-token", "city-berlin-token", "city-contract-probe-token"]
    assert r2_tokens.outputs["city_endpoint_url"] is None, "without the gateway, cities use R2's own endpoint"


def test_r2_credentials_are_derived_from_the_token(r2_tokens: Graph) -> None:
    token = r2_tokens.one(TOKEN, "city-amsterdam-token")
    credentials = r2_tokens.outputs["city_credentials"]["amsterdam"]
    assert credentials["access_key_id"] == token.id, "the access key id is the token id"
    value = token.outputs["value"]["value"]
    assert credentials["secret_access_key"] == hashlib.sha256(value.encode()).hexdigest(), (
        "the secret access key is the SHA-256 of the token value"
    )


@pytest.mark.parametrize(
    "name", ["city_credentials", "probe_credentials", "command_centre_credentials", "training_credentials"]
)
def test_r2_credential_outputs_are_secret(r2: Graph, name: str) -> None:
    assert r2.secret_outputs[name], f"stack output {name} holds credentials and must be a Pulumi secret"


def test_r2_outputs_have_the_aws_shape(r2: Graph, dev: Graph) -> None:
    assert set(r2.outputs) == set(dev.outputs), "clients and the verification script read one shape"
    assert r2.outputs["capabilities"]["reference_scheme"] == "r2"
    assert r2.outputs["kms_key_arn"] is None, "R2 encrypts with Cloudflare-managed keys: no key to fake"


@pytest.mark.parametrize(
    ("jurisdiction", "url"),
    [
        ("default", f"https://{ACCOUNT}.r2.cloudflarestorage.com"),
        ("eu", f"https://{ACCOUNT}.eu.r2.cloudflarestorage.com"),
        ("fedramp", f"https://{ACCOUNT}.fedramp.r2.cloudflarestorage.com"),
    ],
)
def test_r2_endpoint_follows_the_jurisdiction(jurisdiction: str, url: str) -> None:
    assert endpoint_url(ACCOUNT, jurisdiction) == url


def test_r2_stack_declares_no_aws_resource(r2: Graph) -> None:
    assert not [r.urn for r in r2 if r.type.startswith("aws:")]
    assert contract.PROBE_CITY_ID == "contract-probe"
