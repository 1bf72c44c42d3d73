"""The minio backend, as Pulumi.minio.yaml renders it: the bucket's own configuration under mocks,
and each tier's policy judged as MinIO asks (``learning_images.sandbox.minio_authorization``) by the
independent IAM evaluator. What the catalogue's minio column declares, each test proves once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest

from learning_images import contract, minio, rules
from learning_images.backends import BackendProfile
from learning_images.sandbox import minio_authorization
from learning_images.sandbox.iam_simulator import Evaluator, Policy, Principal, iam_simulator_pool
from learning_images.sandbox.s3_authorization import HttpRequest
from learning_images_infra.settings import PROJECT, SettingsError, parse_settings
from tests.support import iam_scenarios
from tests.support.iam_scenarios import KEY, operation_request, uploader_request, with_headers, with_key, with_tags
from tests.support.stack import Graph, policy_of, render, stack_config

ACCOUNT = "123456789012"
BUCKET = "minio:index/s3Bucket:S3Bucket"
POLICY = "minio:index/iamPolicy:IamPolicy"
CITIES = ("amsterdam", "berlin", contract.PROBE_CITY_ID)


def user(name: str, policy: Policy) -> Principal:
    """A MinIO user with its one attached policy (no principal ARN conditions apply on MinIO)."""
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    return Principal(name, arn, arn, ACCOUNT, identity_policies=((name, policy),))


def allowed(evaluator: Evaluator, principal: Principal, request: HttpRequest) -> bool:
    return minio_authorization.allowed(evaluator, principal, request, account=ACCOUNT)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return render(stack_config("minio"), stack="minio")


@pytest.fixture(scope="module")
def evaluator() -> Iterator[Evaluator]:
    with iam_simulator_pool(1) as running:
        yield running


@dataclass(frozen=True)
class _Target:
    """What the scenario builders read of a store (``iam_scenarios.uploader_request``)."""

    bucket: str
    profile: BackendProfile
    region: str


@pytest.fixture(scope="module")
def target(graph: Graph) -> iam_scenarios.Store:
    outputs = graph.outputs
    profile = BackendProfile.model_validate(outputs["capabilities"])
    return cast(iam_scenarios.Store, _Target(str(outputs["bucket_name"]), profile, str(outputs["region"])))


@pytest.fixture(scope="module")
def users(graph: Graph) -> dict[str, Principal]:
    """Each tier's MinIO user with the policy attached to it, by who it is (``city:<id>``, the tiers)."""
    found = {}
    for attachment in graph.of_type("minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"):
        name = str(attachment.inputs["userName"])
        policy = next(p for p in graph.of_type(POLICY) if p.inputs["name"] == attachment.inputs["policyName"])
        who = name.removeprefix(f"{PROJECT}-minio-")
        found[who.replace("city-", "city:", 1)] = user(name, policy_of(policy))
    return found


def test_the_bucket_is_private_with_no_bucket_policy(graph: Graph) -> None:
    bucket = graph.one(BUCKET)
    assert bucket.inputs["acl"] == "private", f"{bucket.name}: no public access (acl {bucket.inputs['acl']!r})"
    policies = graph.of_type("minio:index/s3BucketPolicy:S3BucketPolicy")
    assert not policies, f"no public access: a MinIO bucket policy only grants anonymous access: {policies}"


def test_the_bucket_is_encrypted_by_default_with_its_own_kes_key(graph: Graph) -> None:
    encryption = graph.one("minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption")
    key = graph.one("minio:index/kmsKey:KmsKey")
    assert encryption.inputs["encryptionType"] == "aws:kms", f"{encryption.name}: encryption at rest is SSE-KMS"
    assert encryption.inputs["kmsKeyId"] == key.inputs["keyId"], f"{encryption.name}: the store's own KES key"
    assert graph.outputs["kms_key_arn"] == key.inputs["keyId"], "the outputs name the key the guards allow"


def test_the_bucket_is_versioned_with_object_lock(graph: Graph) -> None:
    bucket = graph.one(BUCKET)
    versioning = graph.one("minio:index/s3BucketVersioning:S3BucketVersioning")
    assert bucket.inputs["objectLocking"] is True, f"{bucket.name}: Object Lock, set at creation"
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", (
        f"{versioning.name}: deleted objects stay recoverable (versioning)"
    )


def test_the_lifecycle_expires_by_label(graph: Graph) -> None:
    rules_by_id = {r["id"]: r for r in graph.one("minio:index/ilmPolicy:IlmPolicy").inputs["rules"]}
    periods = contract.CONTRACT_PERIODS
    unsure = rules_by_id["expire-unsure"]
    assert unsure["tags"] == {contract.LABEL_STATUS: "unsure"} and unsure["expiration"] == (
        f"{periods.unsure_expiry_days}d"
    ), f"lifecycle by label: `unsure` expires after {periods.unsure_expiry_days} days: {unsure}"
    correct = rules_by_id["archive-then-expire-correct"]
    assert correct["expiration"] == f"{periods.correct_retention_days}d", f"`correct` is retained: {correct}"
    assert not any((r.get("tags") or {}).get(contract.LABEL_STATUS) == "changed" for r in rules_by_id.values()), (
        "lifecycle by label: `changed` objects are kept (no rule expires them)"
    )
    noncurrent = rules_by_id["expire-noncurrent-versions-and-incomplete-uploads"]
    assert noncurrent["noncurrentVersionExpirationDays"] == periods.noncurrent_version_expiry_days


def test_minio_takes_every_tier_policy(graph: Graph) -> None:
    """MinIO refuses a whole policy naming a key or an action it lacks (its own tables, minio/pkg)."""
    for policy in graph.of_type(POLICY):
        for statement in policy_of(policy)["Statement"]:
            refused, unsupported = minio.refused_keys(statement), minio.unsupported_actions(statement)
            assert not refused and not unsupported, (
                f"{policy.name}: MinIO ({minio.source()}) would refuse the policy over {statement.get('Sid')}: "
                f"keys {refused}, actions {unsupported}"
            )


def test_every_tier_policy_carries_the_guards_minio_evaluates(
    graph: Graph, evaluator: Evaluator, target: iam_scenarios.Store, users: dict[str, Principal]
) -> None:
    every_tier = rules.tier_policy_sids("minio") - rules.Sid.binds_some_tiers()
    for policy in graph.of_type(POLICY):
        sids = {s.get("Sid") for s in policy_of(policy)["Statement"] if s["Effect"] == "Deny"}
        assert every_tier <= sids, f"{policy.name}: lacks the guards {sorted(every_tier - sids)}"
    good = uploader_request(target, "amsterdam", contract.Label.CORRECT)
    violations: dict[str, HttpRequest] = {
        "a key with a folder": with_key(good, f"cam/{KEY}"),
        "a key that is no UUID": with_key(good, "photo.jpg"),
        "the camera_id tag left out": with_tags(
            good, {k: v for k, v in iam_scenarios.tags_of(good).items() if k != "camera_id"}
        ),
        "an unknown tag added": with_tags(good, {**iam_scenarios.tags_of(good), "note": "x"}),
        "an Object Lock header": with_headers(good, x_amz_object_lock_legal_hold="ON"),
        "a copy into the bucket": with_headers(good, x_amz_copy_source=f"/{target.bucket}/{KEY}"),
        "SSE-S3 asked for": with_headers(good, x_amz_server_side_encryption="AES256"),
        "SSE-C asked for": with_headers(good, x_amz_server_side_encryption_customer_algorithm="AES256"),
        "a storage class chosen": with_headers(good, x_amz_storage_class="GLACIER"),
    }
    for who in ("city:amsterdam", "command-centre"):
        for name, request in violations.items():
            assert not allowed(evaluator, users[who], request), f"{who}'s policy lets through {name}"
    for who in ("city:amsterdam", "command-centre", "training"):
        retag = operation_request(target, "PutObjectTagging")
        assert not allowed(evaluator, users[who], retag), f"labels are immutable: {who} may rewrite tags"


def test_cities_and_the_command_centre_may_upload_compliant_samples(
    evaluator: Evaluator, target: iam_scenarios.Store, users: dict[str, Principal]
) -> None:
    for city in CITIES:
        for label in contract.UPLOAD_LABELS:
            request = uploader_request(target, city, label)
            assert allowed(evaluator, users[f"city:{city}"], request), f"city {city} cannot upload a {label} sample"
            assert allowed(evaluator, users["command-centre"], request), f"the Command Centre cannot upload {label}"
        unsure = uploader_request(target, city, contract.Label.UNSURE)
        assert not allowed(evaluator, users[f"city:{city}"], unsure), f"`unsure` is never uploaded: city {city} may"
    assert not allowed(evaluator, users["training"], uploader_request(target, "amsterdam", contract.Label.CORRECT)), (
        "the training pipeline is read-only, but may upload"
    )


def test_a_city_uploads_only_as_itself(
    evaluator: Evaluator, target: iam_scenarios.Store, users: dict[str, Principal]
) -> None:
    as_berlin = uploader_request(target, "berlin", contract.Label.CORRECT)
    assert not allowed(evaluator, users["city:amsterdam"], as_berlin), "city amsterdam may upload as berlin"


#: Each tier's operations on MinIO: the contract's, and what MinIO adds (listing versions falls
#: back to s3:ListBucket, so the training tier lists them too).
OPERATIONS = ("GetObject", "GetObjectTagging", "ListObjectsV2", "ListObjectVersions", "DeleteObject")
EXPECTED: dict[str, dict[str, bool]] = {
    "city:amsterdam": dict.fromkeys(OPERATIONS, False),
    "training": {**dict.fromkeys(OPERATIONS, True), "DeleteObject": False},
    "command-centre": dict.fromkeys(OPERATIONS, True),
}


def test_each_tier_may_do_exactly_its_operations(
    evaluator: Evaluator, target: iam_scenarios.Store, users: dict[str, Principal]
) -> None:
    wrong = [
        f"{who} {operation}: expected {'allowed' if expected else 'refused'}"
        for who, operations in EXPECTED.items()
        for operation, expected in operations.items()
        if allowed(evaluator, users[who], operation_request(target, operation)) != expected
    ]
    assert not wrong, f"the tiers on MinIO: {wrong}"


def test_only_the_command_centre_deletes(
    evaluator: Evaluator, target: iam_scenarios.Store, users: dict[str, Principal]
) -> None:
    for operation in ("DeleteObject", "DeleteObjectVersion", "EraseLockedVersion"):
        request = operation_request(target, operation)
        assert allowed(evaluator, users["command-centre"], request), f"GDPR erasure: the Command Centre {operation}"
        for who in ("city:amsterdam", "training"):
            assert not allowed(evaluator, users[who], request), f"only the Command Centre deletes: {who} {operation}"


# --- registration ----------------------------------------------------------------------------------

NOTIFICATION = "minio:index/s3BucketNotification:S3BucketNotification"


def test_the_bucket_notifies_every_creation_and_removal_to_the_servers_postgresql_target(graph: Graph) -> None:
    notification = graph.one(NOTIFICATION)
    (queue,) = notification.inputs["queues"]
    assert queue["queueArn"] == "arn:minio:sqs::learning-images:postgresql", (
        f"{notification.urn}: notifies {queue['queueArn']}, not the stack's minioEventTargetArn"
    )
    assert sorted(queue["events"]) == sorted(minio.EVENT_NAMES) and not queue.get("filterPrefix"), (
        f"{notification.urn}: every object created or removed must reach the receiver, notifies {queue}"
    )
    registration = graph.outputs["registration"]
    assert (registration["source"], registration["queue_url"], registration["dead_letter_queue_url"]) == (
        "postgresql",
        minio.EVENTS_TABLE,
        minio.DEAD_LETTER_TABLE,
    ), f"the minio stack's registration output: {registration}"


def test_the_receiver_reads_objects_and_their_tags_and_nothing_else(
    evaluator: Evaluator, target: iam_scenarios.Store, users: dict[str, Principal]
) -> None:
    receiver = users["receiver"]
    for operation in ("GetObject", "GetObjectTagging"):
        assert allowed(evaluator, receiver, operation_request(target, operation)), f"the receiver may not {operation}"
    refused = [*(o for o in OPERATIONS if o not in ("GetObject", "GetObjectTagging")), "DeleteObjectVersion"]
    wrong = [o for o in refused if allowed(evaluator, receiver, operation_request(target, o))]
    upload = uploader_request(target, contract.PROBE_CITY_ID, contract.Label.CORRECT)
    assert not wrong and not allowed(evaluator, receiver, upload), (
        f"the receiver reads metadata only, yet may {wrong or 'upload'}"
    )


def test_a_minio_event_target_must_be_a_postgresql_targets_arn() -> None:
    said = _refusal({**stack_config("minio"), "learning-images:minioEventTargetArn": "arn:minio:sqs::hooks:webhook"})
    assert "minioEventTargetArn" in said and "postgresql" in said, said


# --- settings ----------------------------------------------------------------------------------------


def _refusal(config: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as raised:
        parse_settings({k: json.dumps(v) if not isinstance(v, str) else v for k, v in config.items()})
    return str(raised.value)


def test_a_minio_setting_on_another_backend_is_refused_naming_it() -> None:
    message = _refusal(
        {
            "aws:region": "eu-west-1",
            f"{PROJECT}:minioEndpointUrl": "https://minio.example.org",
            f"{PROJECT}:replicaRegion": "eu-central-1",
        }
    )
    assert f"{PROJECT}:minioEndpointUrl" in message and "minio backend" in message, message


def test_a_minio_stack_refuses_what_pulumi_minio_cannot_declare_naming_it() -> None:
    base = {f"{PROJECT}:backend": "minio", f"{PROJECT}:minioEndpointUrl": "https://minio.example.org"}
    message = _refusal({**base, f"{PROJECT}:objectLockMode": "GOVERNANCE"})
    assert f"{PROJECT}:objectLockMode" in message and "default Object Lock retention" in message, message
    assert f"{PROJECT}:replication" in message, f"replication is on by default and must be turned off: {message}"


def test_a_minio_endpoint_must_be_an_https_server_url() -> None:
    for wrong in ("http://minio.example.org", "https://minio.example.org/bucket", "minio.example.org"):
        message = _refusal({f"{PROJECT}:backend": "minio", f"{PROJECT}:minioEndpointUrl": wrong})
        assert f"{PROJECT}:minioEndpointUrl" in message and "HTTPS URL" in message, f"{wrong}: {message}"
    missing = _refusal({f"{PROJECT}:backend": "minio"})
    assert f"{PROJECT}:minioEndpointUrl" in missing and "required for the minio backend" in missing, missing
