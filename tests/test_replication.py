"""Disaster recovery: a replica in another region, encrypted with its own key, written only by S3."""

from __future__ import annotations

from tests.support.stack import Graph, as_list, bucket_policy_for, statement, statements

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
REPLICA_ARN = "arn:aws:s3:::learning-images-replica"
SOURCE_ARN = "arn:aws:s3:::learning-images"


def test_replica_bucket_and_key_live_in_the_replica_region(full: Graph) -> None:
    for name in ("learning-images-replica", "replica-key"):
        resource = full.named(name)
        assert resource["region"] == "eu-central-1", f"{resource.urn}: must be in replicaRegion (eu-central-1)"
    for resource in full:
        on_replica = resource.name == "learning-images-replica" or resource.name.startswith("learning-images-replica-")
        if on_replica and resource.type.startswith("aws:s3/"):
            assert resource.get("region") == "eu-central-1", (
                f"{resource.urn}: replica configuration in the replica region"
            )


def test_replication_copies_every_kms_encrypted_object_with_the_replica_key(full: Graph) -> None:
    (config,) = full.of_type(REPLICATION)
    (rule,) = config["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {}, f"{config.urn}: every object is replicated"
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}, (
        f"{config.urn}: SSE-KMS objects are only replicated when selected explicitly"
    )
    destination = rule["destination"]
    assert destination["bucket"] == REPLICA_ARN
    assert destination["encryptionConfiguration"] == {"replicaKmsKeyId": full.outputs["replica"]["kms_key_arn"]}


def test_delete_markers_are_not_replicated(full: Graph) -> None:
    (config,) = full.of_type(REPLICATION)
    assert config["rules"][0]["deleteMarkerReplication"] == {"status": "Disabled"}, (
        f"{config.urn}: a deletion in the primary must not reach the DR copy"
    )


def test_replication_waits_for_versioning_and_its_role_policy(full: Graph) -> None:
    (config,) = full.of_type(REPLICATION)
    needed = {"learning-images-versioning", "learning-images-replica-versioning", "replication-role-policy"}
    assert needed <= full.depends_on[config.name], f"{config.urn}: depends on {full.depends_on[config.name]}"


def test_replica_is_writable_only_by_the_replication_role(full: Graph) -> None:
    deny = statement(bucket_policy_for(full, "learning-images-replica"), "DenyWriteExceptReplication")
    assert set(deny["Action"]) >= {"s3:PutObject", "s3:ReplicateObject", "s3:ReplicateTags"}
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": full.outputs["replica"]["replication_role_arn"]}}


def test_replica_keeps_tags_immutable_and_deletes_to_the_command_centre(full: Graph) -> None:
    policy = bucket_policy_for(full, "learning-images-replica")
    assert statement(policy, "DenyTagRewrite")["Resource"] == f"{REPLICA_ARN}/*"
    delete = statement(policy, "DenyDeleteExceptCommandCentre")
    assert delete["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": full.outputs["command_centre_role_arn"]}}


def test_replication_role_is_trusted_only_by_s3_for_this_bucket(full: Graph) -> None:
    role = full.one("aws:iam/role:Role", "replication-role")
    (trust,) = statements(role, "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": SOURCE_ARN},
    }, f"{role.urn}: confused-deputy guard"


def test_replication_role_is_least_privilege(full: Graph) -> None:
    policy = full.one("aws:iam/rolePolicy:RolePolicy", "replication-role-policy")
    actions = {a for s in statements(policy) for a in as_list(s["Action"])}
    assert "s3:ReplicateDelete" not in actions, "delete markers are not replicated, so no ReplicateDelete"
    assert {"s3:GetObjectRetention", "s3:GetObjectLegalHold"} <= actions, "Object Lock retention must replicate"
    decrypt = statement(policy, "DecryptSourceThroughS3")
    assert decrypt["Resource"] == full.outputs["kms_key_arn"]
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    encrypt = statement(policy, "EncryptReplicasThroughS3")
    assert encrypt["Resource"] == full.outputs["replica"]["kms_key_arn"]
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}


def test_no_replica_when_replication_is_off(dev: Graph) -> None:
    assert not dev.of_type(REPLICATION)
    assert [b.name for b in dev.of_type("aws:s3/bucket:Bucket")] == ["learning-images"]
    assert dev.outputs["replica"] is None
