"""The contract on AWS: S3 buckets, their configuration resources, KMS keys and IAM policies."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .catalogue import ARCHIVE_AFTER_DAYS, LABEL_STATUS, LABELS, LEARNING_BUCKET_SIDS, TIERS, UNSURE_EXPIRY_DAYS
from .graph import Graph
from .shared import as_list, policy_document, resource_policy, stack_policy
from .tokens import (
    BUCKET,
    BUCKET_NOTIFICATION,
    BUCKET_POLICY,
    ENCRYPTION,
    GROUP_POLICY,
    KMS_KEY,
    LIFECYCLE,
    MANAGED_POLICY,
    PUBLIC_ACCESS_BLOCK,
    REPLICATION,
    ROLE,
    ROLE_POLICY,
    SQS_QUEUE,
    SQS_QUEUE_POLICY,
    VERSIONING,
)

#: Tag actions that only ever change a stored object's tags: no tier may hold them.
TAGGING = (
    "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
)


#: Granted only as the tag part of an upload: every Allow of it must condition the request's tags.
UPLOAD_TAGGING = "s3:PutObjectTagging"


READ_LIST = ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetObjectTagging")


DELETE = ("s3:DeleteObject", "s3:DeleteObjectVersion")


WRITE = ("s3:PutObject", "s3:RestoreObject", "s3:PutObjectAcl", "s3:PutObjectRetention", "s3:PutObjectLegalHold")


def _allowed_actions(document: Mapping[str, Any]) -> list[str]:
    return [
        a for s in document.get("Statement", []) if s.get("Effect") == "Allow" for a in as_list(s.get("Action", []))
    ]


def _unconditional_tagging(document: Mapping[str, Any]) -> list[str]:
    """Sids of Allows that grant ``s3:PutObjectTagging`` without a condition on the request's
    tags: such a grant lets a caller tag what it likes, not only its own new upload."""
    found = []
    for statement in document.get("Statement", []):
        actions = as_list(statement.get("Action", []))
        if statement.get("Effect") != "Allow" or not any(
            fnmatch.fnmatchcase(UPLOAD_TAGGING.lower(), a.lower()) for a in actions
        ):
            continue
        keys = [key for operator in (statement.get("Condition") or {}).values() for key in operator]
        if not any(key.startswith("s3:RequestObjectTag/") for key in keys):
            found.append(str(statement.get("Sid", "?")))
    return found


def _grants(document: Mapping[str, Any], action: str) -> bool:
    """Whether an Allow of ``document`` covers ``action`` (IAM's case-insensitive wildcards)."""
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in _allowed_actions(document))


def kms_key_rotates(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == KMS_KEY and args.props.get("enableKeyRotation") is not True:
        report("the KMS key does not rotate (enableKeyRotation must be true)", args.urn)


def public_access_block_complete(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != PUBLIC_ACCESS_BLOCK:
        return
    off = [
        k
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if args.props.get(k) is not True
    ]
    if off:
        report(f"public-access block leaves {', '.join(off)} off", args.urn)


def lifecycle_follows_contract(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """On a bucket with label rules (the learning bucket and its replica): `changed` never
    expires, `unsure` expires within the contract's UNSURE_EXPIRY_DAYS, `correct` is archived
    within ARCHIVE_AFTER_DAYS and expires, and versions and incomplete uploads are cleaned for
    every object."""
    if args.resource_type != LIFECYCLE:
        return
    rules = list(args.props.get("rules") or [])
    by_label = {
        r["filter"]["tag"]["value"]: r
        for r in rules
        if (r.get("filter") or {}).get("tag", {}).get("key") == LABEL_STATUS
    }
    if not by_label:
        return  # not a learning-image bucket (e.g. the access-log bucket)
    changed, unsure, correct = (by_label.get(LABELS[label]) for label in ("CHANGED", "UNSURE", "CORRECT"))
    if changed is None or changed.get("expiration"):
        report("`changed` objects must be kept forever: a rule for them without expiration is required", args.urn)
    if (
        unsure is None
        or not (unsure.get("expiration") or {}).get("days")
        or unsure["expiration"]["days"] > UNSURE_EXPIRY_DAYS
    ):
        report(f"`unsure` objects must expire within {UNSURE_EXPIRY_DAYS} days", args.urn)
    if correct is None or not (correct.get("expiration") or {}).get("days"):
        report("`correct` objects must expire at their retention period", args.urn)
    for label, rule in ((LABELS["CORRECT"], correct), (LABELS["CHANGED"], changed)):
        transitions = (rule or {}).get("transitions") or []
        if not transitions or transitions[0].get("days", 0) > ARCHIVE_AFTER_DAYS:
            report(f"`{label}` objects must be archived within {ARCHIVE_AFTER_DAYS} days", args.urn)
    housekeeping = [r for r in rules if not r.get("filter") or not r["filter"].get("tag")]
    if not any(r.get("noncurrentVersionExpiration") and r.get("abortIncompleteMultipartUpload") for r in housekeeping):
        report("an unfiltered rule must expire noncurrent versions and abort incomplete multipart uploads", args.urn)


def city_policy_upload_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """IAM group policies are the city tier's (the program's only group)."""
    if args.resource_type != GROUP_POLICY:
        return
    document = policy_document(args.props["policy"])
    granted = [a for a in (*READ_LIST, *DELETE, *TAGGING) if _grants(document, a)]
    if granted:
        report(f"the city tier is upload-only, but its policy grants {', '.join(granted)}", args.urn)
    if loose := _unconditional_tagging(document):
        report(f"statements {', '.join(loose)} grant s3:PutObjectTagging without conditions on the tags", args.urn)


def no_wildcard_s3_grants(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (GROUP_POLICY, ROLE_POLICY, MANAGED_POLICY):
        return
    for statement in policy_document(args.props["policy"]).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = as_list(statement.get("Action", []))
        if any(a in ("*", "s3:*") for a in actions):
            report(
                f"statement {statement.get('Sid', '?')} allows {actions}: grant the contract's actions only", args.urn
            )
        if any(a.startswith("s3:") for a in actions) and "*" in as_list(statement.get("Resource", [])):
            report(f"statement {statement.get('Sid', '?')} grants S3 actions on every resource", args.urn)


def every_bucket_has_public_access_block(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(BUCKET):
        if not graph.attached(bucket, PUBLIC_ACCESS_BLOCK):
            report("the bucket has no public-access block resource", bucket.urn)


def every_bucket_has_one_bucket_policy(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(BUCKET):
        count = len(graph.attached(bucket, BUCKET_POLICY))
        if count != 1:
            report(f"the bucket has {count} bucket policies; its guards need exactly one", bucket.urn)


def image_buckets_encrypted_with_customer_key(args: StackValidationArgs, report: ReportViolation) -> None:
    """Image buckets: SSE-KMS with a key and the bucket key. Every bucket: SSE-C blocked. (The
    access-log bucket is SSE-S3: S3 cannot deliver logs into an SSE-KMS bucket.)"""
    graph = Graph(args.resources)
    logs = graph.log_buckets()
    for bucket in graph.of(BUCKET):
        configs = graph.attached(bucket, ENCRYPTION)
        rules = [rule for config in configs for rule in config.props.get("rules") or []]
        if not rules:
            report("the bucket has no default-encryption configuration", bucket.urn)
            continue
        if any("SSE-C" not in (rule.get("blockedEncryptionTypes") or []) for rule in rules):
            report("SSE-C uploads are not blocked (blockedEncryptionTypes must include SSE-C)", bucket.urn)
        if bucket.urn in logs:
            continue
        for rule in rules:
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            if (
                default.get("sseAlgorithm") != "aws:kms"
                or not default.get("kmsMasterKeyId")
                or rule.get("bucketKeyEnabled") is not True
            ):
                report("default encryption must be SSE-KMS with the stack's key and the S3 Bucket Key", bucket.urn)


def every_bucket_versioned(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(BUCKET):
        versioning = graph.attached(bucket, VERSIONING)
        if not any((v.props.get("versioningConfiguration") or {}).get("status") == "Enabled" for v in versioning):
            report("the bucket is not versioned", bucket.urn)


def image_buckets_have_contract_lifecycle(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.image_buckets():
        if not graph.attached(bucket, LIFECYCLE):
            report("the bucket has no lifecycle configuration (the contract's periods)", bucket.urn)


def learning_bucket_policy_carries_every_guard(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    # From the rule catalogue, never from the program's builders: a builder's bug must fail here.
    expected = LEARNING_BUCKET_SIDS
    for bucket in graph.learning_buckets():
        for policy in graph.attached(bucket, BUCKET_POLICY):
            statements = policy_document(policy.props["policy"]).get("Statement", [])
            present = {s.get("Sid") for s in statements if s.get("Effect") == "Deny"}
            missing = sorted(expected - present)
            if missing:
                report(f"the learning bucket's policy lacks the guards {', '.join(missing)}", policy.urn)


def tier_roles_least_privilege(args: StackValidationArgs, report: ReportViolation) -> None:
    """Training: no write, delete or tagging. Command Centre: no tagging. City (a role where cities
    authenticate with certificates): upload only, as the city group's policy. (Roles carry their
    tier as a tag.)"""
    graph = Graph(args.resources)
    roles: dict[str, str] = {r.urn: str((r.props.get("tags") or {}).get("tier")) for r in graph.of(ROLE)}
    forbidden = {
        TIERS["TRAINING"]: (*WRITE, *DELETE, *TAGGING, UPLOAD_TAGGING),
        TIERS["COMMAND_CENTRE"]: TAGGING,
        TIERS["CITY"]: (*READ_LIST, *DELETE, *TAGGING),
    }
    for policy in graph.of(ROLE_POLICY):
        tiers = {roles.get(urn, "") for urn in Graph.targets(policy, "role")}
        document = policy_document(policy.props["policy"])
        for tier in tiers & forbidden.keys():
            granted = [a for a in forbidden[tier] if _grants(document, a)]
            if granted:
                report(f"the {tier} tier must not have {', '.join(granted)}", policy.urn)
            if loose := _unconditional_tagging(document):
                report(
                    f"statements {', '.join(loose)} grant s3:PutObjectTagging without conditions on the tags",
                    policy.urn,
                )


def replication_where_required(args: StackValidationArgs, report: ReportViolation) -> None:
    if not args.get_config().get("required"):
        return
    graph = Graph(args.resources)
    configs = graph.of(REPLICATION)
    if not configs:
        for bucket in graph.learning_buckets():
            report("this stack must replicate the learning bucket (policy config `required: true`)", bucket.urn)
    for config in configs:
        for rule in config.props.get("rules") or []:
            if (rule.get("deleteMarkerReplication") or {}).get("status") != "Disabled":
                report("delete markers must not replicate (a deletion must not reach the DR copy)", config.urn)
            if not ((rule.get("destination") or {}).get("encryptionConfiguration") or {}).get("replicaKmsKeyId"):
                report("replicas must be encrypted with the replica's KMS key", config.urn)


# --- registration: the object events' queue ----------------------------------------------------


def sqs_queues_encrypted_with_customer_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The events name every object and its bucket: encrypted at rest with a key the account owns."""
    if args.resource_type != SQS_QUEUE:
        return
    key = str(args.props.get("kmsMasterKeyId") or "")
    if not key or key.startswith("alias/aws/"):
        report("the queue is not encrypted with a customer-managed KMS key (kmsMasterKeyId)", args.urn)


def sqs_sender_scoped_to_the_bucket(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Only S3, for one bucket of one account, may send; nobody over plain HTTP."""
    if args.resource_type != SQS_QUEUE_POLICY:
        return
    statements = policy_document(args.props["policy"]).get("Statement", [])
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        condition = statement.get("Condition") or {}
        keys = {key for operator in condition.values() for key in operator}
        if statement.get("Principal") != {"Service": "s3.amazonaws.com"}:
            report(f"statement {statement.get('Sid', '?')} lets another principal than S3 use the queue", args.urn)
        elif not {"aws:SourceArn", "aws:SourceAccount"} <= keys:
            report(
                f"statement {statement.get('Sid', '?')} lets S3 send for any bucket: condition it on aws:SourceArn "
                "and aws:SourceAccount",
                args.urn,
            )
    insecure = [
        s
        for s in statements
        if s.get("Effect") == "Deny"
        and (s.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    if not insecure:
        report("the queue policy does not refuse requests over plain HTTP (aws:SecureTransport)", args.urn)


def event_queues_have_dead_letter_queue(args: StackValidationArgs, report: ReportViolation) -> None:
    """A bucket's event queue moves what keeps failing aside, where an alarm sees it."""
    graph = Graph(args.resources)
    for notification in graph.of(BUCKET_NOTIFICATION):
        for queue in graph.of(SQS_QUEUE):
            if queue.urn not in Graph.targets(notification, "queues"):
                continue
            redrive = policy_document(queue.props.get("redrivePolicy") or "{}")
            if not redrive.get("deadLetterTargetArn") or not redrive.get("maxReceiveCount"):
                report("the bucket's event queue has no dead-letter queue (redrivePolicy)", queue.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "kms-keys-rotate", "Every KMS key rotates.", "Set enable_key_rotation=True on the key.", kms_key_rotates
    ),
    resource_policy(
        "s3-public-access-block-complete",
        "A public-access block turns on all four blocks.",
        "Set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to True.",
        public_access_block_complete,
    ),
    resource_policy(
        "s3-lifecycle-follows-contract",
        f"Label lifecycle rules follow the contract: changed kept, unsure within {UNSURE_EXPIRY_DAYS} days, "
        "correct archived and expired.",
        f"Expire unsure within {UNSURE_EXPIRY_DAYS} days, archive within {ARCHIVE_AFTER_DAYS}, never expire changed "
        "(learning_images.contract).",
        lifecycle_follows_contract,
    ),
    resource_policy(
        "iam-city-tier-upload-only",
        "The city tier's group policy grants no read, list, delete or tagging.",
        "Grant the city group only create-only s3:PutObject (learning_images_infra.aws.iam.tier_policy(CITY, ...)).",
        city_policy_upload_only,
    ),
    resource_policy(
        "iam-no-wildcard-s3-grants",
        "No IAM policy allows s3:* or *, or S3 actions on every resource.",
        "Name the contract's actions and the store's ARNs (learning_images_infra.aws.iam.grant).",
        no_wildcard_s3_grants,
    ),
    stack_policy(
        "s3-every-bucket-has-public-access-block",
        "Every bucket has a public-access block resource.",
        "Declare an aws.s3.BucketPublicAccessBlock for the bucket "
        "(learning_images_infra.aws.bucket.hardened_bucket does).",
        every_bucket_has_public_access_block,
    ),
    stack_policy(
        "s3-every-bucket-has-one-bucket-policy",
        "Every bucket has exactly one bucket policy (its guards merged).",
        "Attach one aws.s3.BucketPolicy built by learning_images_infra.aws.guards; emulator stacks never target AWS.",
        every_bucket_has_one_bucket_policy,
    ),
    stack_policy(
        "s3-buckets-encrypted-with-customer-key",
        "Image buckets use SSE-KMS with a customer key and the bucket key; every bucket blocks SSE-C.",
        "Use learning_images_infra.aws.bucket.hardened_bucket with the stack's key.",
        image_buckets_encrypted_with_customer_key,
    ),
    stack_policy(
        "s3-every-bucket-versioned",
        "Every bucket is versioned: the learning bucket, its replica and the access-log bucket.",
        "Declare aws.s3.BucketVersioning with status Enabled.",
        every_bucket_versioned,
    ),
    stack_policy(
        "s3-image-buckets-have-lifecycle",
        "The learning bucket and its replica carry the contract's lifecycle.",
        "Declare learning_images_infra.aws.lifecycle.lifecycle_configuration for the bucket.",
        image_buckets_have_contract_lifecycle,
    ),
    stack_policy(
        "s3-learning-bucket-policy-guards",
        "The learning bucket's policy carries every contract guard, by stable Sid.",
        "Build the policy with learning_images_infra.aws.guards.learning_bucket_policy.",
        learning_bucket_policy_carries_every_guard,
    ),
    stack_policy(
        "iam-tier-roles-least-privilege",
        "Training: no write, delete or tagging. Command Centre: no tag rewrite; upload tagging only conditioned. "
        "City role (certificates): upload only.",
        "Grant tiers through learning_images_infra.aws.iam.grant with the contract's tiers.",
        tier_roles_least_privilege,
    ),
    stack_policy(
        "s3-replication-where-required",
        "Where the policy config requires it, the learning bucket replicates, KMS-encrypted, without delete markers.",
        "Set learning-images:replication true and a replicaRegion for this stack.",
        replication_where_required,
        config_schema=PolicyConfigSchema(properties={"required": {"type": "boolean", "default": False}}),
    ),
    resource_policy(
        "sqs-queues-encrypted-with-customer-key",
        "Every SQS queue is encrypted with a customer-managed KMS key.",
        "Set kms_master_key_id to the store's registration key (learning_images_infra.aws.registration).",
        sqs_queues_encrypted_with_customer_key,
    ),
    resource_policy(
        "sqs-sender-scoped-to-bucket",
        "Queue policies let only S3 send, for one bucket of one account, and refuse plain HTTP.",
        "Build the policy with learning_images_infra.aws.iam.queue_policy.",
        sqs_sender_scoped_to_the_bucket,
    ),
    stack_policy(
        "s3-event-queues-have-dead-letter-queue",
        "Every queue a bucket notifies has a dead-letter queue.",
        "Give the queue a redrive_policy to a dead-letter queue (learning_images_infra.aws.registration).",
        event_queues_have_dead_letter_queue,
    ),
]
