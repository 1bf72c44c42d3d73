"""The S3 authorisation table (learning_images.sandbox.s3_authorization) in step with botocore's service model.

The S3 API Reference's "Permissions" paragraph of each operation names the IAM actions S3 checks;
botocore's model carries the same sentences. Every action named there must be in the table for
that operation, unless listed in NOT_AUTHORISING with the reason the sentence names it.
"""

from __future__ import annotations

import re

import botocore.session
import pytest

from learning_images.sandbox.s3_authorization import AUTHORIZATION, HttpRequest, checks, operation_of
from tests.support.iam_scenarios import capture, capturing_client

#: Actions a Permissions paragraph names that are not checked for the operation itself.
NOT_AUTHORISING = {
    ("CreateBucket", "s3:PutBucketPublicAccessBlock"): "names how to change the default block later",
    (
        "CreateBucket",
        "s3:PutBucketVersioning",
    ): "needed with Object Lock, which also needs PutBucketObjectLockConfiguration",
    ("GetObject", "s3:ListBucket"): "only decides 404 or 403 for a missing key",
    ("HeadObject", "s3:ListBucket"): "only decides 404 or 403 for a missing key",
    ("GetObjectAttributes", "s3:ListBucket"): "only decides 404 or 403 for a missing key",
    ("GetObjectAttributes", "s3:GetObject"): "named as a prerequisite of reading attributes, not checked by it",
    ("GetObjectAttributes", "s3:GetObjectVersion"): "named as a prerequisite of reading attributes, not checked by it",
    ("PutBucketLifecycleConfiguration", "s3:DeleteObject"): "names what to deny besides lifecycle to block deletion",
    ("PutBucketLifecycleConfiguration", "s3:DeleteObjectVersion"): "names what to deny besides lifecycle",
    ("CopyObject", "s3:GetObject"): "checked on the copy source (table: reads_copy_source)",
    ("UploadPartCopy", "s3:GetObject"): "checked on the copy source (table: reads_copy_source)",
}


def documented_actions(operation: str) -> set[str]:
    """The s3: actions the general-purpose-bucket Permissions paragraph of ``operation`` names."""
    model = botocore.session.get_session().get_service_model("s3")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", model.operation_model(operation).documentation))
    start = text.find("Permissions")
    if start < 0:
        return set()
    section = text[start:]
    for end_marker in ("Directory bucket permissions", "HTTP Host header syntax"):
        if (end := section.find(end_marker, 1)) > 0:
            section = section[:end]
    return set(re.findall(r"\bs3:[A-Za-z]+\b", section))


def table_actions(operation: str) -> set[str]:
    rule = AUTHORIZATION[operation]
    found = {rule.action, *rule.when_header.values()}
    if rule.version_action:
        found.add(rule.version_action)
    return found


@pytest.mark.parametrize("operation", sorted(AUTHORIZATION))
def test_every_action_the_s3_api_reference_names_is_in_the_table(operation: str) -> None:
    documented = documented_actions(operation)
    missing = {a for a in documented - table_actions(operation) if (operation, a) not in NOT_AUTHORISING}
    assert not missing, (
        f"{operation}: botocore's Permissions paragraph names {sorted(missing)}, which the table "
        "(scripts/s3_authorization.AUTHORIZATION) does not check: add them, or list why in NOT_AUTHORISING"
    )


@pytest.mark.parametrize(("operation", "action"), sorted(NOT_AUTHORISING))
def test_every_exception_is_still_named_by_the_reference(operation: str, action: str) -> None:
    assert action in documented_actions(operation), (
        f"{operation} no longer names {action}: remove it from NOT_AUTHORISING ({NOT_AUTHORISING[operation, action]})"
    )


def test_a_tagged_upload_is_checked_as_put_object_and_put_object_tagging() -> None:
    s3 = capturing_client("eu-west-1")
    request = capture(lambda: s3.put_object(Bucket="b", Key="k.jpg", Body=b"x", Tagging="a=b", IfNoneMatch="*"))
    assert [c.action for c in checks(request, account="123456789012")] == ["s3:PutObject", "s3:PutObjectTagging"]


def test_a_get_with_a_version_id_is_checked_as_get_object_version_only() -> None:
    s3 = capturing_client("eu-west-1")
    request = capture(lambda: s3.get_object(Bucket="b", Key="k.jpg", VersionId="v1"))
    assert [c.action for c in checks(request, account="123456789012")] == ["s3:GetObjectVersion"]


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda s3: s3.put_object(Bucket="b", Key="k", Body=b"x"), "PutObject"),
        (lambda s3: s3.copy_object(Bucket="b", Key="k", CopySource="b/j"), "CopyObject"),
        (lambda s3: s3.upload_part(Bucket="b", Key="k", UploadId="u", PartNumber=1, Body=b"x"), "UploadPart"),
        (lambda s3: s3.create_multipart_upload(Bucket="b", Key="k"), "CreateMultipartUpload"),
        (lambda s3: s3.delete_object(Bucket="b", Key="k"), "DeleteObject"),
        (lambda s3: s3.list_object_versions(Bucket="b"), "ListObjectVersions"),
        (lambda s3: s3.list_objects_v2(Bucket="b"), "ListObjectsV2"),
        (lambda s3: s3.put_object_tagging(Bucket="b", Key="k", Tagging={"TagSet": []}), "PutObjectTagging"),
        (lambda s3: s3.get_bucket_policy(Bucket="b"), "GetBucketPolicy"),
    ],
)
def test_the_operation_is_recognised_from_the_http_request(call: object, operation: str) -> None:
    s3 = capturing_client("eu-west-1")
    request = capture(lambda: call(s3))  # type: ignore[operator]
    assert operation_of(request) == operation


def test_virtual_hosted_and_path_style_requests_name_the_same_object() -> None:
    virtual = HttpRequest.from_url("GET", "https://b.s3.eu-west-1.amazonaws.com/k.jpg", {})
    path = HttpRequest.from_url("GET", "https://s3.eu-west-1.amazonaws.com/b/k.jpg", {})
    assert (virtual.bucket, virtual.key) == (path.bucket, path.key) == ("b", "k.jpg")
