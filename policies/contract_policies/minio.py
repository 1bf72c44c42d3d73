"""The contract on a self-hosted MinIO server: a private, locked, encrypted bucket, a lifecycle by
label, and every tier's policy carrying the guards.

MinIO authorises a signed request by the caller's own policies alone (its bucket policy binds
anonymous requests only), so the guards a preview must keep are Denies in each IamPolicy.
"""

from __future__ import annotations

import re

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .catalogue import (
    LABEL_STATUS,
    LABELS,
    MINIO_EVENT_NAMES,
    MINIO_EVENT_TARGET,
    MINIO_EVERY_TIER_SIDS,
    UNSURE_EXPIRY_DAYS,
)
from .graph import Graph
from .shared import as_list, policy_document, resource_policy, stack_policy
from .tokens import (
    MINIO_BUCKET,
    MINIO_BUCKET_POLICY,
    MINIO_ENCRYPTION,
    MINIO_LIFECYCLE,
    MINIO_NOTIFICATION,
    MINIO_POLICY,
    MINIO_VERSIONING,
)

#: pulumi-minio's ILM expiration: "<n>d".
_DAYS = re.compile(r"(\d+)d")


def minio_bucket_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == MINIO_BUCKET and args.props.get("acl", "private") != "private":
        report(f"the bucket's ACL is {args.props.get('acl')!r}: only `private` keeps it off the public", args.urn)
    if args.resource_type == MINIO_BUCKET_POLICY:
        report("a MinIO bucket policy only ever grants anonymous access: declare none", args.urn)


def minio_bucket_object_locked(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(MINIO_BUCKET):
        if bucket.props.get("objectLocking") is not True:
            report("the bucket is created without Object Lock (it can only be turned on at creation)", bucket.urn)
        versioning = graph.attached(bucket, MINIO_VERSIONING)
        if not any((v.props.get("versioningConfiguration") or {}).get("status") == "Enabled" for v in versioning):
            report("the bucket is not versioned: a deletion or overwrite would lose the bytes", bucket.urn)


def minio_bucket_encrypted_with_kms(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(MINIO_BUCKET):
        encryption = graph.attached(bucket, MINIO_ENCRYPTION)
        if not any(e.props.get("encryptionType") == "aws:kms" and e.props.get("kmsKeyId") for e in encryption):
            report("the bucket has no default SSE-KMS encryption with a key of its own", bucket.urn)


def _days(rule: dict[str, object]) -> int | None:
    found = _DAYS.fullmatch(str(rule.get("expiration") or ""))
    return int(found.group(1)) if found else None


def minio_lifecycle_follows_contract(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(MINIO_BUCKET):
        policies = graph.attached(bucket, MINIO_LIFECYCLE)
        if not policies:
            report("the bucket has no lifecycle (ILM) policy", bucket.urn)
        for ilm in policies:
            rules = [r for r in ilm.props.get("rules") or [] if r.get("status", "Enabled") == "Enabled"]
            by_label = {(r.get("tags") or {}).get(LABEL_STATUS): r for r in rules}
            unsure = by_label.get(LABELS["UNSURE"])
            days = _days(unsure) if unsure else None
            if days is None or days > UNSURE_EXPIRY_DAYS:
                report(f"`unsure` objects must expire within {UNSURE_EXPIRY_DAYS} days, found {days}", ilm.urn)
            changed = by_label.get(LABELS["CHANGED"])
            if changed is not None and changed.get("expiration"):
                report("`changed` objects must be kept, not expired", ilm.urn)
            if any(not r.get("tags") and r.get("expiration") for r in rules):
                report("a lifecycle rule without a tag filter would expire every object", ilm.urn)


def minio_tier_policies_carry_guards(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MINIO_POLICY:
        return
    statements = policy_document(args.props.get("policy") or "{}").get("Statement", [])
    denies = [s for s in statements if s.get("Effect") == "Deny"]
    if missing := sorted(MINIO_EVERY_TIER_SIDS - {s.get("Sid") for s in denies}):
        report(f"the tier's policy lacks the contract's guards: {missing}", args.urn)
    if not any("NotAction" in s for s in denies):
        report(
            "the tier's policy does not deny everything beyond the tier's operations (a Deny of NotAction)", args.urn
        )
    for statement in statements:
        if statement.get("Effect") == "Allow" and any("*" in a for a in as_list(statement.get("Action", []))):
            report(f"a wildcard grant: {statement.get('Action')}", args.urn)


def minio_events_reach_the_receiver(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MINIO_NOTIFICATION:
        return
    for queue in args.props.get("queues") or []:
        arn, events = str(queue.get("queueArn", "")), set(queue.get("events") or [])
        if not MINIO_EVENT_TARGET.fullmatch(arn):
            report(f"notifies {arn!r}, not a PostgreSQL target (the receiver reads that target's table)", args.urn)
        if missing := sorted(MINIO_EVENT_NAMES - events):
            report(f"the receiver would miss objects: events {sorted(events)} lack {missing}", args.urn)
        if queue.get("filterPrefix") or queue.get("filterSuffix"):
            report("a prefix or suffix filter would keep objects from the receiver", args.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "minio-bucket-private",
        "MinIO buckets are private and carry no bucket policy (on MinIO it only grants anonymous access).",
        "Create the bucket with acl='private' and remove any S3BucketPolicy.",
        minio_bucket_private,
    ),
    stack_policy(
        "minio-bucket-object-locked",
        "Every MinIO bucket is created with Object Lock and versioned.",
        "Create the bucket with object_locking=True and an S3BucketVersioning with status Enabled.",
        minio_bucket_object_locked,
    ),
    stack_policy(
        "minio-bucket-encrypted-with-kms",
        "Every MinIO bucket is encrypted by default with SSE-KMS and a key of its own.",
        "Declare an S3BucketServerSideEncryption with encryption_type='aws:kms' and the store's KmsKey.",
        minio_bucket_encrypted_with_kms,
    ),
    stack_policy(
        "minio-lifecycle-follows-contract",
        "Every MinIO bucket's lifecycle expires `unsure` in time, keeps `changed`, and filters every expiry by tag.",
        "Build the IlmPolicy's rules from the contract (learning_images_infra.minio.store.lifecycle_rules).",
        minio_lifecycle_follows_contract,
    ),
    resource_policy(
        "minio-tier-policies-carry-guards",
        "Every MinIO tier's policy carries the contract's guards and grants no wildcard action.",
        "Build tier policies with learning_images_infra.minio.policies.tier_policy.",
        minio_tier_policies_carry_guards,
    ),
    resource_policy(
        "minio-events-reach-the-receiver",
        "A MinIO bucket notification sends every object created or removed, unfiltered, to a PostgreSQL target.",
        "Build it as learning_images_infra.minio.store does, with minioEventTargetArn naming the server's target.",
        minio_events_reach_the_receiver,
    ),
]
