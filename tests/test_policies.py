"""The policy pack over the program's mocked resource graph, without the Pulumi CLI.

Every deployable stack passes with zero violations; then one mutation per rule (the graph as a
careless change would leave it) must make exactly that rule fire.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from learning_images.rules import Sid
from learning_images.sandbox.render import ROOT, Graph, Resource, render, stack_config
from policies.contract_policies import POLICIES
from policies.harness import OPTIONS, Given, as_the_engine_gives
from policies.harness import violations as harness_violations

Mutation = Callable[[list[Resource]], None]


#: The output that holds the name a resource creates, where it is not `name`.
OWN_NAMES = {
    "aws:s3/bucket:Bucket": "bucket",
    "minio:index/s3Bucket:S3Bucket": "bucket",
    "cloudflare:index/queue:Queue": "queueName",
}


def identities(resource: Resource) -> set[str]:
    """What other resources' inputs carry to refer to this one: its id, ARN, and the name it
    creates (a bucket's `bucket`, a Cloudflare Queue's `queueName`, an IAM or R2 resource's
    `name`); not the names it refers to."""
    own_name = OWN_NAMES.get(resource.type, "name")
    values = {resource.id, str(resource.outputs.get("arn") or ""), str(resource.outputs.get(own_name) or "")}
    if resource.type.startswith("aws:s3/") and resource.type != "aws:s3/bucket:Bucket":
        values.discard(str(resource.outputs.get("name") or ""))
    return {v for v in values if v}


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def policy_resources(resources: list[Resource]) -> list[PolicyResource]:
    """The resources as the engine hands them to a stack policy: the engine knows which
    resources each property depends on; under mocks, a property depends on the resources whose
    id, name or ARN it carries."""
    owners = {identity: r.urn for r in resources for identity in identities(r)}
    converted = {
        r.urn: PolicyResource(r.type, as_the_engine_gives(r.inputs), r.urn, r.name, OPTIONS, None, None, [], {})
        for r in resources
    }
    for r in resources:
        for prop, value in r.inputs.items():
            urns = {owners[s] for s in strings(value) if s in owners and owners[s] != r.urn}
            if urns:
                converted[r.urn].property_dependencies[prop] = [converted[u] for u in sorted(urns)]
    return list(converted.values())


def violations(resources: list[Resource], config: dict[str, dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """Policy name -> its violation messages (with the URN), over the whole graph."""
    given = [Given(r.type, r.name, r.inputs, given_urn=r.urn) for r in resources]
    return harness_violations(POLICIES, given, config, stack=policy_resources(resources))


@pytest.fixture(scope="module")
def stacks() -> dict[str, Graph]:
    return {
        name: render(stack_config(name), stack=name)
        for name in ("dev", "prod", "r2", "local", "gcs", "minio", "spaces", "b2")
    }


#: The config the prod preview and deploy pass to the pack (.github/workflows).
PROD_CONFIG: dict[str, dict[str, Any]] = json.loads((ROOT / "policies" / "config.prod.json").read_text())


@pytest.mark.parametrize("stack", ["dev", "prod", "r2", "gcs", "minio", "spaces", "b2"])
def test_every_deployable_stack_passes_the_pack(stacks: dict[str, Graph], stack: str) -> None:
    found = violations(stacks[stack].resources, PROD_CONFIG if stack == "prod" else None)
    assert not found, f"Pulumi.{stack}.yaml violates the contract: {json.dumps(found, indent=1)}"


def test_every_policy_has_a_kebab_case_name_description_and_remediation() -> None:
    for policy in POLICIES:
        assert policy.name == policy.name.lower() and " " not in policy.name and "_" not in policy.name, policy.name
        assert policy.description and policy.remediation_steps, f"{policy.name}: description and remediation"


def test_the_sandbox_stack_passes_the_pack_like_dev(stacks: dict[str, Graph]) -> None:
    """The local stack is the real program (the sandbox judges it with its own policies)."""
    found = violations(stacks["local"].resources)
    assert not found, f"Pulumi.local.yaml violates the contract: {json.dumps(found, indent=1)}"


# --- one mutation per rule -----------------------------------------------------------------------


def first(resources: list[Resource], type_: str, name: str | None = None) -> Resource:
    return next(r for r in resources if r.type == type_ and (name is None or r.name == name))


def set_input(type_: str, key: str, value: Any, name: str | None = None) -> Mutation:
    def mutate(resources: list[Resource]) -> None:
        first(resources, type_, name).inputs[key] = value

    return mutate


def drop(type_: str, name: str) -> Mutation:
    def mutate(resources: list[Resource]) -> None:
        resources.remove(first(resources, type_, name))

    return mutate


def edit_policy(type_: str, name: str, change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(resources: list[Resource]) -> None:
        resource = first(resources, type_, name)
        document = json.loads(resource.inputs["policy"])
        change(document)
        resource.inputs["policy"] = json.dumps(document)

    return mutate


def widen_city(document: dict[str, Any]) -> None:
    document["Statement"].append(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::learning-images/*"}
    )


def star_grant(document: dict[str, Any]) -> None:
    document["Statement"].append({"Sid": "Oops", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})


def training_writes(document: dict[str, Any]) -> None:
    document["Statement"].append(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::learning-images/*"}
    )


def remove_guard(document: dict[str, Any]) -> None:
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != Sid.EXCLUDED_LABEL]


def lengthen_unsure(resources: list[Resource]) -> None:
    lifecycle = first(
        resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "learning-images-lifecycle"
    )
    for rule in lifecycle.inputs["rules"]:
        if rule["id"] == "expire-unsure":
            rule["expiration"] = {"days": 90}


def expire_changed(resources: list[Resource]) -> None:
    lifecycle = first(
        resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "learning-images-lifecycle"
    )
    for rule in lifecycle.inputs["rules"]:
        if rule["id"] == "archive-and-keep-changed":
            rule["expiration"] = {"days": 400}


def sse_s3_on_learning_bucket(resources: list[Resource]) -> None:
    encryption = first(
        resources,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "learning-images-encryption",
    )
    encryption.inputs["rules"] = [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "blockedEncryptionTypes": ["SSE-C"]}
    ]


def replicate_delete_markers(resources: list[Resource]) -> None:
    config = first(resources, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    config.inputs["rules"][0]["deleteMarkerReplication"] = {"status": "Enabled"}


def add_custom_domain(resources: list[Resource]) -> None:
    bucket = first(resources, "cloudflare:index/r2Bucket:R2Bucket")
    resources.append(
        Resource(
            "cloudflare:index/r2CustomDomain:R2CustomDomain",
            "public",
            {"bucketName": bucket.outputs["name"], "domain": "images.example.com"},
            "urn:pulumi:r2::learning-images::cloudflare:index/r2CustomDomain:R2CustomDomain::public",
        )
    )


def account_wide_token(resources: list[Resource]) -> None:
    token = first(resources, "cloudflare:index/accountToken:AccountToken", "training-token")
    token.inputs["policies"][0]["resources"] = json.dumps(
        {"com.cloudflare.api.account.0123456789abcdef0123456789abcdef": "*"}
    )


def receiver_token_with_more_than_queues(resources: list[Resource]) -> None:
    """The receiver's account-wide policy given an R2 write group as well."""
    token = first(resources, "cloudflare:index/accountToken:AccountToken", "receiver-token")
    token.inputs["policies"][1]["permissionGroups"].append({"id": "bf7481a1826f439697cb59a20b22293e"})


R2_CONSUMER = "cloudflare:index/queueConsumer:QueueConsumer"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCS_GRANT = "gcp:storage/bucketIAMMember:BucketIAMMember"
PUBSUB_SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
PUBSUB_TOPIC_GRANT = "gcp:pubsub/topicIAMMember:TopicIAMMember"


def event_topic_open_to_a_tier(resources: list[Resource]) -> None:
    """A second publisher on the events topic: the training tier's service account."""
    grant = copy.deepcopy(first(resources, PUBSUB_TOPIC_GRANT, "registration-events-storage-agent"))
    grant.name, grant.urn = "training-publisher", grant.urn.replace("registration-events-storage-agent", "training-pub")
    grant.inputs["member"] = first(resources, GCS_GRANT, "training-grant").inputs["member"]
    resources.append(grant)


def gcs_google_managed_keys_allowed(resources: list[Resource]) -> None:
    first(resources, GCS_BUCKET).inputs["encryption"]["googleManagedEncryptionEnforcementConfig"] = None


def gcs_retention_policy(resources: list[Resource]) -> None:
    first(resources, GCS_BUCKET).inputs["retentionPolicy"] = {"retentionPeriod": 365 * 86400}


def gcs_delete_live_objects_by_age(resources: list[Resource]) -> None:
    first(resources, GCS_BUCKET).inputs["lifecycleRules"].append(
        {"action": {"type": "Delete"}, "condition": {"age": 730}}
    )


def gcs_key_without_rotation(resources: list[Resource]) -> None:
    del first(resources, "gcp:kms/cryptoKey:CryptoKey").inputs["rotationPeriod"]


def gcs_city_role_may_delete(resources: list[Resource]) -> None:
    role = first(resources, "gcp:projects/iAMCustomRole:IAMCustomRole", "city-role")
    role.inputs["permissions"] = [*role.inputs["permissions"], "storage.objects.delete"]


def sqs_policy_without_source_condition(document: dict[str, Any]) -> None:
    (sender,) = [st for st in document["Statement"] if st["Effect"] == "Allow"]
    del sender["Condition"]["ArnEquals"]


def sqs_policy_open_to_anyone(document: dict[str, Any]) -> None:
    document["Statement"].append(
        {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
    )


def sqs_policy_over_plain_http(document: dict[str, Any]) -> None:
    document["Statement"] = [st for st in document["Statement"] if st["Effect"] != "Deny"]


QUEUE, QUEUE_POLICY = "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy"

MINIO_BUCKET = "minio:index/s3Bucket:S3Bucket"
MINIO_POLICY = "minio:index/iamPolicy:IamPolicy"
MINIO_NOTIFICATION = "minio:index/s3BucketNotification:S3BucketNotification"


def minio_bucket_policy(resources: list[Resource]) -> None:
    """A bucket policy on the MinIO bucket: on MinIO it only ever grants anonymous access."""
    bucket = first(resources, MINIO_BUCKET)
    resources.append(
        Resource(
            "minio:index/s3BucketPolicy:S3BucketPolicy",
            "learning-images-policy",
            {"bucket": bucket.inputs["bucket"], "policy": json.dumps({"Version": "2012-10-17", "Statement": []})},
            "urn:pulumi:minio::learning-images::minio:index/s3BucketPolicy:S3BucketPolicy::learning-images-policy",
        )
    )


def minio_drop_guard(document: dict[str, Any]) -> None:
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "DenyUploadWithExcludedLabel"]


def minio_star(document: dict[str, Any]) -> None:
    document["Statement"].append({"Sid": "Oops", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::*"})


def minio_keep_unsure(resources: list[Resource]) -> None:
    ilm = first(resources, "minio:index/ilmPolicy:IlmPolicy")
    ilm.inputs["rules"] = [r for r in ilm.inputs["rules"] if r["id"] != "expire-unsure"]


SPACES_BUCKET = "digitalocean:index/spacesBucket:SpacesBucket"


def spaces_expire_by_age(resources: list[Resource]) -> None:
    bucket = first(resources, SPACES_BUCKET)
    bucket.inputs["lifecycleRules"] = [{**bucket.inputs["lifecycleRules"][0], "expiration": {"days": 365}}]


DYNAMIC = "pulumi-python:dynamic:Resource"


def b2_hide_live_files(resources: list[Resource]) -> None:
    bucket = first(resources, DYNAMIC, "learning-images")
    bucket.inputs["lifecycle_rules"] = [{**bucket.inputs["lifecycle_rules"][0], "daysFromUploadingToHiding": 365}]


def b2_rule(change: Callable[[dict[str, Any]], Any]) -> Mutation:
    """Change the B2 bucket's notification rule (a secret: the mocks wrap it as the wire does)."""

    def b2_rule_changed(resources: list[Resource]) -> None:
        rules = as_the_engine_gives(first(resources, DYNAMIC, "learning-images-events").inputs)["rules"]
        change(rules[0])
        first(resources, DYNAMIC, "learning-images-events").inputs["rules"] = rules

    return b2_rule_changed


def b2_gateway_without_events_binding(resources: list[Resource]) -> None:
    script = first(resources, "cloudflare:index/workersScript:WorkersScript", "upload-gateway")
    bindings = as_the_engine_gives(script.inputs)["bindings"]
    script.inputs["bindings"] = [b for b in bindings if b["name"] != "EVENTS"]


MUTATIONS: list[tuple[str, str, Mutation]] = [
    ("prod", "sqs-queues-encrypted-with-customer-key", set_input(QUEUE, "kmsMasterKeyId", None, "registration-events")),
    (
        "dev",
        "sqs-queues-encrypted-with-customer-key",
        set_input(QUEUE, "kmsMasterKeyId", "alias/aws/sqs", "registration-dead-letters"),
    ),
    (
        "prod",
        "sqs-sender-scoped-to-bucket",
        edit_policy(QUEUE_POLICY, "registration-events-policy", sqs_policy_without_source_condition),
    ),
    (
        "dev",
        "sqs-sender-scoped-to-bucket",
        edit_policy(QUEUE_POLICY, "registration-events-policy", sqs_policy_open_to_anyone),
    ),
    (
        "dev",
        "sqs-sender-scoped-to-bucket",
        edit_policy(QUEUE_POLICY, "registration-events-policy", sqs_policy_over_plain_http),
    ),
    ("prod", "s3-event-queues-have-dead-letter-queue", set_input(QUEUE, "redrivePolicy", None, "registration-events")),
    ("prod", "kms-keys-rotate", set_input("aws:kms/key:Key", "enableKeyRotation", False, "store-key")),
    (
        "prod",
        "s3-public-access-block-complete",
        set_input("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "restrictPublicBuckets", False),
    ),
    (
        "prod",
        "s3-every-bucket-has-public-access-block",
        drop("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "learning-images-public-access-block"),
    ),
    ("prod", "s3-lifecycle-follows-contract", lengthen_unsure),
    ("dev", "s3-lifecycle-follows-contract", expire_changed),
    (
        "prod",
        "s3-image-buckets-have-lifecycle",
        drop("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "learning-images-replica-lifecycle"),
    ),
    (
        "prod",
        "iam-city-tier-upload-only",
        edit_policy("aws:iam/groupPolicy:GroupPolicy", "city-uploaders-policy", widen_city),
    ),
    (
        "prod",
        "iam-no-wildcard-s3-grants",
        edit_policy("aws:iam/rolePolicy:RolePolicy", "command-centre-role-policy", star_grant),
    ),
    (
        "prod",
        "iam-tier-roles-least-privilege",
        edit_policy("aws:iam/rolePolicy:RolePolicy", "training-role-policy", training_writes),
    ),
    (
        "prod",
        "s3-learning-bucket-policy-guards",
        edit_policy("aws:s3/bucketPolicy:BucketPolicy", "learning-images-policy", remove_guard),
    ),
    (
        "dev",
        "s3-every-bucket-has-one-bucket-policy",
        drop("aws:s3/bucketPolicy:BucketPolicy", "learning-images-policy"),
    ),
    ("dev", "s3-buckets-encrypted-with-customer-key", sse_s3_on_learning_bucket),
    (
        "dev",
        "s3-every-bucket-versioned",
        set_input("aws:s3/bucketVersioning:BucketVersioning", "versioningConfiguration", {"status": "Suspended"}),
    ),
    ("prod", "s3-replication-where-required", replicate_delete_markers),
    (
        "prod",
        "s3-replication-where-required",
        drop("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "learning-images-replication"),
    ),
    ("r2", "r2-no-public-domain", set_input("cloudflare:index/r2ManagedDomain:R2ManagedDomain", "enabled", True)),
    ("r2", "r2-no-public-domain", add_custom_domain),
    (
        "r2",
        "r2-bucket-not-public",
        drop("cloudflare:index/r2ManagedDomain:R2ManagedDomain", "learning-images-r2-dev-domain"),
    ),
    ("r2", "r2-tokens-bucket-scoped", account_wide_token),
    ("r2", "r2-tokens-bucket-scoped", receiver_token_with_more_than_queues),
    (
        "r2",
        "r2-event-queues-have-dead-letter-queue",
        set_input(R2_CONSUMER, "deadLetterQueue", None, "registration-consumer"),
    ),
    ("r2", "r2-event-queues-have-dead-letter-queue", drop(R2_CONSUMER, "registration-consumer")),
    ("gcs", "gcs-bucket-not-public", set_input(GCS_BUCKET, "publicAccessPrevention", "inherited")),
    ("gcs", "gcs-bucket-not-public", set_input(GCS_BUCKET, "uniformBucketLevelAccess", False)),
    ("gcs", "gcs-no-public-members", set_input(GCS_GRANT, "member", "allUsers", "training-grant")),
    ("gcs", "gcs-bucket-encrypted-with-customer-key", gcs_google_managed_keys_allowed),
    ("gcs", "gcs-bucket-versioned-with-soft-delete", set_input(GCS_BUCKET, "versioning", {"enabled": False})),
    ("gcs", "gcs-bucket-versioned-with-soft-delete", gcs_retention_policy),
    ("gcs", "gcs-bucket-dual-region", set_input(GCS_BUCKET, "location", "EUROPE-WEST1")),
    ("gcs", "gcs-lifecycle-follows-contract", gcs_delete_live_objects_by_age),
    ("gcs", "gcs-kms-keys-rotate", gcs_key_without_rotation),
    ("gcs", "gcs-tier-roles-least-privilege", gcs_city_role_may_delete),
    ("gcs", "gcs-tier-roles-least-privilege", set_input(GCS_GRANT, "condition", None, "city-amsterdam-grant")),
    (
        "gcs",
        "gcs-tier-roles-least-privilege",
        set_input(GCS_GRANT, "role", "roles/storage.objectAdmin", "training-grant"),
    ),
    (
        "gcs",
        "gcs-tier-roles-least-privilege",
        set_input(
            "gcp:projects/iAMCustomRole:IAMCustomRole",
            "permissions",
            ["storage.objects.get", "storage.objects.delete"],
            "receiver-role",
        ),
    ),
    (
        "gcs",
        "pubsub-event-subscriptions-have-dead-letter-topic",
        set_input(PUBSUB_SUBSCRIPTION, "deadLetterPolicy", None, "registration-events"),
    ),
    (
        "gcs",
        "pubsub-event-subscriptions-have-dead-letter-topic",
        drop(PUBSUB_SUBSCRIPTION, "registration-dead-letters"),
    ),
    ("gcs", "pubsub-event-topic-publishers-scoped", event_topic_open_to_a_tier),
    ("gcs", "pubsub-event-topic-publishers-scoped", drop(PUBSUB_TOPIC_GRANT, "registration-events-storage-agent")),
    ("minio", "minio-bucket-private", set_input(MINIO_BUCKET, "acl", "public-read")),
    ("minio", "minio-bucket-private", minio_bucket_policy),
    ("minio", "minio-bucket-object-locked", set_input(MINIO_BUCKET, "objectLocking", False)),
    (
        "minio",
        "minio-bucket-object-locked",
        set_input(
            "minio:index/s3BucketVersioning:S3BucketVersioning", "versioningConfiguration", {"status": "Suspended"}
        ),
    ),
    (
        "minio",
        "minio-bucket-encrypted-with-kms",
        drop("minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption", "learning-images-encryption"),
    ),
    ("minio", "minio-lifecycle-follows-contract", minio_keep_unsure),
    ("minio", "minio-tier-policies-carry-guards", edit_policy(MINIO_POLICY, "city-amsterdam-policy", minio_drop_guard)),
    ("minio", "minio-tier-policies-carry-guards", edit_policy(MINIO_POLICY, "training-policy", minio_star)),
    (
        "minio",
        "minio-events-reach-the-receiver",
        set_input(MINIO_NOTIFICATION, "queues", [{"queueArn": "arn:minio:sqs::hooks:webhook", "events": []}]),
    ),
    (
        "minio",
        "minio-events-reach-the-receiver",
        set_input(
            MINIO_NOTIFICATION,
            "queues",
            [{"queueArn": "arn:minio:sqs::learning-images:postgresql", "events": ["s3:ObjectCreated:*"]}],
        ),
    ),
    ("spaces", "spaces-bucket-private", set_input(SPACES_BUCKET, "acl", "public-read")),
    ("spaces", "spaces-bucket-versioned", set_input(SPACES_BUCKET, "versioning", {"enabled": False})),
    ("spaces", "spaces-lifecycle-follows-contract", spaces_expire_by_age),
    ("spaces", "spaces-lifecycle-follows-contract", set_input(SPACES_BUCKET, "lifecycleRules", [])),
    (
        "spaces",
        "spaces-keys-bucket-scoped",
        set_input(
            "digitalocean:index/spacesKey:SpacesKey",
            "grants",
            [{"bucket": "", "permission": "fullaccess"}],
            "training-key",
        ),
    ),
    ("b2", "b2-bucket-locked", set_input(DYNAMIC, "lock_mode", "compliance", "learning-images")),
    ("b2", "b2-lifecycle-follows-contract", b2_hide_live_files),
    ("b2", "b2-keys-bucket-scoped", set_input(DYNAMIC, "capabilities", ["listFiles", "writeKeys"], "training-key")),
    ("b2", "b2-keys-bucket-scoped", set_input(DYNAMIC, "bucket_id", None, "upload-gateway-key")),
    ("b2", "b2-keys-bucket-scoped", set_input(DYNAMIC, "capabilities", ["readFiles", "writeFiles"], "receiver-key")),
    ("b2", "b2-events-reach-the-gateway", b2_rule(lambda r: r.update(eventTypes=["b2:ObjectCreated:*"]))),
    ("b2", "b2-events-reach-the-gateway", b2_rule(lambda r: r["targetConfiguration"].pop("hmacSha256SigningSecret"))),
    ("b2", "b2-events-reach-the-gateway", b2_rule(lambda r: r.update(objectNamePrefix="cities/"))),
    ("b2", "b2-gateway-queues-events-for-a-consumer", b2_gateway_without_events_binding),
    (
        "b2",
        "b2-gateway-queues-events-for-a-consumer",
        set_input(R2_CONSUMER, "deadLetterQueue", None, "registration-consumer"),
    ),
]


@pytest.mark.parametrize(
    ("stack", "rule", "mutation"), MUTATIONS, ids=[f"{s}:{r}:{m.__name__}" for s, r, m in MUTATIONS]
)
def test_a_contract_breaking_change_fires_exactly_its_rule(
    stacks: dict[str, Graph], stack: str, rule: str, mutation: Mutation
) -> None:
    resources = copy.deepcopy(stacks[stack].resources)
    mutation(resources)
    found = violations(resources, PROD_CONFIG if stack == "prod" else None)
    assert set(found) == {rule}, f"expected only {rule} to fire, got {json.dumps(found, indent=1)}"
    assert all("urn:pulumi:" in message for message in found[rule]), f"{rule}: violations must name the resource"


def test_every_rule_has_a_mutation_that_fires_it() -> None:
    assert {p.name for p in POLICIES} == {rule for _, rule, _ in MUTATIONS}


def test_values_unknown_during_preview_are_skipped_not_failed() -> None:
    policy = next(p for p in POLICIES if p.name == "kms-keys-rotate")
    assert isinstance(policy, ResourceValidationPolicy)
    props = unknown_checking_proxy({"enableKeyRotation": UNKNOWN_STRING_VALUE})
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    args = ResourceValidationArgs("aws:kms/key:Key", props, "urn:pulumi:x::y::aws:kms/key:Key::k", "k", OPTIONS, None)
    # The analyzer catches UnknownValueError and skips the policy for that resource.
    with pytest.raises(UnknownValueError):
        policy.validate(args, report)
    assert not reported, "an unknown value must not be reported as a violation"


def test_an_s3_star_grant_is_refused(stacks: dict[str, Graph]) -> None:
    resources = copy.deepcopy(stacks["dev"].resources)

    def star(document: dict[str, Any]) -> None:
        document["Statement"].append(
            {"Sid": "Everything", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::x"}
        )

    edit_policy("aws:iam/rolePolicy:RolePolicy", "training-role-policy", star)(resources)
    assert "iam-no-wildcard-s3-grants" in violations(resources)


def test_the_pack_folder_alone_passes_its_own_tests(tmp_path: Path) -> None:
    """As `pulumi policy publish` packs it: the folder copied alone, nothing of the project
    importable, its own tests run there."""
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    for source in pack.rglob("*.py"):
        text = source.read_text()
        assert not re.search(r"^\s*(from|import) learning_images\b", text, re.M), f"{source.name} imports the client"
        assert not re.search(r"^\s*(from|import) learning_images_infra\b", text, re.M), (
            f"{source.name} imports the program"
        )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-s", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "tests"],
        cwd=pack,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"the pack's tests failed in a copy of the folder alone:\n{result.stdout}{result.stderr}"
    )


def test_the_packs_catalogue_is_the_projects_contract() -> None:
    from learning_images_infra.docs import pack_catalogue_json  # noqa: PLC0415

    shipped = (ROOT / "policies" / "catalogue.json").read_text()
    assert shipped == pack_catalogue_json(), "policies/catalogue.json differs from the contract: run `make docs`"


def test_a_broken_guard_builder_fails_the_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutation: a builder that loses a guard (here the create-only one renamed) must fail the
    pack's check, which knows the guards from the catalogue, not from the builders."""
    from learning_images_infra.aws import guards  # noqa: PLC0415

    real = guards.deny_overwrite

    def renamed(bucket_arn: str) -> dict[str, Any]:
        return {**real(bucket_arn), "Sid": "SomethingElse"}

    monkeypatch.setattr(guards, "deny_overwrite", renamed)
    found = violations(render(stack_config("dev"), stack="dev").resources)
    messages = found.get("s3-learning-bucket-policy-guards", [])
    assert any(Sid.OVERWRITE in m for m in messages), f"the pack missed the lost guard: {found}"


def test_the_packs_readme_lists_every_policy_it_has() -> None:
    """policies/README.md listed 16 of the pack's 24 policies, none of the GCS ones."""
    from learning_images_infra.docs import pack_table  # noqa: PLC0415

    readme = (ROOT / "policies" / "README.md").read_text()
    assert pack_table() in readme, "policies/README.md's policy table differs from the pack: run `make docs`"
    assert all(f"`{policy.name}`" in readme for policy in POLICIES)
