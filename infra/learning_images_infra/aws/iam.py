"""IAM documents for the store's identities, as plain data.

Pure functions over ARN strings, no Pulumi imports: the program renders them inside ``apply``,
the tests lint them with parliament, the policy pack and the verification script read
the same constants. Every grant of a tier goes through :func:`grant`, which adds the KMS actions
the S3 actions need, so a tier can never be given S3 access it cannot use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from learning_images import contract
from learning_images.rules import Sid

Statement = dict[str, Any]
Document = dict[str, Any]

POLICY_VERSION = "2012-10-17"
#: S3 sends only ``*`` as ``If-None-Match`` on a write: "create, never overwrite".
CREATE_ONLY = {"s3:if-none-match": "*"}


def document(statements: list[Statement]) -> Document:
    return {"Version": POLICY_VERSION, "Statement": statements}


def objects_arn(bucket_arn: str) -> str:
    return f"{bucket_arn}/*"


def flat_keys_arn(bucket_arn: str) -> str:
    """The resource an upload may target: a flat ``<uuid>.jpg`` key (see the contract)."""
    return f"{bucket_arn}/{contract.OBJECT_KEY_IAM_WILDCARD}"


def s3_service(region: str) -> str:
    """The ``kms:ViaService`` value of S3 calling KMS on a caller's behalf in ``region``."""
    return f"s3.{region}.amazonaws.com"


@dataclass(frozen=True)
class StoreTarget:
    """What a grant points at: a bucket, the key encrypting it and that key's region."""

    bucket_arn: str
    key_arn: str
    region: str


def grant(
    tier: contract.Tier, target: StoreTarget, sid_prefix: str, city_tag: str = contract.CITY_ID
) -> list[Statement]:
    """The statements that let ``tier`` do exactly its contract operations on ``target``.

    Uploads are granted only create-only (``If-None-Match: *``) and only with an allowed label;
    the city tier's upload is further bound to the caller's own ``city_id`` tag. KMS use is
    allowed only through S3 in the key's region.
    """
    statements: list[Statement] = []
    if tier.bucket_actions:
        statements.append(
            {
                "Sid": f"{sid_prefix}List",
                "Effect": "Allow",
                "Action": list(tier.bucket_actions),
                "Resource": target.bucket_arn,
            }
        )
    if tier.object_actions:
        statements.append(
            {
                "Sid": f"{sid_prefix}Objects",
                "Effect": "Allow",
                "Action": list(tier.object_actions),
                "Resource": objects_arn(target.bucket_arn),
            }
        )
    if tier.upload:
        # The tags an upload sets: an allowed label, and for a city its own city id.
        tag_conditions: dict[str, str | list[str]] = {
            f"s3:RequestObjectTag/{contract.LABEL_STATUS}": [label.value for label in contract.UPLOAD_LABELS],
        }
        if tier is contract.CITY:
            # Policy variable: a city may only upload objects tagged with its own city id, which is
            # the principal tag ``city_tag`` (a city user's tag, or a certificate session's CN).
            tag_conditions[f"s3:RequestObjectTag/{contract.CITY_ID}"] = f"${{aws:PrincipalTag/{city_tag}}}"
        statements.append(
            {
                "Sid": f"{sid_prefix}CreateOnlyUpload",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": flat_keys_arn(target.bucket_arn),
                "Condition": {"StringEquals": {**CREATE_ONLY, **tag_conditions}},
            }
        )
        # S3 authorises the tags of a tagged PutObject as s3:PutObjectTagging, whose request
        # context has no s3:if-none-match (Service Authorization Reference: condition keys of
        # PutObjectTagging), so it is its own statement. The bucket policy refuses it on any
        # object that already carries tags (guards.deny_retag_of_stored_object).
        statements.append(
            {
                "Sid": f"{sid_prefix}TagsOfNewUpload",
                "Effect": "Allow",
                "Action": "s3:PutObjectTagging",
                "Resource": flat_keys_arn(target.bucket_arn),
                "Condition": {"StringEquals": tag_conditions},
            }
        )
    if tier.key_actions:
        statements.append(
            {
                "Sid": f"{sid_prefix}KeyThroughS3",
                "Effect": "Allow",
                "Action": list(tier.key_actions),
                "Resource": target.key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": s3_service(target.region)}},
            }
        )
    return statements


def tier_policy(tier: contract.Tier, target: StoreTarget, city_tag: str = contract.CITY_ID) -> Document:
    """The identity policy of a tier on the primary store (``city_tag``: the principal tag naming a city)."""
    return document(grant(tier, target, sid_prefix="Store", city_tag=city_tag))


def command_centre_policy(primary: StoreTarget, replica: StoreTarget | None) -> Document:
    """The Command Centre's policy: the primary as its tier says, and on the replica the reads
    and deletes that GDPR erasure needs (replication copies every object there)."""
    statements = grant(contract.COMMAND_CENTRE, primary, sid_prefix="Store")
    if replica is not None:
        erase_only = contract.Tier(
            name="command-centre-replica",
            description="List, read tags and delete in the replica, for erasure.",
            bucket_actions=("s3:ListBucket", "s3:ListBucketVersions"),
            object_actions=(
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:BypassGovernanceRetention",
            ),
            upload=False,
            key_actions=(),
        )
        statements += grant(erase_only, replica, sid_prefix="Replica")
    return document(statements)


def inventory_read_policy(log_bucket_arn: str, prefix: str) -> Document:
    """The Command Centre reads the S3 Inventory (erasure at scale), nothing else of the log bucket."""
    return document(
        [
            {
                "Sid": "ListInventory",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": log_bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": f"{prefix}/*"}},
            },
            {
                "Sid": "ReadInventory",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{log_bucket_arn}/{prefix}/*",
            },
        ]
    )


def assume_role_policy(principal_arns: list[str]) -> Document:
    """Who may assume a tier role: the configured principals."""
    return document(
        [
            {
                "Sid": "AssumeByConfiguredPrincipals",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arns if len(principal_arns) > 1 else principal_arns[0]},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def roles_anywhere_trust_policy(trust_anchor_arn: str) -> Document:
    """The city role: assumed only by IAM Roles Anywhere, for a certificate of this trust anchor
    (IAM Roles Anywhere User Guide, "Trust policy": sts:TagSession carries the certificate's
    attributes as principal tags, sts:SetSourceIdentity its subject; aws:SourceArn is the anchor)."""
    return document(
        [
            {
                "Sid": "RolesAnywhereForThisTrustAnchorOnly",
                "Effect": "Allow",
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Condition": {"ArnEquals": {"aws:SourceArn": trust_anchor_arn}},
            }
        ]
    )


def replication_trust_policy(account_id: str, source_bucket_arn: str) -> Document:
    """S3 may assume the replication role, only for this account's source bucket (confused-deputy guard)."""
    return document(
        [
            {
                "Sid": "S3ReplicatesThisBucketOnly",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                },
            }
        ]
    )


def replication_policy(source: StoreTarget, replica: StoreTarget, object_lock: bool) -> Document:
    """Least privilege for S3 replication of KMS-encrypted, tagged objects without delete markers.

    Follows the S3 User Guide, "Setting up permissions for live replication" and "Replicating
    encrypted objects": read versions (and their retention under Object Lock) from the source,
    decrypt with the source key and encrypt with the replica key, each only through S3. Both
    buckets use S3 Bucket Keys, whose encryption context is the bucket ARN, not the object ARN.
    """
    read_actions = [
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
    ]
    if object_lock:
        read_actions += ["s3:GetObjectRetention", "s3:GetObjectLegalHold"]
    return document(
        [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": source.bucket_arn,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": read_actions,
                "Resource": objects_arn(source.bucket_arn),
            },
            {
                # No s3:ReplicateDelete: delete markers are not replicated, so a deletion in the
                # primary (mistaken or malicious) never reaches the DR copy.
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
                "Resource": objects_arn(replica.bucket_arn),
            },
            {
                "Sid": "DecryptSourceThroughS3",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": source.key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": s3_service(source.region)},
                    "StringLike": {
                        "kms:EncryptionContext:aws:s3:arn": [source.bucket_arn, objects_arn(source.bucket_arn)]
                    },
                },
            },
            {
                # GenerateDataKey: the replica bucket uses an S3 Bucket Key.
                "Sid": "EncryptReplicasThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": replica.key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": s3_service(replica.region)},
                    "StringLike": {
                        "kms:EncryptionContext:aws:s3:arn": [replica.bucket_arn, objects_arn(replica.bucket_arn)]
                    },
                },
            },
        ]
    )


#: Key administration that would make every object unreadable or the key unmanageable.
KEY_ADMINISTRATION_ACTIONS = (
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:DeleteImportedKeyMaterial",
)


def _account_administers_key(account_root_arn: str) -> Statement:
    # Without this statement a key becomes unmanageable (KMS Developer Guide, "Default key policy").
    return {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn},
        "Action": "kms:*",
        "Resource": "*",
    }


def _key_administration(administrator_patterns: tuple[str, ...]) -> list[Statement]:
    """With patterns, only those principals may delete, disable or re-police a key."""
    if not administrator_patterns:
        return []
    return [
        {
            "Sid": Sid.KEY_ADMINISTRATION,
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": list(KEY_ADMINISTRATION_ACTIONS),
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": list(administrator_patterns)}},
        }
    ]


def key_policy(account_root_arn: str, region: str, administrator_patterns: tuple[str, ...] = ()) -> Document:
    """A store key's policy: the account administers it through IAM, and nobody uses it for
    data except through S3 in its own region. Constant size whatever the number of cities.

    With ``administrator_patterns``, only those principals (and the account root, which the
    caller includes so the key can always be recovered) may delete, disable or re-police the
    key: without the root a wrong list would leave a key only AWS Support can restore (KMS
    Developer Guide, "Default key policy": "the key becomes unmanageable").
    """
    statements: list[Statement] = [
        _account_administers_key(account_root_arn),
        {
            "Sid": "DenyDataUseOutsideS3",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"kms:ViaService": s3_service(region)}},
        },
    ]
    return document(statements + _key_administration(administrator_patterns))


# --- registration: the bucket's object events, queued for the receiver ------------------------

#: What the receiver does with the queue: long-poll, acknowledge (delete), extend a message's
#: visibility while it works, read the queue's depth. Nothing else: it never sends or purges.
RECEIVER_QUEUE_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
#: What the receiver reads of an object: HeadObject needs s3:GetObject (S3 has no metadata-only
#: permission), tags need s3:GetObjectTagging. Without kms:Decrypt on the store's key it cannot read
#: an object's bytes: only their metadata, which HeadObject returns without the key.
RECEIVER_OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging")


def sqs_service(region: str) -> str:
    """The ``kms:ViaService`` value of SQS calling KMS on a caller's behalf in ``region``."""
    return f"sqs.{region}.amazonaws.com"


def queue_policy(queue_arn: str, bucket_arn: str, account_id: str) -> Document:
    """Only S3, for this bucket in this account, may send; nobody over plain HTTP (SQS Developer
    Guide, "Amazon SQS queue policy for Amazon S3 event notifications": aws:SourceArn and
    aws:SourceAccount keep another bucket, or another account's bucket of that name, out)."""
    return document(
        [
            {
                "Sid": "S3SendsThisBucketsEvents",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
            {
                "Sid": Sid.INSECURE_TRANSPORT,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def queue_key_policy(
    account_root_arn: str, bucket_arn: str, account_id: str, administrator_patterns: tuple[str, ...] = ()
) -> Document:
    """The queue key's policy: the account administers it through IAM (the receiver's decrypt is
    granted there, through SQS), and S3 may encrypt this bucket's events with it. Without the S3
    statement S3 cannot deliver to the encrypted queue (S3 User Guide, "Configuring event
    notifications for an encrypted queue")."""
    statements: list[Statement] = [
        _account_administers_key(account_root_arn),
        {
            "Sid": "S3EncryptsThisBucketsEvents",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:SourceArn": bucket_arn},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        },
    ]
    return document(statements + _key_administration(administrator_patterns))


def receiver_policy(
    queue_arn: str, dead_letter_queue_arn: str, queue_key_arn: str, bucket_arn: str, region: str
) -> Document:
    """The receiver: its queue's messages, decrypted through SQS; the dead-letter queue, to move a
    message it gives up on there with its reason; and the objects' metadata and tags."""
    return document(
        [
            {
                "Sid": "ReceiveTheBucketsEvents",
                "Effect": "Allow",
                "Action": list(RECEIVER_QUEUE_ACTIONS),
                "Resource": queue_arn,
            },
            {
                "Sid": "DeadLetterWithItsReason",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": dead_letter_queue_arn,
            },
            {
                # Decrypt to receive; GenerateDataKey to send the dead letter (SQS encrypts it).
                "Sid": "UseTheQueueKeyThroughSqs",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": queue_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": sqs_service(region)}},
            },
            {
                "Sid": "ReadObjectMetadataAndTags",
                "Effect": "Allow",
                "Action": list(RECEIVER_OBJECT_ACTIONS),
                "Resource": objects_arn(bucket_arn),
            },
        ]
    )


#: AWS size limits of the policy documents the program writes, in characters of the compact
#: JSON (IAM does not count whitespace). IAM User Guide, "IAM and AWS STS quotas"; S3 User
#: Guide, "Bucket policies" (20 KB); KMS Developer Guide, "Key policies" (32 KB).
POLICY_SIZE_LIMITS: dict[str, int] = {
    "aws:s3/bucketPolicy:BucketPolicy": 20_480,
    "aws:iam/groupPolicy:GroupPolicy": 5_120,
    "aws:iam/rolePolicy:RolePolicy": 10_240,
    "aws:iam/policy:Policy": 6_144,
    "aws:kms/key:Key": 32_768,
    "aws:sqs/queuePolicy:QueuePolicy": 8_192,
}


def compact_size(policy_json: str) -> int:
    """A policy's size as AWS counts it (no insignificant whitespace)."""
    return len(json.dumps(json.loads(policy_json), separators=(",", ":")))
