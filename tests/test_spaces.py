"""The spaces backend, as Pulumi.spaces.yaml renders it under mocks: a private, versioned bucket,
keys scoped to it, and cities that hold gateway keys alone. What the catalogue's spaces column
declares, each test proves once; how the gateway holds the upload rules is tests/test_gateway.py's
and, in front of an S3 bucket, tests/test_gateway_s3_target.py's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from learning_images import contract, gateway
from learning_images_infra.settings import PROJECT, SettingsError, parse_settings
from tests.support.stack import Graph, render, stack_config

BUCKET = "digitalocean:index/spacesBucket:SpacesBucket"
KEY = "digitalocean:index/spacesKey:SpacesKey"
SCRIPT = "cloudflare:index/workersScript:WorkersScript"


@pytest.fixture(scope="module")
def graph() -> Graph:
    return render(stack_config("spaces"), stack="spaces")


def _grants(graph: Graph) -> dict[str, list[dict[str, Any]]]:
    """Each Spaces key's grants, by the key's name."""
    return {key.inputs["name"].removeprefix(f"{PROJECT}-spaces-"): key.inputs["grants"] for key in graph.of_type(KEY)}


def test_the_bucket_is_private_and_no_key_reaches_beyond_it(graph: Graph) -> None:
    bucket = graph.one(BUCKET)
    assert bucket.inputs["acl"] == "private", f"{bucket.name}: no public access (acl {bucket.inputs['acl']!r})"
    assert not graph.of_type("digitalocean:index/spacesBucketPolicy:SpacesBucketPolicy"), "no bucket policy"
    for who, grants in _grants(graph).items():
        assert [g["bucket"] for g in grants] == [bucket.inputs["name"]], f"{who}'s key reaches beyond the bucket"
        assert all(g["permission"] in ("read", "readwrite") for g in grants), f"{who}'s key has full access"


def test_the_bucket_is_versioned_and_keeps_noncurrent_versions(graph: Graph) -> None:
    bucket = graph.one(BUCKET)
    assert bucket.inputs["versioning"] == {"enabled": True}, f"{bucket.name}: deleted objects stay recoverable"
    (rule,) = bucket.inputs["lifecycleRules"]
    days = contract.CONTRACT_PERIODS.noncurrent_version_expiry_days
    assert rule["noncurrentVersionExpiration"] == {"days": days}, f"{bucket.name}: noncurrent versions for {days} days"
    assert "expiration" not in rule, f"{bucket.name}: no live object expires by age (`changed` is kept forever)"


def test_the_training_key_only_reads(graph: Graph) -> None:
    assert _grants(graph)["training"] == [{"bucket": graph.one(BUCKET).inputs["name"], "permission": "read"}], (
        "the training pipeline is read-only: its key's grant"
    )


def test_only_the_command_centre_and_the_gateway_hold_write_keys(graph: Graph) -> None:
    writers = {who for who, grants in _grants(graph).items() if any(g["permission"] != "read" for g in grants)}
    assert writers == {"command-centre", "upload-gateway"}, f"GDPR erasure is the Command Centre's: {writers} write"


def test_cities_hold_gateway_keys_and_no_spaces_key(graph: Graph) -> None:
    outputs = graph.outputs
    spaces_keys = {key.outputs["accessKey"] for key in graph.of_type(KEY)}
    for city, credentials in {**outputs["city_credentials"], "probe": outputs["probe_credentials"]}.items():
        assert credentials["access_key_id"] not in spaces_keys, f"city {city} holds a Spaces key: upload-only is lost"
    assert outputs["city_endpoint_url"] and outputs["capabilities"]["upload_gateway"], "cities upload at the gateway"
    listed = graph.one(SCRIPT).inputs["bindings"]
    # The list is a secret on the wire (it carries the gateway's credential).
    bindings = {b["name"]: b for b in listed.get("value", listed)}
    assert "BUCKET" not in bindings, "in front of Spaces the gateway has no R2 binding"
    for name in gateway.S3_TARGET_SECRET:
        assert bindings[name]["type"] == "secret_text", f"the gateway's Spaces credential {name} is secret text"
    writer = next(k for k in graph.of_type(KEY) if k.inputs["name"].endswith("-upload-gateway"))
    assert json.dumps(bindings).count(writer.outputs["accessKey"]) == 1, "the gateway writes with its own key"


def test_a_spaces_stack_refuses_what_spaces_cannot_hold_naming_it() -> None:
    config = {
        f"{PROJECT}:backend": "spaces",
        f"{PROJECT}:cloudflareAccountId": "0123456789abcdef0123456789abcdef",
        f"{PROJECT}:r2WorkersSubdomain": "example",
        f"{PROJECT}:objectLockMode": "GOVERNANCE",
        f"{PROJECT}:r2LocationHint": "weur",
    }
    with pytest.raises(SettingsError) as raised:
        parse_settings(config)
    message = str(raised.value)
    for key in ("objectLockMode", "r2LocationHint", "replication"):
        assert f"{PROJECT}:{key}" in message, f"{key} is not refused for spaces: {message}"
