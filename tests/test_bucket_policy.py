"""The learning bucket's policy: every contract guard, each a Deny with a stable Sid.

These tests read the rendered policy. What they cannot show is how IAM evaluates it; the
verification script probes a deployed stack for that.
"""

from __future__ import annotations

from typing import Any

import pytest

from learning_images import contract
from learning_images.rules import Sid
from tests.support.stack import Graph, bucket_policy_for, statement, statements

BUCKET_ARN = "arn:aws:s3:::learning-images"
OBJECTS_ARN = f"{BUCKET_ARN}/*"
CITY_PATTERN = "arn:aws:iam::123456789012:user/learning-images/test/city/*"
CC_ROLE = "arn:aws:iam::123456789012:role/learning-images/test/command-centre-role"
TRAINING_ROLE = "arn:aws:iam::123456789012:role/learning-images/test/training-role"


def guard(graph: Graph, sid: str) -> dict[str, Any]:
    found = statement(bucket_policy_for(graph, "learning-images"), sid)
    assert found["Effect"] == "Deny", f"{sid}: a guard must be a Deny, so no identity policy can override it"
    assert found["Principal"] == "*", f"{sid}: a guard applies to every principal"
    return found


@pytest.mark.parametrize("bucket", ["learning-images", "learning-images-replica", "access-logs"])
def test_each_bucket_has_exactly_one_bucket_policy(full: Graph, bucket: str) -> None:
    bucket_policy_for(full, bucket)


@pytest.mark.parametrize("bucket", ["learning-images", "learning-images-replica", "access-logs"])
def test_requests_without_tls_are_denied(full: Graph, bucket: str) -> None:
    deny = statement(bucket_policy_for(full, bucket), Sid.INSECURE_TRANSPORT)
    arn = f"arn:aws:s3:::{bucket}"
    assert deny["Action"] == "s3:*" and deny["Resource"] == [arn, f"{arn}/*"], f"{bucket}: TLS guard covers everything"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("bucket", ["learning-images", "learning-images-replica", "access-logs"])
def test_tls_below_1_2_is_denied(full: Graph, bucket: str) -> None:
    deny = statement(bucket_policy_for(full, bucket), Sid.OUTDATED_TLS)
    assert deny["Action"] == "s3:*"
    assert deny["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}, f"{bucket}: TLS 1.2 is the floor"


def test_upload_without_if_none_match_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.OVERWRITE)
    assert deny["Action"] == "s3:PutObject" and deny["Resource"] == OBJECTS_ARN
    # A negated operator matches a missing key too, so a PUT without the header or with an
    # ETag in it is refused alike (proven under IAM semantics in test_iam_semantics.py).
    assert deny["Condition"] == {"StringNotEquals": {"s3:if-none-match": "*"}}, (
        "objects are immutable: every s3:PutObject must carry If-None-Match: *"
    )


def test_multipart_upload_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.MULTIPART)
    assert deny["Condition"] == {"Bool": {"s3:ObjectCreationOperation": "false"}}, (
        "UploadPart carries no tags, so the metadata guards only hold for single-request uploads"
    )


@pytest.mark.parametrize("field", contract.METADATA_FIELDS)
def test_upload_missing_or_blank_metadata_tag_is_denied(full: Graph, field: str) -> None:
    deny = guard(full, Sid.missing_tag(field))
    assert deny["Action"] == "s3:PutObject" and deny["Resource"] == OBJECTS_ARN
    assert deny["Condition"] == {"StringNotLike": {f"s3:RequestObjectTag/{field}": "?*"}}, (
        f"an upload without a {field} value (missing or blank) must be refused: lifecycle and policies only see tags"
    )


def test_upload_with_a_tag_outside_the_contract_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.UNKNOWN_TAG)
    assert deny["Condition"] == {
        "ForAnyValue:StringNotEquals": {"s3:RequestObjectTagKeys": list(contract.METADATA_FIELDS)}
    }


def test_upload_with_an_excluded_label_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.EXCLUDED_LABEL)
    allowed = deny["Condition"]["StringNotEquals"]["s3:RequestObjectTag/label_status"]
    assert sorted(allowed) == ["changed", "correct"], (
        f"only correct and changed may be uploaded, policy allows {allowed}"
    )
    assert "unsure" not in allowed


def test_upload_key_must_be_a_flat_uuid_jpg(full: Graph) -> None:
    shape = guard(full, Sid.KEY_NOT_UUID_JPG)
    assert shape["Action"] == "s3:PutObject"
    assert shape["NotResource"] == f"{BUCKET_ARN}/????????-????-????-????-????????????.jpg", (
        "any key but <8-4-4-4-12>.jpg must be refused"
    )
    folders = guard(full, Sid.KEY_WITH_SLASH)
    assert folders["Resource"] == f"{BUCKET_ARN}/*/*", "a key with '/' (a city folder) must be refused"


def test_upload_with_wrong_encryption_header_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.WRONG_ENCRYPTION)
    # Only a present header is judged: an upload without one gets the bucket's default (the store key).
    assert deny["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": "false"},
        "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
    }


def test_upload_with_another_kms_key_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.OTHER_KMS_KEY)
    header = "s3:x-amz-server-side-encryption-aws-kms-key-id"
    assert deny["Condition"] == {
        "Null": {header: "false"},
        "StringNotEquals": {header: full.outputs["kms_key_arn"]},
    }


def test_upload_with_customer_provided_key_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.CUSTOMER_KEY)
    assert deny["Condition"] == {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}


def test_tag_rewrite_is_denied_to_everyone(full: Graph) -> None:
    deny = guard(full, Sid.TAG_REWRITE)
    assert sorted(deny["Action"]) == sorted(
        ["s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"]
    )
    assert "Condition" not in deny, "labels are immutable for everyone: a correction is a new object"
    # s3:PutObjectTagging is also how S3 authorises the tags of a new upload: refused only on a
    # stored object, which always carries its label.
    retag = guard(full, Sid.RETAG_STORED_OBJECT)
    assert retag["Action"] == "s3:PutObjectTagging"
    assert retag["Condition"] == {"Null": {"s3:ExistingObjectTag/label_status": "false"}}


def test_delete_is_denied_to_all_but_the_command_centre(full: Graph) -> None:
    deny = guard(full, Sid.DELETE)
    assert set(deny["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"}
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": CC_ROLE}}


def test_upload_as_another_city_is_denied(full: Graph) -> None:
    deny = guard(full, Sid.UPLOAD_AS_OTHER_CITY)
    assert deny["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": CITY_PATTERN},
        "StringNotEquals": {"s3:RequestObjectTag/city_id": "${aws:PrincipalTag/city_id}"},
    }


@pytest.mark.parametrize(
    ("sid", "tier", "condition"),
    [
        (Sid.CITY_TIER, contract.CITY, {"ArnLike": {"aws:PrincipalArn": CITY_PATTERN}}),
        (Sid.TRAINING_TIER, contract.TRAINING, {"ArnEquals": {"aws:PrincipalArn": TRAINING_ROLE}}),
        (Sid.COMMAND_CENTRE_TIER, contract.COMMAND_CENTRE, {"ArnEquals": {"aws:PrincipalArn": CC_ROLE}}),
    ],
)
def test_each_tier_is_denied_everything_beyond_its_operations(
    full: Graph, sid: str, tier: contract.Tier, condition: dict[str, Any]
) -> None:
    deny = guard(full, sid)
    assert sorted(deny["NotAction"]) == sorted(tier.s3_actions), f"{sid}: spares exactly the {tier.name} operations"
    assert deny["Resource"] == [BUCKET_ARN, OBJECTS_ARN]
    assert deny["Condition"] == condition


def test_guard_sids_are_stable(full: Graph) -> None:
    """Literal strings on purpose: a renamed Sid breaks the policy pack, the verifier and anyone's
    dashboards that look guards up by it, so changing one must change this test too."""
    sids = [s["Sid"] for s in statements(bucket_policy_for(full, "learning-images"))]
    expected = [
        "DenyInsecureTransport",
        "DenyOutdatedTls",
        "DenyUploadWithoutIfNoneMatch",
        "DenyUploadWithIfMatch",
        "DenyMultipartUpload",
        "DenyCopyIntoBucket",
        "DenyKeyNotUuidJpg",
        "DenyKeyWithSlash",
        "DenyUploadWithoutCityIdTag",
        "DenyUploadWithoutCameraIdTag",
        "DenyUploadWithoutEventIdTag",
        "DenyUploadWithoutLabelStatusTag",
        "DenyUploadWithoutUploadedAtTag",
        "DenyUploadWithUnknownTag",
        "DenyUploadWithExcludedLabel",
        "DenyUploadWithWrongEncryption",
        "DenyUploadWithOtherKmsKey",
        "DenyUploadWithAwsManagedKey",
        "DenyUploadWithCustomerKey",
        "DenyUploadWithStorageClass",
        "DenyObjectAcl",
        "DenyObjectLockChange",
        "DenyUploadWithObjectLockMode",
        "DenyUploadWithObjectLockRetainUntilDate",
        "DenyUploadWithObjectLockLegalHold",
        "DenyTagRewrite",
        "DenyRetagOfStoredObject",
        "DenyDeleteExceptCommandCentre",
        "DenyUploadAsAnotherCity",
        "DenyCityWithoutCityTag",
        "DenyCityTierBeyondUpload",
        "DenyTrainingTierBeyondRead",
        "DenyCommandCentreTierBeyondItsOperations",
    ]
    assert sids == expected, "the policy pack and the verification script look guards up by these Sids"


def test_configuration_guard_spares_only_the_administrators_and_the_root(prod: Graph) -> None:
    deny = statement(bucket_policy_for(prod, "learning-images"), Sid.CONFIGURATION_CHANGE)
    patterns = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert patterns == [
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:role/learning-images-deploy",
        "arn:aws:iam::123456789012:role/learning-images-break-glass",
    ], "prod: the CI deploy role and the break-glass role by ARN, and the account root can always recover"


def test_bucket_policy_allows_nothing(full: Graph) -> None:
    allows = [s["Sid"] for s in statements(bucket_policy_for(full, "learning-images")) if s["Effect"] != "Deny"]
    assert not allows, f"the learning bucket's policy only denies; grants live on identities: {allows}"


def test_upload_asking_for_sse_kms_without_the_store_key_is_denied(full: Graph) -> None:
    # SSE-KMS without a key id means the AWS managed key aws/s3, outside the store's key policy.
    deny = guard(full, Sid.AWS_MANAGED_KEY)
    assert deny["Condition"] == {
        "Null": {
            "s3:x-amz-server-side-encryption": "false",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
        }
    }


def test_upload_with_if_match_is_denied(full: Graph) -> None:
    # If-Match is a conditional overwrite of a stored object.
    assert guard(full, Sid.CONDITIONAL_OVERWRITE)["Condition"] == {"Null": {"s3:if-match": "false"}}


def test_upload_choosing_its_storage_class_is_denied(full: Graph) -> None:
    # Archiving is the lifecycle's: an upload straight into GLACIER would be unreadable for training.
    assert guard(full, Sid.STORAGE_CLASS)["Condition"] == {"Null": {"s3:x-amz-storage-class": "false"}}
