"""Settings: one typed object, every invalid stack config refused before any resource exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic.alias_generators import to_camel

from learning_images_infra.settings import PROJECT, SettingsError, parse_settings, pulumi_project_config, settings_table
from tests.support.stack import ROOT, Graph, last_graph, render, stack_config

VALID = {"aws:region": "eu-west-1", f"{PROJECT}:replicaRegion": "eu-central-1"}


def problems(**overrides: str) -> str:
    """The error message for VALID plus ``overrides`` (camelCase keys, config strings)."""
    config = {**VALID, **{f"{PROJECT}:{k}": v for k, v in overrides.items()}}
    with pytest.raises(SettingsError) as raised:
        parse_settings(config)
    return str(raised.value)


def test_defaults_turn_every_guard_on() -> None:
    settings = parse_settings(VALID)
    assert settings.replication, "replication must default to on"
    assert settings.access_logging, "access logging must default to on"
    assert settings.protect, "buckets and keys must default to protected"
    assert not settings.force_destroy, "destroying a non-empty store must default to refused"
    assert settings.object_lock_mode is None, "Object Lock is opt-in: it can never be removed from a bucket"


def test_replica_region_equal_to_primary_is_rejected() -> None:
    message = problems(replicaRegion="eu-west-1")
    assert f"{PROJECT}:replicaRegion: must differ from aws:region" in message, message


def test_replication_without_replica_region_is_rejected() -> None:
    with pytest.raises(SettingsError, match=rf"{PROJECT}:replicaRegion: is required while `replication` is on"):
        parse_settings({"aws:region": "eu-west-1"})


def test_unknown_backend_is_rejected_naming_allowed_values() -> None:
    message = problems(backend="azure")
    assert f"{PROJECT}:backend: Input should be 'aws', 'r2', 'gcs', 'minio', 'spaces' or 'b2'" in message, message


def test_archive_days_not_below_retention_is_rejected() -> None:
    message = problems(archiveAfterDays="300", correctRetentionDays="300")
    assert f"{PROJECT}:correctRetentionDays: (300) must be greater than `archiveAfterDays` (300)" in message, message


@pytest.mark.parametrize(
    "key",
    [
        "archiveAfterDays",
        "correctRetentionDays",
        "unsureExpiryDays",
        "noncurrentVersionExpiryDays",
        "accessLogRetentionDays",
        "objectLockDays",
    ],
)
@pytest.mark.parametrize("days", ["0", "-5"])
def test_non_positive_day_count_is_rejected(key: str, days: str) -> None:
    overrides = {key: days, "objectLockMode": "GOVERNANCE"}
    message = problems(**overrides)
    assert re.search(rf"{PROJECT}:{key}: Input should be greater than 0", message), message


@pytest.mark.parametrize("city", ["Paris", "new york", "san_jose", "-lisbon", "porto-", "a--b", "x" * 33, ""])
def test_city_id_that_is_not_a_lowercase_slug_is_rejected(city: str) -> None:
    message = problems(cityIds=f'["{city}"]')
    assert f"{PROJECT}:cityIds: '{city}' is not a lowercase slug" in message, message


def test_duplicate_city_ids_are_rejected() -> None:
    message = problems(cityIds='["paris", "lisbon", "paris"]')
    assert f"{PROJECT}:cityIds: duplicate city ids: paris" in message, message


def test_probe_city_id_is_reserved() -> None:
    message = problems(cityIds='["contract-probe"]')
    assert "'contract-probe' is reserved for the verification probe" in message, message


def test_object_lock_days_without_mode_is_rejected() -> None:
    message = problems(objectLockDays="30")
    assert (
        f"{PROJECT}:objectLockDays: is set without `objectLockMode` (allowed modes: GOVERNANCE, COMPLIANCE)" in message
    )


def test_object_lock_longer_than_unsure_expiry_is_rejected() -> None:
    message = problems(objectLockMode="GOVERNANCE", objectLockDays="90")
    assert f"{PROJECT}:objectLockDays: (90) exceeds `unsureExpiryDays` (30)" in message, message


def test_object_lock_days_default_to_unsure_expiry() -> None:
    settings = parse_settings({**VALID, f"{PROJECT}:objectLockMode": "GOVERNANCE", f"{PROJECT}:unsureExpiryDays": "20"})
    assert settings.object_lock_days == 20


def test_unknown_object_lock_mode_is_rejected() -> None:
    message = problems(objectLockMode="LEGAL")
    assert f"{PROJECT}:objectLockMode: Input should be 'GOVERNANCE' or 'COMPLIANCE'" in message, message


def test_unknown_storage_class_is_rejected() -> None:
    message = problems(archiveStorageClass="COLDLINE")
    assert f"{PROJECT}:archiveStorageClass: Input should be 'STANDARD_IA'" in message, message
    assert "'DEEP_ARCHIVE'" in message, f"the allowed values must be listed: {message}"


def test_infrequent_access_class_before_30_days_is_rejected() -> None:
    message = problems(archiveStorageClass="STANDARD_IA", archiveAfterDays="10")
    assert f"{PROJECT}:archiveAfterDays: must be at least 30 for STANDARD_IA" in message, message


def test_principal_that_is_not_an_iam_arn_is_rejected() -> None:
    message = problems(trainingPrincipals='["training-pipeline"]')
    assert f"{PROJECT}:trainingPrincipals: not IAM principal ARNs: training-pipeline" in message, message


def test_unknown_setting_is_rejected() -> None:
    message = problems(replicaRegoin="eu-central-1")
    assert f"{PROJECT}:replicaRegoin: unknown setting (known:" in message, message


def test_every_problem_is_reported_in_one_error() -> None:
    message = problems(
        backend="azure",
        replicaRegion="eu-west-1",
        cityIds='["Bad City", "ok", "ok"]',
        objectLockDays="10",
        archiveStorageClass="COLD",
        unsureExpiryDays="0",
    )
    for key in ("backend", "replicaRegion", "cityIds", "objectLockDays", "archiveStorageClass", "unsureExpiryDays"):
        assert f"{PROJECT}:{key}:" in message, f"{key} missing from the combined error:\n{message}"
    assert message.startswith("invalid stack config (6 problems)"), message


def test_invalid_config_registers_no_resource() -> None:
    graph = None
    with pytest.raises(Exception, match="invalid stack config") as raised:
        graph = render({"aws:region": "eu-west-1", f"{PROJECT}:cityIds": '["Bad City"]'})
    assert graph is None
    # render() collects registrations as they happen: inspect what the failed run left.
    assert not last_graph().resources, (
        f"invalid config must fail before any resource is registered, found {[r.urn for r in last_graph()]}"
    )
    assert "Bad City" in str(raised.value)


@pytest.mark.parametrize("name", ["dev", "prod", "local", "r2"])
def test_shipped_stack_files_are_valid(name: str) -> None:
    parse_settings(stack_config(name))


def test_settings_doc_table_matches_settings() -> None:
    documented = (ROOT / "docs" / "settings.md").read_text()
    assert settings_table() in documented, (
        "docs/settings.md's settings table differs from learning_images_infra.settings: regenerate it with `make docs`"
    )


def test_pulumi_yaml_declares_project_settings_with_type_and_default() -> None:
    declared = yaml.safe_load(Path(ROOT / "Pulumi.yaml").read_text())["config"]
    assert declared == pulumi_project_config(), (
        "Pulumi.yaml's config block differs from learning_images_infra.settings: regenerate it with `make docs`"
    )


def test_emulator_stack_cannot_claim_features_the_emulator_lacks() -> None:
    message = problems(emulator="true", objectLockMode="GOVERNANCE")
    assert f"{PROJECT}:emulator: cannot be combined with replication, objectLockMode, accessLogging" in message, message


def test_the_sandbox_stack_carries_the_same_policies_as_dev() -> None:
    """The local stack is the real program: the enforcing sandbox judges it with these policies."""
    local, dev = render(stack_config("local"), stack="local"), render(stack_config("dev"), stack="dev")

    def sids(graph: Graph) -> list[str]:
        return [s["Sid"] for s in json.loads(graph.named("learning-images-policy").inputs["policy"])["Statement"]]

    assert sids(local) == sids(dev), "the sandbox stack must carry dev's bucket-policy guards, in order"
    assert local.outputs["emulator"] is True


def test_aws_stacks_are_not_emulator_stacks() -> None:
    for name in ("dev", "prod"):
        assert not parse_settings(stack_config(name)).emulator, f"Pulumi.{name}.yaml must target AWS with every guard"


R2 = {f"{PROJECT}:backend": "r2", f"{PROJECT}:replication": "false", f"{PROJECT}:accessLogging": "false"}


def r2_problems(**overrides: str) -> str:
    config = {**R2, f"{PROJECT}:cloudflareAccountId": "0" * 32, **{f"{PROJECT}:{k}": v for k, v in overrides.items()}}
    with pytest.raises(SettingsError) as raised:
        parse_settings(config)
    return str(raised.value)


def test_r2_requires_a_cloudflare_account_id() -> None:
    with pytest.raises(SettingsError, match=f"{PROJECT}:cloudflareAccountId: is required for the r2 backend"):
        parse_settings(R2)


def test_r2_account_id_must_be_32_hex_digits() -> None:
    assert "is not a Cloudflare account id (32 lowercase hex digits)" in r2_problems(cloudflareAccountId="acme")


def test_r2_jurisdiction_must_be_a_known_one() -> None:
    message = r2_problems(r2Jurisdiction="mars")
    assert f"{PROJECT}:r2Jurisdiction: Input should be 'default', 'eu' or 'fedramp'" in message, message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("replication", "true", "must be false for the r2 backend, which has no replication"),
        ("accessLogging", "true", "must be false for the r2 backend, which has no server access logs"),
        ("replicaRegion", "eu-central-1", "is an AWS setting; the r2 backend has no replication"),
        ("objectLockMode", "GOVERNANCE", "is an AWS setting; the r2 backend has no Object Lock modes"),
        (
            "commandCentrePrincipals",
            '["arn:aws:iam::123456789012:role/ops"]',
            "is an AWS setting; the r2 backend has no IAM roles",
        ),
        ("archiveStorageClass", "DEEP_ARCHIVE", "is an AWS setting; the r2 backend has no storage class but"),
    ],
)
def test_aws_only_settings_are_rejected_for_r2(key: str, value: str, expected: str) -> None:
    message = r2_problems(**{key: value})
    assert f"{PROJECT}:{key}: {expected}" in message, message


def test_cloudflare_account_id_is_rejected_for_aws() -> None:
    message = problems(cloudflareAccountId="0" * 32)
    assert "cloudflareAccountId: is a setting of the r2, spaces and b2 backends, but the backend is aws" in message, (
        message
    )


def test_aws_requires_a_region() -> None:
    with pytest.raises(SettingsError, match="aws:region: is required for the aws backend"):
        parse_settings({f"{PROJECT}:replication": "false"})


def test_configuration_administrators_that_leave_out_the_deployer_fail_before_any_resource() -> None:
    """The render deploys as the deploy workflow's role session (mocked)."""
    config = {
        "aws:region": "eu-west-1",
        f"{PROJECT}:replication": "false",
        f"{PROJECT}:configurationAdministrators": '["arn:aws:iam::123456789012:role/someone-else"]',
    }
    deployer = "arn:aws:sts::123456789012:assumed-role/learning-images-deploy/ci-deploy"
    with pytest.raises(SettingsError, match=f"leaves out the deploying identity {deployer}"):
        render(config)
    assert not last_graph().resources, (
        f"a lock-out must fail before any resource is registered, found {[r.urn for r in last_graph()]}"
    )


@pytest.mark.parametrize(
    "administrators",
    [
        '["deployer"]',
        '["arn:aws:iam::123456789012:role/learning-images-deploy"]',
        '["arn:aws:iam::123456789012:role/path/learning-images-deploy"]',
        '["arn:aws:iam::123456789012:role/ops", "deployer"]',
    ],
)
def test_configuration_administrators_that_include_the_deployer_render(administrators: str) -> None:
    config = {
        "aws:region": "eu-west-1",
        f"{PROJECT}:replication": "false",
        f"{PROJECT}:configurationAdministrators": administrators,
    }
    assert render(config).resources


def test_configuration_administrators_must_be_principal_arns_or_deployer() -> None:
    message = problems(configurationAdministrators='["ops-team", "deployer"]')
    assert f"{PROJECT}:configurationAdministrators: not IAM principal ARNs: ops-team (allowed: `deployer`" in message


def test_a_role_session_deployer_is_matched_by_its_role_whatever_its_path() -> None:
    from learning_images_infra.aws.administration import administrator_patterns  # noqa: PLC0415

    session = "arn:aws:sts::123456789012:assumed-role/ci-deploy/github-1234"
    patterns = administrator_patterns(
        ["arn:aws:iam::123456789012:role/pipelines/ci-deploy"],
        caller_arn=session,
        account_root_arn="arn:aws:iam::123456789012:root",
    )
    assert patterns == ("arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/pipelines/ci-deploy")
    with pytest.raises(SettingsError, match="leaves out the deploying identity"):
        administrator_patterns(
            ["arn:aws:iam::123456789012:role/ci-deploy-other"],
            caller_arn=session,
            account_root_arn="arn:aws:iam::123456789012:root",
        )


@pytest.mark.parametrize("backend", ["aws", "r2"])
def test_unsure_expiry_beyond_the_contracts_30_days_is_refused_for_every_backend(backend: str) -> None:
    """What the policy pack refuses at preview, the settings refuse first: on R2 the bucket lock
    equals this value and would otherwise outlast GDPR's one-month erasure deadline."""
    config = (
        {**VALID}
        if backend == "aws"
        else {
            f"{PROJECT}:backend": "r2",
            f"{PROJECT}:cloudflareAccountId": "0" * 32,
            f"{PROJECT}:replication": "false",
            f"{PROJECT}:accessLogging": "false",
        }
    )
    with pytest.raises(SettingsError, match=rf"{PROJECT}:unsureExpiryDays: Input should be less than or equal to 30"):
        parse_settings({**config, f"{PROJECT}:unsureExpiryDays": "31"})


def test_archiving_later_than_the_contracts_year_is_refused() -> None:
    message = problems(archiveAfterDays="400")
    assert f"{PROJECT}:archiveAfterDays: Input should be less than or equal to 365" in message, message


def test_the_r2_upload_gateway_is_on_by_default_and_needs_an_address() -> None:
    message = r2_problems()
    assert f"{PROJECT}:r2WorkersSubdomain: the upload gateway needs an address" in message, message
    gateway_on = {**R2, f"{PROJECT}:cloudflareAccountId": "0" * 32, f"{PROJECT}:r2WorkersSubdomain": "acme"}
    assert parse_settings(gateway_on).r2_upload_gateway, "cities must reach R2 through the gateway by default"


def test_the_r2_gateway_hostname_needs_its_zone() -> None:
    message = r2_problems(r2GatewayHostname="upload.example.com")
    assert "`r2GatewayHostname` and `r2GatewayZoneId` go together" in message, message


def test_the_r2_gateway_has_one_public_address_not_two() -> None:
    message = r2_problems(r2GatewayHostname="upload.example.com", r2GatewayZoneId="a" * 32, r2WorkersSubdomain="acme")
    assert "set either `r2GatewayHostname` or `r2WorkersSubdomain`, not both" in message, message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("r2GatewayHostname", "Upload_Host", "is not a DNS hostname"),
        ("r2GatewayZoneId", "zone", "is not a Cloudflare zone id (32 lowercase hex digits)"),
        ("r2WorkersSubdomain", "-acme-", "is not a workers.dev subdomain"),
    ],
)
def test_r2_gateway_address_settings_are_checked(key: str, value: str, expected: str) -> None:
    message = r2_problems(**{key: value})
    assert f"{PROJECT}:{key}: " in message and expected in message, message


def test_gateway_address_settings_are_refused_when_the_gateway_is_off() -> None:
    message = r2_problems(r2UploadGateway="false", r2WorkersSubdomain="acme")
    assert "r2WorkersSubdomain set, but `r2UploadGateway` is off" in message, message


def test_gateway_address_settings_are_refused_for_aws() -> None:
    message = problems(r2GatewayHostname="upload.example.com", r2GatewayZoneId="a" * 32)
    assert "r2GatewayHostname, r2GatewayZoneId set, but no upload gateway fronts this backend" in message, message


def test_a_gateway_runtime_not_built_is_refused_naming_the_one_there_is() -> None:
    message = r2_problems(uploadGatewayRuntime="aws-lambda")
    assert f"{PROJECT}:uploadGatewayRuntime: " in message and "'cloudflare-workers'" in message, message


def test_every_gateway_runtime_the_setting_allows_is_one_the_program_builds() -> None:
    from typing import get_args  # noqa: PLC0415

    from learning_images_infra.r2.gateway import RUNTIMES  # noqa: PLC0415
    from learning_images_infra.settings.model import Settings  # noqa: PLC0415

    allowed = set(get_args(Settings.model_fields["upload_gateway_runtime"].annotation))
    assert allowed == set(RUNTIMES), (
        f"uploadGatewayRuntime allows {sorted(allowed)}, the program builds {sorted(RUNTIMES)}"
    )


def test_an_r2_stack_without_the_gateway_needs_no_gateway_address() -> None:
    config = {**R2, f"{PROJECT}:cloudflareAccountId": "0" * 32, f"{PROJECT}:r2UploadGateway": "false"}
    assert not parse_settings(config).r2_upload_gateway


def test_a_stack_listing_deployer_is_told_at_preview_who_that_is_and_that_others_will_be_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = {
        "aws:region": "eu-west-1",
        f"{PROJECT}:replication": "false",
        f"{PROJECT}:configurationAdministrators": '["deployer"]',
    }
    with caplog.at_level("WARNING"):
        render(config)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "resolved to arn:aws:sts::123456789012:assumed-role/learning-images-deploy/ci-deploy" in said, said
    assert "will be refused" in said, f"configurationAdministrators: the preview must warn of the lock-out: {said}"


def test_the_prod_example_names_its_configuration_administrators_by_arn() -> None:
    config = yaml.safe_load((Path(__file__).parents[1] / "Pulumi.prod.yaml").read_text())["config"]
    administrators = config[f"{PROJECT}:configurationAdministrators"]
    assert administrators and "deployer" not in administrators, (
        f"Pulumi.prod.yaml: configurationAdministrators must be explicit ARNs, not `deployer`: {administrators}"
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("r2LocationHint", "weur"),
        ("r2Jurisdiction", "eu"),
        ("r2UploadGateway", "false"),
        ("gcsLocation", "NAM4"),
        ("gcsTurboReplication", "false"),
    ],
)
def test_another_backends_setting_on_an_aws_stack_is_refused_naming_it(key: str, value: str) -> None:
    """An aws stack with `r2LocationHint: weur` and `r2Jurisdiction: eu` was accepted and the
    settings silently ignored."""
    message = problems(**{key: value})
    assert f"{PROJECT}:{key}: is a setting of the " in message and f"remove `{key}`" in message, message


def test_every_backends_own_settings_are_refused_at_once_on_another() -> None:
    message = problems(r2LocationHint="weur", r2Jurisdiction="eu")
    assert "r2LocationHint" in message and "r2Jurisdiction" in message, f"all problems at once: {message}"


def test_every_settings_alias_is_the_one_its_messages_name() -> None:
    """Messages name a setting by its config key; the validators know the provider-owned keys."""
    from learning_images_infra.settings import Settings  # noqa: PLC0415
    from learning_images_infra.settings.validators import ALIASES, key  # noqa: PLC0415

    declared = {name: field.alias for name, field in Settings.model_fields.items() if field.alias != to_camel(name)}
    named = {name: key(name) for name in Settings.model_fields}
    assert named == {name: field.alias for name, field in Settings.model_fields.items()}, "messages misname a key"
    assert declared == ALIASES, f"Settings' aliases {declared} differ from validators.ALIASES {ALIASES}"


def test_registration_is_on_by_default_where_the_backend_has_an_event_source() -> None:
    assert parse_settings(VALID).registers, "aws: registration must default to on"
    r2 = parse_settings({**R2, f"{PROJECT}:cloudflareAccountId": "0" * 32, f"{PROJECT}:r2UploadGateway": "false"})
    assert r2.registers, "r2 has an event source (Cloudflare Queues): registration must default to on"
    off = parse_settings({**VALID, f"{PROJECT}:registration": "false"})
    assert not off.registers, "registration: false turns the event source off"


def test_the_alarm_channels_are_a_gcs_setting_refused_on_aws() -> None:
    message = problems(registrationAlarmChannels='["projects/learning-images/notificationChannels/1"]')
    assert f"{PROJECT}:registrationAlarmChannels" in message and "gcs" in message, message


def test_an_alarm_topic_that_is_not_an_sns_arn_is_refused_naming_the_setting() -> None:
    message = problems(registrationAlarmTopicArn="alarms")
    assert f"{PROJECT}:registrationAlarmTopicArn: 'alarms' is not an SNS topic ARN" in message, message


def test_the_alarm_topic_is_an_aws_setting_refused_on_r2() -> None:
    message = r2_problems(registrationAlarmTopicArn="arn:aws:sns:eu-west-1:123456789012:alarms")
    assert "is a setting of the aws backend" in message, message
