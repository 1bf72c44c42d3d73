"""The baseline of every bucket: private, versioned, encrypted at rest, optionally locked, logged."""

from __future__ import annotations

import pytest

from tests.support.stack import Graph, for_bucket, render, statement

BUCKETS = ["learning-images", "learning-images-replica", "access-logs"]
KMS_BUCKETS = {"learning-images": "store-key", "learning-images-replica": "replica-key"}


@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_bucket_blocks_all_public_access(full: Graph, bucket: str) -> None:
    blocks = for_bucket(full, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    assert len(blocks) == 1, f"bucket {bucket}: no public access means exactly one public-access block"
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert blocks[0].get(flag) is True, f"{blocks[0].urn}: {flag} must be on (no public access)"


@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_bucket_disables_acls(full: Graph, bucket: str) -> None:
    (controls,) = for_bucket(full, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
    assert controls["rule"]["objectOwnership"] == "BucketOwnerEnforced", f"{controls.urn}: ACLs must be disabled"


@pytest.mark.parametrize("bucket", ["learning-images", "learning-images-replica"])
def test_image_buckets_are_versioned(full: Graph, bucket: str) -> None:
    (versioning,) = for_bucket(full, "aws:s3/bucketVersioning:BucketVersioning", bucket)
    assert versioning["versioningConfiguration"]["status"] == "Enabled", f"{versioning.urn}: versioning must be on"


@pytest.mark.parametrize(("bucket", "key"), KMS_BUCKETS.items())
def test_image_buckets_encrypt_with_their_customer_managed_key_and_bucket_key(
    full: Graph, bucket: str, key: str
) -> None:
    (encryption,) = for_bucket(
        full, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket
    )
    (rule,) = encryption["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    key_arn = full.outputs["kms_key_arn"] if key == "store-key" else full.outputs["replica"]["kms_key_arn"]
    assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}, (
        f"{encryption.urn}: default encryption must be SSE-KMS with the stack's own key {key}"
    )
    assert rule["bucketKeyEnabled"] is True, f"{encryption.urn}: the S3 Bucket Key must be on"


@pytest.mark.parametrize("bucket", BUCKETS)
def test_every_bucket_blocks_customer_provided_keys(full: Graph, bucket: str) -> None:
    (encryption,) = for_bucket(
        full, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket
    )
    assert encryption["rules"][0]["blockedEncryptionTypes"] == ["SSE-C"], (
        f"{encryption.urn}: SSE-C uploads must be blocked (they would bypass the store key)"
    )


@pytest.mark.parametrize("key", ["store-key", "replica-key"])
def test_store_keys_rotate(full: Graph, key: str) -> None:
    resource = full.one("aws:kms/key:Key", key)
    assert resource["enableKeyRotation"] is True, f"{resource.urn}: key rotation must be on"
    assert resource["deletionWindowInDays"] == 30, (
        f"{resource.urn}: a scheduled deletion must be cancellable for 30 days"
    )


def test_store_key_is_usable_only_through_s3_in_its_region(full: Graph) -> None:
    key = full.one("aws:kms/key:Key", "store-key")
    deny = statement(key, "DenyDataUseOutsideS3")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"StringNotEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}, (
        f"{key.urn}: the key must refuse data use that does not come through S3 in eu-west-1"
    )
    replica = full.one("aws:kms/key:Key", "replica-key")
    assert replica["region"] == "eu-central-1", f"{replica.urn}: the replica key lives in the replica region"
    assert statement(replica, "DenyDataUseOutsideS3")["Condition"]["StringNotEquals"]["kms:ViaService"] == (
        "s3.eu-central-1.amazonaws.com"
    )


def test_store_key_stays_administrable_by_the_account(full: Graph) -> None:
    key = full.one("aws:kms/key:Key", "store-key")
    admin = statement(key, "AccountAdministersKeyThroughIam")
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}, (
        f"{key.urn}: without the account statement the key becomes unmanageable"
    )


@pytest.mark.parametrize("bucket", ["learning-images", "learning-images-replica"])
def test_object_lock_applies_the_configured_default_retention(full: Graph, bucket: str) -> None:
    resource = full.one("aws:s3/bucket:Bucket", bucket)
    assert resource["objectLockEnabled"] is True, f"{resource.urn}: Object Lock must be enabled at creation"
    (lock,) = for_bucket(full, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", bucket)
    assert lock["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 30}, (
        f"{lock.urn}: default retention must be GOVERNANCE for unsureExpiryDays (30) days"
    )


def test_no_object_lock_without_a_mode(dev: Graph) -> None:
    assert not dev.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    bucket = dev.one("aws:s3/bucket:Bucket", "learning-images")
    assert not bucket.get("objectLockEnabled"), f"{bucket.urn}: no Object Lock unless objectLockMode is set"


def test_access_logs_go_to_a_separate_bucket_that_expires_them(full: Graph) -> None:
    (logging,) = full.of_type("aws:s3/bucketLogging:BucketLogging")
    assert logging["bucket"] == "learning-images" and logging["targetBucket"] == "access-logs", (
        f"{logging.urn}: the learning bucket logs into the access-logs bucket"
    )
    (lifecycle,) = for_bucket(full, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "access-logs")
    assert lifecycle["rules"][0]["expiration"] == {"days": 90}, f"{lifecycle.urn}: access logs expire after 90 days"


def test_access_log_bucket_uses_sse_s3(full: Graph) -> None:
    (encryption,) = for_bucket(
        full, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "access-logs"
    )
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}, (
        f"{encryption.urn}: S3 server access logging cannot deliver into an SSE-KMS bucket"
    )


def test_log_delivery_is_scoped_to_the_source_bucket_and_account(full: Graph) -> None:
    (policy,) = [p for p in full.of_type("aws:s3/bucketPolicy:BucketPolicy") if p["bucket"] == "access-logs"]
    allow = statement(policy, "AllowS3LogDelivery")
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::learning-images"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }, f"{policy.urn}: log delivery must be limited to this bucket and account (confused deputy)"


def test_no_access_log_bucket_when_logging_is_off(dev: Graph) -> None:
    assert not dev.of_type("aws:s3/bucketLogging:BucketLogging")
    assert "access-logs" not in [b.name for b in dev.of_type("aws:s3/bucket:Bucket")]


def test_prod_protects_buckets_and_keys(prod: Graph) -> None:
    for resource in [*prod.of_type("aws:s3/bucket:Bucket"), *prod.of_type("aws:kms/key:Key")]:
        assert resource.name in prod.protected, f"{resource.urn}: prod buckets and keys must be `protect`ed"
        if resource.type == "aws:s3/bucket:Bucket":
            assert not resource.get("forceDestroy"), f"{resource.urn}: prod must refuse to destroy a non-empty bucket"


def test_dev_can_be_destroyed_with_its_objects(dev: Graph) -> None:
    assert not dev.protected, f"dev protects {sorted(dev.protected)}: dev must be destroyable"
    for bucket in dev.of_type("aws:s3/bucket:Bucket"):
        assert bucket["forceDestroy"] is True, f"{bucket.urn}: dev buckets may be destroyed with their objects"


@pytest.mark.parametrize(
    ("policy", "block"),
    [
        ("learning-images-policy", "learning-images-public-access-block"),
        ("learning-images-replica-policy", "learning-images-replica-public-access-block"),
        ("access-logs-policy", "access-logs-public-access-block"),
    ],
)
def test_bucket_policies_wait_for_the_public_access_block(full: Graph, policy: str, block: str) -> None:
    # S3 refuses a policy change while the bucket's public-access block is being applied.
    assert block in full.depends_on.get(policy, set()), f"{full.named(policy).urn}: must depend on {block}"


def test_tags_reach_every_taggable_resource() -> None:
    graph = render(
        {"aws:region": "eu-west-1", "learning-images:replication": "false", "learning-images:tags": '{"team": "cc"}'}
    )
    taggable = [r for r in graph if "tags" in r.inputs]
    assert taggable, "expected taggable resources"
    for resource in taggable:
        assert resource["tags"].get("team") == "cc", (
            f"{resource.urn}: configured tags must reach every taggable resource"
        )
        assert resource["tags"].get("managed-by") == "pulumi"


def test_access_log_bucket_is_versioned_and_expires_old_versions(full: Graph) -> None:
    (versioning,) = for_bucket(full, "aws:s3/bucketVersioning:BucketVersioning", "access-logs")
    assert versioning["versioningConfiguration"]["status"] == "Enabled", f"{versioning.urn}: every bucket is versioned"
    (lifecycle,) = for_bucket(full, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "access-logs")
    assert lifecycle["rules"][0]["noncurrentVersionExpiration"] == {"noncurrentDays": 1}, lifecycle.urn
