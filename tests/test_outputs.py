"""Stack outputs: what clients and the verification script need; credentials only as secrets."""

from __future__ import annotations

import json

from tests.stack import Graph

REQUIRED = {
    "backend",
    "emulator",
    "lifecycle",
    "endpoint_url",
    "bucket_lock_days",
    "command_centre_credentials",
    "training_credentials",
    "region",
    "bucket_name",
    "bucket_arn",
    "kms_key_arn",
    "reference_prefix",
    "object_lock",
    "replica",
    "access_log_bucket_name",
    "inventory",
    "command_centre_role_arn",
    "training_role_arn",
    "city_credentials",
    "probe_credentials",
    "configuration_administrators",
}
CREDENTIALS = {"city_credentials", "probe_credentials"}


def test_outputs_name_everything_a_client_needs(full: Graph) -> None:
    assert set(full.outputs) == REQUIRED, (
        f"missing {REQUIRED - set(full.outputs)}, unexpected {set(full.outputs) - REQUIRED}"
    )


def test_reference_prefix_is_the_s3_uri_of_the_bucket(full: Graph) -> None:
    assert full.outputs["reference_prefix"] == f"s3://{full.outputs['bucket_name']}/"


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
