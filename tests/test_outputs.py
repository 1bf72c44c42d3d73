"""Stack outputs: what clients and the verification script need; credentials only as secrets."""

from __future__ import annotations

import functools
import json

import pytest

from learning_images.backends import profile_for
from learning_images.outputs import StackOutputs, parse_outputs
from tests.support.stack import Graph, render, stack_config

CREDENTIALS = {"city_credentials", "probe_credentials"}
#: The outputs that hold a tier's keys where the tiers are keys rather than roles.
TIER_KEYS = ("command_centre_credentials", "training_credentials")
SHIPPED = ["dev", "prod", "local", "r2", "minio", "spaces", "b2"]


@functools.cache
def shipped(stack: str) -> Graph:
    """A shipped stack's render, once per module (graphs are plain data)."""
    return render(stack_config(stack), stack=stack)


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_shipped_stack_exports_exactly_the_outputs_schema(stack: str) -> None:
    """The schema (learning_images.outputs) is the one description of the outputs: each backend
    fills it, and its real rendered outputs parse with the same model every client uses."""
    outputs = shipped(stack).outputs
    fields = set(StackOutputs.model_fields)
    assert set(outputs) == fields, f"stack {stack}: missing {fields - set(outputs)}, unexpected {set(outputs) - fields}"
    parsed = parse_outputs(outputs, f"stack {stack}")
    gateway = parsed.capabilities.upload_gateway
    assert parsed.capabilities == profile_for(parsed.backend, upload_gateway=gateway), (
        f"stack {stack}: capabilities must be its backend's profile"
    )
    assert gateway == (parsed.city_endpoint_url is not None), (
        f"stack {stack}: city_endpoint_url names the upload gateway exactly when the profile says there is one"
    )
    assert parsed.lifecycle.rules(), f"stack {stack}: the lifecycle outputs must rebuild the contract's rules"


@pytest.mark.parametrize(("stack", "scheme"), [("dev", "s3"), ("r2", "r2")])
def test_image_references_are_made_by_one_function_per_store(stack: str, scheme: str) -> None:
    parsed = parse_outputs(render(stack_config(stack), stack=stack).outputs, stack)
    key = "0f8fad5b-d9cb-469f-a165-70867728950e.jpg"
    reference = parsed.reference(key)
    assert reference == f"{scheme}://{parsed.bucket_name}/{key}"
    assert parsed.key_of(reference) == key and parsed.key_of(f"other://{parsed.bucket_name}/{key}") is None


def test_every_configured_city_has_credentials(full: Graph) -> None:
    assert sorted(full.outputs["city_credentials"]) == ["nyc", "paris"]
    for city, credentials in full.outputs["city_credentials"].items():
        assert set(credentials) == {"city_id", "access_key_id", "secret_access_key"} and credentials["city_id"] == city
    assert full.outputs["probe_credentials"]["city_id"] == "contract-probe"


def test_credential_outputs_are_secret(full: Graph) -> None:
    for name in CREDENTIALS:
        assert full.secret_outputs[name], f"stack output {name} holds access keys and must be a Pulumi secret"


def test_no_plain_output_contains_a_secret_value(full: Graph) -> None:
    secrets = [c["secret_access_key"] for c in full.outputs["city_credentials"].values()]
    secrets.append(full.outputs["probe_credentials"]["secret_access_key"])
    for name, value in full.outputs.items():
        if full.secret_outputs[name]:
            continue
        text = json.dumps(value)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"plain stack output {name} contains a secret access key"


#: The shipped stacks whose tiers are keys in the outputs (on AWS they are roles to assume).
@pytest.mark.parametrize("stack", ["r2", "minio", "spaces", "b2"])
def test_every_key_a_stack_exports_is_a_pulumi_secret(stack: str) -> None:
    graph = shipped(stack)
    for name in (*sorted(CREDENTIALS), *TIER_KEYS):
        assert graph.secret_outputs[name], f"stack {stack}: output {name} holds keys and must be a Pulumi secret"
