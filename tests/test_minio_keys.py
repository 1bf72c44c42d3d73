"""Which of the AWS store's guards MinIO would take, by MinIO's own tables of condition keys and
S3 actions (``learning_images.minio``, generated from minio/pkg): the evidence the minio column
stands on.

MinIO refuses a whole policy when one statement names a key it does not know, a key its action
does not take, or an action it does not support, so a guard ported as it is can stop the bucket's
policy from applying at all.
"""

from __future__ import annotations

import pytest

from learning_images import minio
from learning_images.rules.model import Sid
from tests.support.stack import Graph, bucket_policy_for, statements

#: The guards whose conditions name keys MinIO does not have, and the keys. What covers each on a
#: MinIO store (docs/s3-compatible.md): create-only and multipart by Object Lock's versions and the
#: gateway; TLS version by the server's own TLS settings; the principal guards by per-tier user
#: policies (MinIO's model: a user's or group's policy, not a bucket Deny naming principals).
NOT_ON_MINIO = {
    Sid.OUTDATED_TLS: {"s3:TlsVersion"},
    Sid.OVERWRITE: {"s3:if-none-match"},
    Sid.CONDITIONAL_OVERWRITE: {"s3:if-match"},
    Sid.MULTIPART: {"s3:ObjectCreationOperation"},
    Sid.DELETE: {"aws:PrincipalArn"},
    Sid.UPLOAD_AS_OTHER_CITY: {"aws:PrincipalArn"},
    Sid.CITY_WITHOUT_CITY_TAG: {"aws:PrincipalArn", "aws:PrincipalTag"},
    Sid.CITY_TIER: {"aws:PrincipalArn"},
    Sid.TRAINING_TIER: {"aws:PrincipalArn"},
    Sid.COMMAND_CENTRE_TIER: {"aws:PrincipalArn"},
    Sid.CONFIGURATION_CHANGE: {"aws:PrincipalArn"},
}
#: The guards naming S3 actions MinIO does not support: MinIO has no ACLs (nothing to cover).
ACTIONS_NOT_ON_MINIO = {Sid.ACL: {"s3:PutObjectAcl", "s3:PutObjectVersionAcl"}}


def test_minio_refuses_existing_object_tag_on_put_object() -> None:
    """The plan's claim, from MinIO's table: PutObject takes request tags, not the stored object's."""
    refused = minio.refused_keys(
        {"Action": "s3:PutObject", "Condition": {"StringEquals": {"s3:ExistingObjectTag/label_status": "correct"}}}
    )
    assert refused == {"s3:PutObject": ["s3:ExistingObjectTag"]}, f"{minio.source()}: {refused}"


def test_a_tag_key_is_taken_with_its_qualifier_and_a_wildcard_action_takes_every_key() -> None:
    tagged = {"Action": "s3:PutObject", "Condition": {"Null": {"s3:RequestObjectTag/city_id": "true"}}}
    assert minio.refused_keys(tagged) == {}, f"{minio.source()}: s3:RequestObjectTag/<tag> is a PutObject key"
    everything = {"Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert minio.refused_keys(everything) == {}, f"{minio.source()}: aws:SecureTransport on s3:*"


def test_an_action_minio_does_not_support_is_refused_and_a_wildcard_that_matches_one_is_not() -> None:
    assert minio.unsupported_actions({"Action": ["s3:PutObjectAcl", "s3:Put*"]}) == ["s3:PutObjectAcl"], (
        f"{minio.source()}: MinIO has no object ACLs; s3:Put* matches actions it has"
    )


def test_a_key_minio_does_not_know_is_refused_whatever_the_action() -> None:
    unknown = {"Action": "s3:*", "Condition": {"Null": {"s3:if-none-match": "true"}}}
    assert minio.refused_keys(unknown) == {"s3:*": ["s3:if-none-match"]}, (
        f"{minio.source()}: MinIO has no s3:if-none-match key, so no policy can require create-only uploads"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_aws_guards_minio_would_refuse_are_exactly_those_naming_keys_or_actions_it_lacks(
    stack: str, request: pytest.FixtureRequest
) -> None:
    graph: Graph = request.getfixturevalue(stack)
    bucket = graph.outputs["bucket_name"]
    refused, unsupported, present = {}, {}, set()
    for statement in statements(bucket_policy_for(graph, bucket)):
        present.add(statement["Sid"])
        if found := minio.refused_keys(statement):
            refused[statement["Sid"]] = {key for keys in found.values() for key in keys}
        if actions := minio.unsupported_actions(statement):
            unsupported[statement["Sid"]] = set(actions)
    assert unsupported == {sid: a for sid, a in ACTIONS_NOT_ON_MINIO.items() if sid in present}, (
        f"{bucket}'s policy: the guards naming actions MinIO lacks changed ({minio.source()})"
    )
    assert refused == {sid: keys for sid, keys in NOT_ON_MINIO.items() if sid in present}, (
        f"{bucket}'s policy: the guards MinIO would refuse for their keys changed; every other guard (the "
        f"contract's tags, encryption headers, lock headers, copy, TLS) ports to MinIO as it is ({minio.source()})"
    )
