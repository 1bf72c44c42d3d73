"""The pack judges resources whatever program made them: a hand-written graph, no project code.

Runs inside the pack folder alone (``python -m pytest tests`` there, as ``pulumi policy publish``
would pack it; ``-m`` puts the folder on ``sys.path``): only the pack's own modules and its
requirements are needed.
"""

from __future__ import annotations

import json

from contract_policies import CATALOGUE, POLICIES  # type: ignore[import-not-found]  # the pack folder
from harness import Given, violations  # type: ignore[import-not-found]  # the pack folder

BUCKET = "aws:s3/bucket:Bucket"


def fired(resources: list[Given], config: dict[str, dict[str, object]] | None = None) -> set[str]:
    return set(violations(POLICIES, resources, config))


def test_a_key_that_does_not_rotate_is_refused() -> None:
    assert "kms-keys-rotate" in fired([Given("aws:kms/key:Key", "k", {"enableKeyRotation": False})])
    assert "kms-keys-rotate" not in fired([Given("aws:kms/key:Key", "k", {"enableKeyRotation": True})])


def test_a_bucket_without_a_public_access_block_is_refused() -> None:
    assert "s3-every-bucket-has-public-access-block" in fired([Given(BUCKET, "images", {})])


def test_a_public_access_block_with_a_gap_is_refused() -> None:
    block = {
        "blockPublicAcls": True,
        "blockPublicPolicy": False,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    pab = Given("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", block, {"bucket": ["images"]})
    assert "s3-public-access-block-complete" in fired([Given(BUCKET, "images", {}), pab])


def test_a_learning_bucket_policy_without_the_contract_guards_is_refused() -> None:
    label = CATALOGUE["label_status_field"]
    rules = [
        {"id": "l", "status": "Enabled", "filter": {"tag": {"key": label, "value": "changed"}}},
    ]
    lifecycle = Given(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "lc",
        {"rules": rules},
        {"bucket": ["images"]},
    )
    weak = {"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny"}]}
    policy = Given("aws:s3/bucketPolicy:BucketPolicy", "bp", {"policy": json.dumps(weak)}, {"bucket": ["images"]})
    assert "s3-learning-bucket-policy-guards" in fired([Given(BUCKET, "images", {}), lifecycle, policy])


def test_unsure_objects_kept_beyond_the_contract_are_refused() -> None:
    label = CATALOGUE["label_status_field"]
    too_long = CATALOGUE["periods"]["unsure_expiry_days"] + 60
    rules = [{"id": "u", "filter": {"tag": {"key": label, "value": "unsure"}}, "expiration": {"days": too_long}}]
    given = Given("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lc", {"rules": rules})
    assert "s3-lifecycle-follows-contract" in fired([given])


def test_a_public_r2_domain_is_refused() -> None:
    domain = Given("cloudflare:index/r2ManagedDomain:R2ManagedDomain", "d", {"enabled": True})
    assert "r2-no-public-domain" in fired([domain])


def test_an_s3_star_grant_is_refused() -> None:
    grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    policy = Given("aws:iam/rolePolicy:RolePolicy", "rp", {"policy": json.dumps(grant), "role": "r"})
    assert "iam-no-wildcard-s3-grants" in fired([policy])


def test_replication_required_by_configuration_is_enforced() -> None:
    bucket = Given(BUCKET, "images", {})
    assert "s3-replication-where-required" in fired([bucket], {"s3-replication-where-required": {"required": True}})
    assert "s3-replication-where-required" not in fired([bucket])


def test_a_minio_bucket_without_object_lock_or_versioning_is_refused() -> None:
    bucket = Given("minio:index/s3Bucket:S3Bucket", "images", {"acl": "private", "objectLocking": False})
    assert "minio-bucket-object-locked" in fired([bucket])
    locked = Given("minio:index/s3Bucket:S3Bucket", "images", {"acl": "private", "objectLocking": True})
    versioning = Given(
        "minio:index/s3BucketVersioning:S3BucketVersioning",
        "v",
        {"versioningConfiguration": {"status": "Enabled"}},
        {"bucket": ["images"]},
    )
    assert "minio-bucket-object-locked" not in fired([locked, versioning])


def test_a_spaces_key_with_full_access_is_refused() -> None:
    key = Given("digitalocean:index/spacesKey:SpacesKey", "k", {"grants": [{"bucket": "", "permission": "fullaccess"}]})
    assert "spaces-keys-bucket-scoped" in fired([key])
    scoped = Given("digitalocean:index/spacesKey:SpacesKey", "k", {"grants": [{"bucket": "b", "permission": "read"}]})
    assert "spaces-keys-bucket-scoped" not in fired([scoped])


def test_a_b2_key_of_no_tier_or_no_bucket_is_refused() -> None:
    dynamic = "pulumi-python:dynamic:Resource"
    admin = Given(dynamic, "k", {"key_name": "k", "bucket_id": "b", "capabilities": ["writeKeys"]})
    unscoped = Given(dynamic, "u", {"key_name": "u", "capabilities": ["listFiles", "readFiles"]})
    assert "b2-keys-bucket-scoped" in fired([admin]) and "b2-keys-bucket-scoped" in fired([unscoped])
    training = Given(dynamic, "t", {"key_name": "t", "bucket_id": "b", "capabilities": ["listFiles", "readFiles"]})
    assert "b2-keys-bucket-scoped" not in fired([training])
