"""The gcs stack under Pulumi's mocks: every rule Google Cloud Storage holds is declared.

What a render cannot show: how Google Cloud validates and applies the declaration. Nothing here
reaches Google Cloud; the verifier's probes on the first live run do (docs/deploying.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from learning_images import contract
from learning_images.outputs import parse_outputs
from learning_images_infra.settings import SettingsError
from tests.support.stack import Graph, last_graph, render, stack_config

BUCKET = "gcp:storage/bucket:Bucket"


def bucket(graph: Graph) -> dict[str, Any]:
    return graph.one(BUCKET).inputs


def test_gcs_bucket_is_private_and_refuses_public_grants(gcs: Graph) -> None:
    declared = bucket(gcs)
    assert declared["uniformBucketLevelAccess"] is True, f"{declared['name']}: ACLs stay possible (no public access)"
    assert declared["publicAccessPrevention"] == "enforced", f"{declared['name']}: public grants are not refused"
    public = [
        r.name
        for r in gcs.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if r.inputs["member"] in ("allUsers", "allAuthenticatedUsers")
    ]
    assert not public, f"public grants on the bucket: {public}"


def test_gcs_objects_are_encrypted_only_with_the_store_key(gcs: Graph) -> None:
    encryption = bucket(gcs)["encryption"]
    key = gcs.one("gcp:kms/cryptoKey:CryptoKey")
    assert encryption["defaultKmsKeyName"] == key.id, "the bucket's default key is not the store's key"
    for other in ("googleManagedEncryptionEnforcementConfig", "customerSuppliedEncryptionEnforcementConfig"):
        assert encryption[other]["restrictionMode"] == "FullyRestricted", f"{other}: objects may use another key"
    assert key.inputs["rotationPeriod"] == f"{90 * 86400}s", f"{key.name}: the key does not rotate every 90 days"
    assert key.name in gcs.protected, f"{key.name}: the key is not protected"
    grant = gcs.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert grant.inputs["member"].endswith("@gs-project-accounts.iam.gserviceaccount.com"), (
        "the key is not granted to Cloud Storage's service agent"
    )
    assert grant.name in gcs.depends_on[gcs.one(BUCKET).name], "the bucket does not wait for the agent's key grant"
    ring = gcs.one("gcp:kms/keyRing:KeyRing")
    assert ring.inputs["location"] == bucket(gcs)["location"].lower(), "the key is not where the data is"


def test_gcs_deleted_objects_stay_recoverable(gcs: Graph) -> None:
    declared = bucket(gcs)
    assert declared["versioning"] == {"enabled": True}, f"{declared['name']}: not versioned"
    days = declared["softDeletePolicy"]["retentionDurationSeconds"] / 86400
    assert 7 <= days <= 30, f"{declared['name']}: soft delete keeps deletions {days} days (7 to 30)"
    assert not declared.get("retentionPolicy"), f"{declared['name']}: a retention policy excludes versioning"


def test_gcs_lifecycle_archives_by_age_and_expires_noncurrent_versions(gcs: Graph) -> None:
    periods = contract.CONTRACT_PERIODS
    rules = {
        (r["action"]["type"], r["action"].get("storageClass")): r["condition"] for r in bucket(gcs)["lifecycleRules"]
    }
    archive = rules[("SetStorageClass", "COLDLINE")]
    assert archive["age"] == periods.archive_after_days and archive["withState"] == "LIVE", archive
    noncurrent = rules[("Delete", None)]
    assert noncurrent == {"daysSinceNoncurrentTime": periods.noncurrent_version_expiry_days, "withState": "ARCHIVED"}
    assert rules[("AbortIncompleteMultipartUpload", None)]["age"] == periods.abort_incomplete_multipart_days
    assert len(rules) == 3, f"no lifecycle rule can read a label on GCS, yet: {rules}"


def test_gcs_bucket_is_dual_region_with_turbo_replication(gcs: Graph) -> None:
    declared = bucket(gcs)
    assert declared["location"] in ("EUR4", "NAM4"), f"{declared['name']}: not a dual-region"
    assert declared["rpo"] == "ASYNC_TURBO", f"{declared['name']}: no turbo replication"
    off = render({**stack_config("gcs"), "learning-images:gcsTurboReplication": "false"}, stack="gcs")
    assert bucket(off)["rpo"] == "DEFAULT"


def test_gcs_erasure_completes_within_a_month() -> None:
    """Noncurrent expiry plus soft delete: how long an erased image's bytes outlive the erasure."""
    config = {**stack_config("gcs"), "learning-images:gcsSoftDeleteDays": "25"}
    with pytest.raises(SettingsError, match=r"noncurrentVersionExpiryDays: \(7\) plus `gcsSoftDeleteDays` \(25\)"):
        render(config, stack="gcs")
    assert not last_graph().resources, "an invalid gcs stack registered resources"


def test_gcs_tiers_are_service_accounts_with_hmac_keys_and_secret_outputs(gcs: Graph) -> None:
    outputs = parse_outputs(gcs.outputs, "the gcs render")
    assert outputs.backend == "gcs" and outputs.endpoint_url == "https://storage.googleapis.com"
    assert set(outputs.city_credentials) == {"amsterdam", "berlin"}
    keys = {r.outputs["accessId"] for r in gcs.of_type("gcp:storage/hmacKey:HmacKey")}
    assert outputs.probe_credentials is not None, "the probe city holds an HMAC key"
    given = {c.access_key_id for c in [*outputs.city_credentials.values(), outputs.probe_credentials]}
    assert outputs.registration is not None and outputs.registration.receiver_credentials is not None
    given.add(outputs.registration.receiver_credentials.access_key_id)
    assert given <= keys and len(keys) == 6, "every tier, city and the receiver holds its own HMAC key"
    for name in ("city_credentials", "probe_credentials", "command_centre_credentials", "training_credentials"):
        assert gcs.secret_outputs[name], f"output {name} is not a secret"
    assert outputs.reference(contract.PLACEHOLDER_KEY).startswith(f"gs://{outputs.bucket_name}/")


def test_invalid_gcs_config_names_every_problem_and_registers_nothing() -> None:
    config = {
        "learning-images:backend": "gcs",
        "gcp:project": "Not_A_Project",
        "learning-images:replication": "false",
        "learning-images:gcsLocation": "US",
        "learning-images:objectLockMode": "GOVERNANCE",
    }
    with pytest.raises(SettingsError) as raised:
        render(config, stack="gcs")
    message = str(raised.value)
    for key in ("gcp:project", "replication", "gcsLocation: Input should be 'EUR4' or 'NAM4'", "objectLockMode"):
        assert key in message, message
    assert not last_graph().resources, "an invalid gcs stack registered resources"


def test_gcs_settings_are_refused_on_another_backend() -> None:
    with pytest.raises(
        SettingsError, match="gcsSoftDeleteDays: is a setting of the gcs backend, but the backend is aws"
    ):
        render({**stack_config("dev"), "learning-images:gcsSoftDeleteDays": "10"}, stack="dev")
