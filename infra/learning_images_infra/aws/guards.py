"""Bucket-policy guards: one function per contract rule, each a Deny with a stable Sid.

A Deny in the bucket policy holds whatever identity policy a principal has, so these are what
make the contract a property of the bucket rather than of well-behaved clients. All guards are
on; they are merged into exactly one bucket policy per bucket (:func:`learning_bucket_policy`,
:func:`replica_bucket_policy`, :func:`log_bucket_policy`). Pure functions, no Pulumi imports.
Every Sid comes from the rule catalogue (``learning_images.rules.Sid``), which the policy pack and the
verification script check against: they never ask these builders what they build.

Why multipart uploads are denied: tags and ``If-None-Match`` travel on ``PutObject`` and
``CompleteMultipartUpload``, but ``UploadPart`` carries neither and ``CompleteMultipartUpload``
carries no tags, so IAM cannot tell a tag-less completion from a tag-less single upload. The
metadata guards therefore only hold if every upload is one ``PutObject`` (up to 5 GiB, three
orders of magnitude above a camera JPEG).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from learning_images import contract
from learning_images.rules import OBJECT_LOCK_KEYS, Sid
from learning_images_infra.aws.iam import Document, Statement, document, flat_keys_arn, objects_arn

#: Tag actions no request of this store ever needs: they only change the tags of a stored
#: object (or version). Labels are immutable: a correction is a new object (contract,
#: "Corrections/updates create new objects").
TAG_REWRITE_ACTIONS = ("s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging")
#: Every tag action; the replica, which no client uploads to, refuses all of them.
ALL_TAG_ACTIONS = ("s3:PutObjectTagging", *TAG_REWRITE_ACTIONS)
#: Actions that remove data or loosen its protection; only the Command Centre may (GDPR).
DELETE_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention")
#: Actions that set an object's own lock. Nobody needs them (the bucket's default retention
#: applies), and a COMPLIANCE date in 2099 or a legal hold would make GDPR erasure impossible.
#: A PutObject carrying lock headers is authorised as these too.
OBJECT_LOCK_ACTIONS = ("s3:PutObjectRetention", "s3:PutObjectLegalHold")
#: Actions that set an object's ACL, by API or by upload header.
ACL_ACTIONS = ("s3:PutObjectAcl", "s3:PutObjectVersionAcl")
#: IAM reads condition values as strings and parses them for Numeric operators, so "1.2" is the
#: number 1.2 (IAM User Guide, "Numeric condition operators"). A JSON number would do the same
#: for AWS but breaks parliament, whose linter the tests run over every policy.
MINIMUM_TLS_VERSION = "1.2"
#: Actions by which S3 replication writes into the replica.
REPLICATION_WRITE_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateTags", "s3:ReplicateDelete")
#: Bucket configuration an account administrator could use to shred the store without touching
#: a delete guard: a lifecycle rule expiring everything, a new bucket policy, versioning or
#: replication switched off. ``PutBucket*``/``DeleteBucket*`` cover the policy, versioning,
#: Object Lock, public-access block, ownership, ACL, logging and the bucket itself.
BUCKET_CONFIGURATION_ACTIONS = (
    "s3:PutBucket*",
    "s3:DeleteBucket*",
    "s3:PutLifecycleConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:PutInventoryConfiguration",
)


@dataclass(frozen=True)
class LearningBucket:
    """The ARNs the learning bucket's guards refer to."""

    bucket_arn: str
    key_arn: str
    command_centre_role_arn: str
    training_role_arn: str
    #: ``ArnLike`` pattern matching every city principal: the city users' IAM path (access keys),
    #: or the city role (certificates; a role session's aws:PrincipalArn is its role's ARN).
    city_principal_arn_pattern: str
    #: ``ArnLike`` patterns of the principals allowed to change the bucket's configuration
    #: (the account root among them). Empty: the configuration guard is off.
    administrator_patterns: tuple[str, ...] = ()
    #: The principal tag naming a city: the user's ``city_id`` tag, or a certificate session's CN.
    city_tag: str = contract.CITY_ID


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
    """Every ``s3:PutObject`` must carry ``If-None-Match: *`` ("create, never overwrite").

    ``StringNotEquals`` is a negated operator, so it also matches a request without the key
    (IAM User Guide, "Condition operators": "If the policy condition requires that the key is
    not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
    condition is true"). No ``s3:ObjectCreationOperation`` exemption: multipart is denied anyway
    (:func:`deny_multipart_upload`), so every request authorised as ``s3:PutObject`` must carry
    the header. A copy cannot carry it either and is refused on its own (:func:`deny_copy`).
    """
    return _deny(Sid.OVERWRITE, "s3:PutObject", objects_arn(bucket_arn), {"StringNotEquals": {"s3:if-none-match": "*"}})


def deny_conditional_overwrite(bucket_arn: str) -> Statement:
    """``If-Match`` on PutObject writes over a stored object whose ETag matches (S3 User Guide,
    "Add preconditions to S3 operations with conditional requests"): an overwrite by another name.
    No upload of this store needs it, so its presence is refused (``s3:if-match``, same page)."""
    return _deny(Sid.CONDITIONAL_OVERWRITE, "s3:PutObject", objects_arn(bucket_arn), {"Null": {"s3:if-match": "false"}})


def deny_multipart_upload(bucket_arn: str) -> Statement:
    """CreateMultipartUpload, UploadPart and UploadPartCopy are authorised as ``s3:PutObject``
    with ``s3:ObjectCreationOperation`` false (S3 User Guide, "Enforce conditional writes on
    Amazon S3 buckets"). Why multipart is refused: see the module docstring."""
    return _deny(
        Sid.MULTIPART, "s3:PutObject", objects_arn(bucket_arn), {"Bool": {"s3:ObjectCreationOperation": "false"}}
    )


def deny_copy(bucket_arn: str) -> Statement:
    """A CopyObject into the bucket (``x-amz-copy-source``) would duplicate an object under a
    new key and could replace its metadata (``x-amz-metadata-directive: REPLACE``)."""
    return _deny(Sid.COPY, "s3:PutObject", objects_arn(bucket_arn), {"Null": {"s3:x-amz-copy-source": "false"}})


def deny_tag_rewrite(bucket_arn: str, actions: tuple[str, ...] = TAG_REWRITE_ACTIONS) -> Statement:
    """The tag actions that only ever change a stored object's tags, refused to everyone."""
    return _deny(Sid.TAG_REWRITE, list(actions), objects_arn(bucket_arn))


def deny_retag_of_stored_object(bucket_arn: str) -> Statement:
    """``s3:PutObjectTagging`` on an object that already carries the contract's tags.

    S3 authorises a tagged PutObject as ``s3:PutObjectTagging`` too, so the action itself must
    stay allowed for uploads. A new object has no tags yet: ``s3:ExistingObjectTag/<key>`` is
    absent, and ``Null`` keeps the upload out of this Deny. Every stored object carries the label
    (the upload guards refuse one without), so the standalone PutObjectTagging API is refused
    on all of them (S3 User Guide, "Tagging and access control policies").
    """
    return _deny(
        Sid.RETAG_STORED_OBJECT,
        "s3:PutObjectTagging",
        objects_arn(bucket_arn),
        {"Null": {f"s3:ExistingObjectTag/{contract.LABEL_STATUS}": "false"}},
    )


def deny_object_lock_change(bucket_arn: str) -> Statement:
    """Setting an object's retention or legal hold, by API or by upload header, to everyone."""
    return _deny(Sid.OBJECT_LOCK_CHANGE, list(OBJECT_LOCK_ACTIONS), objects_arn(bucket_arn))


def deny_upload_with_lock_headers(bucket_arn: str) -> list[Statement]:
    """One Deny per Object Lock header on upload (conditions in one statement are ANDed, and
    any one header must be enough). Belt and braces with :func:`deny_object_lock_change`."""
    return [
        _deny(Sid.lock_header(key), "s3:PutObject", objects_arn(bucket_arn), {"Null": {key: "false"}})
        for key in OBJECT_LOCK_KEYS
    ]


def deny_delete_except(bucket_arn: str, command_centre_role_arn: str) -> Statement:
    return _deny(
        Sid.DELETE,
        list(DELETE_ACTIONS),
        objects_arn(bucket_arn),
        {"ArnNotEquals": {"aws:PrincipalArn": command_centre_role_arn}},
    )


def deny_configuration_change_except(bucket_arn: str, administrator_patterns: tuple[str, ...]) -> Statement:
    """Only the named administrators (and the account root) change the bucket's configuration.

    A Deny binds the account's own administrators too, whatever their IAM policy. The account
    root stays able to recover: it is listed here, and S3 lets the bucket owner's root user
    delete a bucket policy that denies everyone (S3 User Guide, "Bucket policy examples": "you
    can always delete the bucket policy as the root user").
    """
    return _deny(
        Sid.CONFIGURATION_CHANGE,
        list(BUCKET_CONFIGURATION_ACTIONS),
        bucket_arn,
        {"ArnNotLike": {"aws:PrincipalArn": list(administrator_patterns)}},
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
    """One Deny per required field, refusing an upload whose tag is missing or blank.

    ``StringNotLike "?*"`` matches an empty value (``?`` needs one character) and, being a
    negated operator, an absent key too (IAM User Guide, "Condition operators"). ``Null`` alone
    would let ``camera_id=`` through: S3 accepts empty tag values. One statement per field,
    because conditions in one statement are ANDed and any one bad field must be enough.
    """
    return [
        _deny(
            Sid.missing_tag(field),
            "s3:PutObject",
            objects_arn(bucket_arn),
            {"StringNotLike": {f"s3:RequestObjectTag/{field}": "?*"}},
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
    """An upload that names an encryption other than SSE-KMS (SSE-S3 ``AES256``, DSSE-KMS).

    Only when the header is present: an upload without it gets the bucket default, which is the
    store key. ``StringNotEquals`` alone (or ``...IfExists``) would also match the absent header
    and refuse every upload that leaves encryption to the bucket, which is what the project's
    clients do ("...IfExists condition operators" in the IAM User Guide: "If the key is not
    present, evaluate the condition element as true"). ``Null: false`` requires the key.
    """
    header = "s3:x-amz-server-side-encryption"
    return _deny(
        Sid.WRONG_ENCRYPTION,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"Null": {header: "false"}, "StringNotEquals": {header: "aws:kms"}},
    )


def deny_other_kms_key(bucket_arn: str, key_arn: str) -> Statement:
    """An upload naming a KMS key other than the store's (present header only, as above)."""
    header = "s3:x-amz-server-side-encryption-aws-kms-key-id"
    return _deny(
        Sid.OTHER_KMS_KEY,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"Null": {header: "false"}, "StringNotEquals": {header: key_arn}},
    )


def deny_aws_managed_key(bucket_arn: str) -> Statement:
    """An upload that asks for SSE-KMS without naming a key: S3 then encrypts with the AWS managed
    key ``aws/s3``, not the bucket's default (S3 API Reference, PutObject,
    ``x-amz-server-side-encryption-aws-kms-key-id``: "If you specify
    x-amz-server-side-encryption:aws:kms ... but do not provide
    x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the AWS managed key (aws/s3)").
    That key is outside the store's key policy, its rotation and its "only through S3 by these
    tiers", so the header is allowed only together with the store key's id (checked by
    :func:`deny_other_kms_key`). Both keys in one ``Null`` block: the header present AND the id absent.
    """
    return _deny(
        Sid.AWS_MANAGED_KEY,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {
            "Null": {
                "s3:x-amz-server-side-encryption": "false",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
            }
        },
    )


def deny_customer_key(bucket_arn: str) -> Statement:
    """SSE-C would bypass the store key (and the bucket's own SSE-C block may be lifted later)."""
    return _deny(
        Sid.CUSTOMER_KEY,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
    )


def deny_storage_class(bucket_arn: str) -> Statement:
    """An upload choosing its storage class: moving objects to colder storage is the lifecycle's
    job (archive after ``archiveAfterDays``), and an upload straight into GLACIER or DEEP_ARCHIVE
    would be unreadable by the training tier until restored. Any ``x-amz-storage-class`` is
    refused; the uploader never sends one (``s3:x-amz-storage-class``, Service Authorization
    Reference for Amazon S3)."""
    return _deny(
        Sid.STORAGE_CLASS, "s3:PutObject", objects_arn(bucket_arn), {"Null": {"s3:x-amz-storage-class": "false"}}
    )


def deny_object_acl(bucket_arn: str) -> Statement:
    """ACLs are disabled (BucketOwnerEnforced), and the policy refuses them too, so an ACL can
    never be how an object becomes readable. S3 authorises an upload that carries any ACL header
    (``x-amz-acl`` or an ``x-amz-grant-*``) as ``s3:PutObjectAcl`` as well (S3 API Reference,
    PutObject, "Permissions"), so denying the action refuses every form of it."""
    return _deny(Sid.ACL, list(ACL_ACTIONS), objects_arn(bucket_arn))


# --- tiers -----------------------------------------------------------------------------------


def deny_tier_beyond(sid: str, tier: contract.Tier, bucket_arn: str, principal_condition: dict[str, Any]) -> Statement:
    """The tier's principals may do nothing on the bucket but the tier's operations, whatever
    identity policy is attached to them later."""
    statement = _deny(sid, [], _all(bucket_arn), principal_condition)
    del statement["Action"]
    statement["NotAction"] = list(tier.s3_actions)
    return statement


def deny_upload_as_another_city(bucket_arn: str, city_principal_arn_pattern: str, city_tag: str) -> Statement:
    """An upload's ``city_id`` tag must be the uploading city's: its ``city_tag`` principal tag."""
    return _deny(
        Sid.UPLOAD_AS_OTHER_CITY,
        "s3:PutObject",
        objects_arn(bucket_arn),
        {
            "ArnLike": {"aws:PrincipalArn": city_principal_arn_pattern},
            "StringNotEquals": {f"s3:RequestObjectTag/{contract.CITY_ID}": f"${{aws:PrincipalTag/{city_tag}}}"},
        },
    )


def deny_city_without_city_tag(bucket_arn: str, city_principal_arn_pattern: str, city_tag: str) -> Statement:
    """A city principal without the tag naming its city can do nothing: the policy variable that
    binds uploads to the city would have nothing to compare with."""
    return _deny(
        Sid.CITY_WITHOUT_CITY_TAG,
        "s3:*",
        _all(bucket_arn),
        {
            "ArnLike": {"aws:PrincipalArn": city_principal_arn_pattern},
            "Null": {f"aws:PrincipalTag/{city_tag}": "true"},
        },
    )


# --- the policies ------------------------------------------------------------------------------


def learning_bucket_policy(bucket: LearningBucket) -> Document:
    """Every guard of the learning bucket, in one policy. Its size does not depend on the
    number of cities: cities are matched by their IAM path, never listed."""
    arn = bucket.bucket_arn
    administration = (
        [deny_configuration_change_except(arn, bucket.administrator_patterns)] if bucket.administrator_patterns else []
    )
    return document(
        [
            deny_insecure_transport(arn),
            deny_outdated_tls(arn),
            deny_overwrite(arn),
            deny_conditional_overwrite(arn),
            deny_multipart_upload(arn),
            deny_copy(arn),
            deny_key_not_uuid_jpg(arn),
            deny_key_with_slash(arn),
            *deny_missing_tags(arn),
            deny_unknown_tags(arn),
            deny_excluded_label(arn),
            deny_wrong_encryption(arn),
            deny_other_kms_key(arn, bucket.key_arn),
            deny_aws_managed_key(arn),
            deny_customer_key(arn),
            deny_storage_class(arn),
            deny_object_acl(arn),
            deny_object_lock_change(arn),
            *deny_upload_with_lock_headers(arn),
            deny_tag_rewrite(arn),
            deny_retag_of_stored_object(arn),
            deny_delete_except(arn, bucket.command_centre_role_arn),
            deny_upload_as_another_city(arn, bucket.city_principal_arn_pattern, bucket.city_tag),
            deny_city_without_city_tag(arn, bucket.city_principal_arn_pattern, bucket.city_tag),
            deny_tier_beyond(
                Sid.CITY_TIER, contract.CITY, arn, {"ArnLike": {"aws:PrincipalArn": bucket.city_principal_arn_pattern}}
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
            *administration,
        ]
    )


def replica_bucket_policy(
    bucket_arn: str,
    replication_role_arn: str,
    command_centre_role_arn: str,
    administrator_patterns: tuple[str, ...] = (),
) -> Document:
    """The replica's guards: TLS, immutable tags, deletes only by the Command Centre (GDPR
    erasure reaches the replica), writes only by S3 replication, and (when administrators are
    named) configuration changes only by them."""
    administration = (
        [deny_configuration_change_except(bucket_arn, administrator_patterns)] if administrator_patterns else []
    )
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
            # No client uploads here, so every tag action is refused (replication uses ReplicateTags).
            deny_tag_rewrite(bucket_arn, ALL_TAG_ACTIONS),
            deny_object_lock_change(bucket_arn),
            deny_delete_except(bucket_arn, command_centre_role_arn),
            *administration,
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
