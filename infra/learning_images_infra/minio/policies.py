"""The MinIO tiers' policies: the AWS guards MinIO can evaluate, as Denies in every tier's own policy.

Why in the users' policies and not in the bucket's: MinIO authorises a signed request by the
caller's IAM policies alone, and evaluates a bucket policy only for anonymous requests (minio/minio
``cmd/auth-handler.go``, ``authorizeRequest`` and ``isPutActionAllowed``: ``globalPolicySys`` only
when ``cred.AccessKey == ""``). A Deny in the bucket policy would bind nobody who holds a key.

MinIO refuses a whole policy that names a condition key or an action it lacks
(``learning_images.minio``, read from minio/pkg), so these are the AWS guards it takes, chosen
here by name; the tests check each rendered policy against MinIO's own tables. What MinIO
cannot hold is the catalogue's minio column (``learning_images.rules``), with what covers it:

- create-only (``s3:if-none-match``) and ``If-Match``: no such key; versioning keeps every
  overwritten version, and the Command Centre alone may delete one;
- the TLS version (``s3:TlsVersion``): the server's own TLS settings;
- multipart (``s3:ObjectCreationOperation``): MinIO authorises every part as ``s3:PutObject``
  with the part's own headers, so each part must carry the tags the guards demand;
- the principal guards (``aws:PrincipalArn``): each tier's policy is its own, so a guard that
  binds one tier is a statement of that tier's policy;
- ACLs: MinIO has none.

Pure functions, no Pulumi imports.
"""

from __future__ import annotations

from learning_images import contract
from learning_images.rules import Sid
from learning_images_infra.aws.guards import (
    ALL_TAG_ACTIONS,
    DELETE_ACTIONS,
    deny_aws_managed_key,
    deny_copy,
    deny_customer_key,
    deny_excluded_label,
    deny_insecure_transport,
    deny_key_not_uuid_jpg,
    deny_key_with_slash,
    deny_missing_tags,
    deny_object_lock_change,
    deny_other_kms_key,
    deny_storage_class,
    deny_tag_rewrite,
    deny_unknown_tags,
    deny_upload_with_lock_headers,
    deny_wrong_encryption,
)
from learning_images_infra.aws.iam import Document, Statement, document, flat_keys_arn, objects_arn

#: The ARN partition MinIO's policies name buckets in (MinIO speaks AWS's policy language).
ARN_PREFIX = "arn:aws:s3:::"


def bucket_arn(bucket_name: str) -> str:
    return f"{ARN_PREFIX}{bucket_name}"


def _identity(statement: Statement) -> Statement:
    # An identity policy names no principal: it binds the user it is attached to.
    return {key: value for key, value in statement.items() if key != "Principal"}


def guards(bucket_name: str, kms_key_id: str) -> list[Statement]:
    """The guards of the learning bucket MinIO evaluates, for every tier's policy.

    Every tag action is refused, the standalone ``PutObjectTagging`` too: MinIO authorises a
    tagged PutObject as ``s3:PutObject`` alone (``isPutActionAllowed`` with ``PutObjectAction``),
    so no upload needs it, and labels are immutable.
    """
    arn = bucket_arn(bucket_name)
    return [
        _identity(statement)
        for statement in (
            deny_insecure_transport(arn),
            deny_copy(arn),
            deny_key_not_uuid_jpg(arn),
            deny_key_with_slash(arn),
            *deny_missing_tags(arn),
            deny_unknown_tags(arn),
            deny_excluded_label(arn),
            deny_wrong_encryption(arn),
            deny_other_kms_key(arn, kms_key_id),
            deny_aws_managed_key(arn),
            deny_customer_key(arn),
            deny_storage_class(arn),
            deny_object_lock_change(arn),
            *deny_upload_with_lock_headers(arn),
            deny_tag_rewrite(arn, ALL_TAG_ACTIONS),
        )
    ]


#: The guard that holds each tier to its operations (the AWS bucket policy's Sids).
BEYOND_TIER = {
    contract.CITY: Sid.CITY_TIER,
    contract.TRAINING: Sid.TRAINING_TIER,
    contract.COMMAND_CENTRE: Sid.COMMAND_CENTRE_TIER,
}


def _deny_beyond(sid: str, actions: tuple[str, ...], arn: str) -> Statement:
    # Nothing on the bucket but these operations, whatever other policy the user is given later.
    return {"Sid": sid, "Effect": "Deny", "NotAction": list(actions), "Resource": [arn, objects_arn(arn)]}


def _deny_delete(arn: str) -> Statement:
    return {"Sid": Sid.DELETE, "Effect": "Deny", "Action": list(DELETE_ACTIONS), "Resource": objects_arn(arn)}


#: What the receiver (``learning-images-register``) reads of an object it registers: its metadata
#: (HeadObject is ``s3:GetObject``, on MinIO as on S3) and its tags, to check them against it.
RECEIVER_ACTIONS = contract.RECEIVER_ACTIONS


def receiver_policy(bucket_name: str, kms_key_id: str) -> Document:
    """The receiver's user's policy: read an object and its tags, nothing else, and the guards."""
    arn = bucket_arn(bucket_name)
    return document(
        [
            {"Sid": "ReceiverReads", "Effect": "Allow", "Action": list(RECEIVER_ACTIONS), "Resource": objects_arn(arn)},
            _deny_delete(arn),
            _deny_beyond("DenyReceiverBeyondReading", RECEIVER_ACTIONS, arn),
            *guards(bucket_name, kms_key_id),
        ]
    )


def tier_policy(tier: contract.Tier, bucket_name: str, kms_key_id: str, city_id: str | None = None) -> Document:
    """The policy of one tier's user: its operations, the guards, and the Denies that bind the
    tier (a city uploads only as ``city_id``; only the Command Centre deletes)."""
    arn = bucket_arn(bucket_name)
    statements: list[Statement] = []
    if tier.bucket_actions:
        statements.append({"Sid": "StoreList", "Effect": "Allow", "Action": list(tier.bucket_actions), "Resource": arn})
    if tier.object_actions:
        statements.append(
            {
                "Sid": "StoreObjects",
                "Effect": "Allow",
                "Action": list(tier.object_actions),
                "Resource": objects_arn(arn),
            }
        )
    if tier.upload:
        labels: dict[str, str | list[str]] = {
            f"s3:RequestObjectTag/{contract.LABEL_STATUS}": [label.value for label in contract.UPLOAD_LABELS]
        }
        if city_id is not None:
            labels[f"s3:RequestObjectTag/{contract.CITY_ID}"] = city_id
        statements.append(
            {
                "Sid": "StoreUpload",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": flat_keys_arn(arn),
                "Condition": {"StringEquals": labels},
            }
        )
    if city_id is not None:
        # A negated operator also matches an upload without the tag (the guards refuse that too).
        statements.append(
            {
                "Sid": Sid.UPLOAD_AS_OTHER_CITY,
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": objects_arn(arn),
                "Condition": {"StringNotEquals": {f"s3:RequestObjectTag/{contract.CITY_ID}": city_id}},
            }
        )
    if not set(DELETE_ACTIONS) <= set(tier.s3_actions):
        statements.append(_deny_delete(arn))
    statements.append(_deny_beyond(BEYOND_TIER[tier], tier.s3_actions, arn))
    return document(statements + guards(bucket_name, kms_key_id))
