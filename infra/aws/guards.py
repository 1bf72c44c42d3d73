"""Bucket-policy guards: one function per contract rule, each a Deny with a stable Sid.

A Deny in the bucket policy holds whatever identity policy a principal has, so these are what
make the contract a property of the bucket rather than of well-behaved clients. All guards are
on; they are merged into exactly one bucket policy per bucket (:func:`learning_bucket_policy`,
:func:`replica_bucket_policy`, :func:`log_bucket_policy`). Pure functions, no Pulumi imports:
the policy pack and the verification script check for the same Sids.

Why multipart uploads are denied: tags and ``If-None-Match`` travel on ``PutObject`` and
``CompleteMultipartUpload``, but ``UploadPart`` carries neither and ``CompleteMultipartUpload``
carries no tags, so IAM cannot tell a tag-less completion from a tag-less single upload. The
metadata guards therefore only hold if every upload is one ``PutObject`` (up to 5 GiB, three
orders of magnitude above a camera JPEG).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra import contract
from infra.aws.iam import Document, Statement, document, flat_keys_arn, objects_arn

#: Every S3 action that changes an object's tags after upload. Labels are immutable: a
#: correction is a new object (contract, "Corrections/updates create new objects").
TAG_REWRITE_ACTIONS = (
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
)
#: Actions that remove data or loosen its protection; only the Command Centre may (GDPR).
DELETE_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention")
#: IAM reads condition values as strings and parses them for Numeric operators, so "1.2" is the
#: number 1.2 (IAM User Guide, "Numeric condition operators"). A JSON number would do the same
#: for AWS but breaks parliament, whose linter the tests run over every policy.
MINIMUM_TLS_VERSION = "1.2"
#: Actions by which S3 replication writes into the replica.
REPLICATION_WRITE_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateTags", "s3:ReplicateDelete")


class Sid:
    """Stable statement ids: the policy pack and the verification script look guards up by these."""

    INSECURE_TRANSPORT = "DenyInsecureTransport"
    OUTDATED_TLS = "DenyOutdatedTls"
    OVERWRITE = "DenyUploadWithoutIfNoneMatch"
    MULTIPART = "DenyMultipartUpload"
    KEY_NOT_UUID_JPG = "DenyKeyNotUuidJpg"
    KEY_WITH_SLASH = "DenyKeyWithSlash"
    UNKNOWN_TAG = "DenyUploadWithUnknownTag"
    EXCLUDED_LABEL = "DenyUploadWithExcludedLabel"
    WRONG_ENCRYPTION = "DenyUploadWithWrongEncryption"
    OTHER_KMS_KEY = "DenyUploadWithOtherKmsKey"
    CUSTOMER_KEY = "DenyUploadWithCustomerKey"
    TAG_REWRITE = "DenyTagRewrite"
    DELETE = "DenyDeleteExceptCommandCentre"
    UPLOAD_AS_OTHER_CITY = "DenyUploadAsAnotherCity"
    CITY_TIER = "DenyCityTierBeyondUpload"
    TRAINING_TIER = "DenyTrainingTierBeyondRead"
    COMMAND_CENTRE_TIER = "DenyCommandCentreTierBeyondItsOperations"
    WRITE_EXCEPT_REPLICATION = "DenyWriteExceptReplication"
    LOG_DELIVERY = "AllowS3LogDelivery"
    INVENTORY_DELIVERY = "AllowS3InventoryDelivery"

    @staticmethod
    def missing_tag(field: str) -> str:
        """``DenyUploadWithoutCityIdTag`` for ``city_id``: one guard per required field."""
        return f"DenyUploadWithout{''.join(part.title() for part in field.split('_'))}Tag"


@dataclass(frozen=True)
class LearningBucket:
    """The ARNs the learning bucket's guards refer to."""

    bucket_arn: str
    key_arn: str
    command_centre_role_arn: str
    training_role_arn: str
    #: ``ArnLike`` pattern matching every city user (and the probe): one IAM path per stack.
    city_users_arn_pattern: str


def _deny(
    sid: str, actions: str | list[str], resources: str | list[str], condition: dict[str, Any] | None = None
) -> Statement:
    statement: Statement = {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _all(bucket_arn: str) -> list[str]:
    return [bucket_arn, objects_arn(bucket_arn)]


# --- transport ---------------------------------------------------------------------------------


def deny_insecure_transport(bucket_arn: str) -> Statement:
    return _deny(Sid.INSECURE_TRANSPORT, "s3:*", _all(bucket_arn), {"Bool": {"aws:SecureTransport": "false"}})


def deny_outdated_tls(bucket_arn: str) -> Statement:
    return _deny(
        Sid.OUTDATED_TLS, "s3:*", _all(bucket_arn), {"NumericLessThan": {"s3:TlsVersion": MINIMUM_TLS_VERSION}}
    )


# --- immutability ------------------------------------------------------------------------------


def deny_overwrite(bucket_arn: str) -> Statement:
    """Every object-creating request must carry ``If-None-Match: *``.

    ``s3:ObjectCreationOperation`` is the multipart exemption AWS documents (S3 User Guide,
    "Enforce conditional writes on Amazon S3 buckets"): CreateMultipartUpload and UploadPart
    cannot carry the header. Copies into the bucket are refused by this guard as a side effect.
    """
    return _deny(
        Sid.OVERWRITE,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}},
    )


def deny_multipart_upload(bucket_arn: str) -> Statement:
    """CreateMultipartUpload, UploadPart and UploadPartCopy (see the module docstring)."""
    return _deny(
        Sid.MULTIPART, "s3:PutObject", objects_arn(bucket_arn), {"Bool": {"s3:ObjectCreationOperation": "false"}}
    )


def deny_tag_rewrite(bucket_arn: str) -> Statement:
    return _deny(Sid.TAG_REWRITE, list(TAG_REWRITE_ACTIONS), objects_arn(bucket_arn))


def deny_delete_except(bucket_arn: str, command_centre_role_arn: str) -> Statement:
    return _deny(
        Sid.DELETE,
        list(DELETE_ACTIONS),
        objects_arn(bucket_arn),
        {"ArnNotEquals": {"aws:PrincipalArn": command_centre_role_arn}},
    )


# --- naming --------------------------------------------------------------------------------------


def deny_key_not_uuid_jpg(bucket_arn: str) -> Statement:
    statement = _deny(Sid.KEY_NOT_UUID_JPG, "s3:PutObject", [])
    del statement["Resource"]
    statement["NotResource"] = flat_keys_arn(bucket_arn)
    return statement


def deny_key_with_slash(bucket_arn: str) -> Statement:
    """``?`` in the UUID wildcard also matches ``/``; this closes folders for good."""
    return _deny(Sid.KEY_WITH_SLASH, "s3:PutObject", f"{bucket_arn}/*/*")


# --- metadata --------------------------------------------------------------------------------


def deny_missing_tags(bucket_arn: str) -> list[Statement]:
    """One Deny per required field: conditions in one statement are ANDed, and any missing
    field must be enough to refuse the upload."""
    return [
        _deny(
            Sid.missing_tag(field),
            "s3:PutObject",
            objects_arn(bucket_arn),
            {"Null": {f"s3:RequestObjectTag/{field}": "true"}},
        )
        for field in contract.METADATA_FIELDS
    ]


def deny_unknown_tags(bucket_arn: str) -> Statement:
    return _deny(
        Sid.UNKNOWN_TAG,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"ForAnyValue:StringNotEquals": {"s3:RequestObjectTagKeys": list(contract.METADATA_FIELDS)}},
    )


def deny_excluded_label(bucket_arn: str) -> Statement:
    """Only ``correct`` and ``changed`` may be uploaded (a missing label is denied too:
    a negated operator matches an absent key)."""
    return _deny(
        Sid.EXCLUDED_LABEL,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {
            "StringNotEquals": {
                f"s3:RequestObjectTag/{contract.LABEL_STATUS}": [x.value for x in contract.UPLOAD_LABELS]
            }
        },
    )


# --- encryption ------------------------------------------------------------------------------


def deny_wrong_encryption(bucket_arn: str) -> Statement:
    """IfExists: an upload without the header gets the bucket default, which is the store key."""
    return _deny(
        Sid.WRONG_ENCRYPTION,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    )


def deny_other_kms_key(bucket_arn: str, key_arn: str) -> Statement:
    return _deny(
        Sid.OTHER_KMS_KEY,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}},
    )


def deny_customer_key(bucket_arn: str) -> Statement:
    """SSE-C would bypass the store key (and the bucket's own SSE-C block may be lifted later)."""
    return _deny(
        Sid.CUSTOMER_KEY,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
    )


# --- tiers -----------------------------------------------------------------------------------


def deny_tier_beyond(sid: str, tier: contract.Tier, bucket_arn: str, principal_condition: dict[str, Any]) -> Statement:
    """The tier's principals may do nothing on the bucket but the tier's operations, whatever
    identity policy is attached to them later."""
    statement = _deny(sid, [], _all(bucket_arn), principal_condition)
    del statement["Action"]
    statement["NotAction"] = list(tier.s3_actions)
    return statement


def deny_upload_as_another_city(bucket_arn: str, city_users_arn_pattern: str) -> Statement:
    return _deny(
        Sid.UPLOAD_AS_OTHER_CITY,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {
            "ArnLike": {"aws:PrincipalArn": city_users_arn_pattern},
            "StringNotEquals": {f"s3:RequestObjectTag/{contract.CITY_ID}": f"${{aws:PrincipalTag/{contract.CITY_ID}}}"},
        },
    )


# --- the policies ------------------------------------------------------------------------------


def learning_bucket_policy(bucket: LearningBucket) -> Document:
    """Every guard of the learning bucket, in one policy. Its size does not depend on the
    number of cities: cities are matched by their IAM path, never listed."""
    arn = bucket.bucket_arn
    return document(
        [
            deny_insecure_transport(arn),
            deny_outdated_tls(arn),
            deny_overwrite(arn),
            deny_multipart_upload(arn),
            deny_key_not_uuid_jpg(arn),
            deny_key_with_slash(arn),
            *deny_missing_tags(arn),
            deny_unknown_tags(arn),
            deny_excluded_label(arn),
            deny_wrong_encryption(arn),
            deny_other_kms_key(arn, bucket.key_arn),
            deny_customer_key(arn),
            deny_tag_rewrite(arn),
            deny_delete_except(arn, bucket.command_centre_role_arn),
            deny_upload_as_another_city(arn, bucket.city_users_arn_pattern),
            deny_tier_beyond(
                Sid.CITY_TIER, contract.CITY, arn, {"ArnLike": {"aws:PrincipalArn": bucket.city_users_arn_pattern}}
            ),
            deny_tier_beyond(
                Sid.TRAINING_TIER, contract.TRAINING, arn, {"ArnEquals": {"aws:PrincipalArn": bucket.training_role_arn}}
            ),
            deny_tier_beyond(
                Sid.COMMAND_CENTRE_TIER,
                contract.COMMAND_CENTRE,
                arn,
                {"ArnEquals": {"aws:PrincipalArn": bucket.command_centre_role_arn}},
            ),
        ]
    )


def replica_bucket_policy(bucket_arn: str, replication_role_arn: str, command_centre_role_arn: str) -> Document:
    """The replica's guards: TLS, immutable tags, deletes only by the Command Centre (GDPR
    erasure reaches the replica), and writes only by S3 replication."""
    return document(
        [
            deny_insecure_transport(bucket_arn),
            deny_outdated_tls(bucket_arn),
            _deny(
                Sid.WRITE_EXCEPT_REPLICATION,
                ["s3:PutObject", *REPLICATION_WRITE_ACTIONS],
                objects_arn(bucket_arn),
                {"ArnNotEquals": {"aws:PrincipalArn": replication_role_arn}},
            ),
            deny_tag_rewrite(bucket_arn),
            deny_delete_except(bucket_arn, command_centre_role_arn),
        ]
    )


#: Where S3 Inventory writes in the log bucket: ``inventory/<source bucket>/<configuration id>/…``.
INVENTORY_PREFIX = "inventory"


def log_bucket_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> Document:
    """S3 server access logs and S3 Inventory reports are delivered by S3's service principals,
    each scoped to the source bucket and account (S3 User Guide, "Permissions for log delivery"
    and "Grant permissions for S3 Inventory and S3 analytics")."""
    return document(
        [
            deny_insecure_transport(log_bucket_arn),
            deny_outdated_tls(log_bucket_arn),
            {
                "Sid": Sid.LOG_DELIVERY,
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": objects_arn(log_bucket_arn),
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
            {
                "Sid": Sid.INVENTORY_DELIVERY,
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/{INVENTORY_PREFIX}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"},
                },
            },
        ]
    )
