"""The contract on Backblaze B2, whose bucket and keys are the project's dynamic resources (one type,
``pulumi-python:dynamic:Resource``, told apart by their props): a governance lock the Command Centre
may bypass for GDPR, a lifecycle that never hides a live file, and keys that hold exactly one tier's
capabilities on the store's bucket."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
)

from .catalogue import B2_TIER_CAPABILITIES, GDPR_ERASURE_DAYS
from .shared import resource_policy
from .tokens import DYNAMIC


def _bucket(args: ResourceValidationArgs) -> bool:
    return args.resource_type == DYNAMIC and "lock_mode" in args.props


def _key(args: ResourceValidationArgs) -> bool:
    return args.resource_type == DYNAMIC and "key_name" in args.props


def b2_bucket_locked(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _bucket(args):
        return
    if args.props.get("lock_mode") != "governance":
        report(
            f"the bucket's default retention is {args.props.get('lock_mode')!r}: only governance lets the Command "
            "Centre erase (GDPR)",
            args.urn,
        )
    days: Any = args.props.get("lock_days")
    if not isinstance(days, int | float) or days < 1:
        report(f"the bucket's default retention lasts {days!r} days: at least one", args.urn)


def b2_lifecycle_follows_contract(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _bucket(args):
        return
    rules = args.props.get("lifecycle_rules") or []
    if any(r.get("daysFromUploadingToHiding") for r in rules):
        report("a lifecycle rule hides live files by age: B2 cannot read labels, and `changed` is kept", args.urn)
    hidden = [int(r.get("daysFromHidingToDeleting") or 0) for r in rules]
    if not any(0 < days <= GDPR_ERASURE_DAYS for days in hidden):
        report(f"hidden versions must be deleted within {GDPR_ERASURE_DAYS} days (GDPR erasure)", args.urn)


def b2_keys_bucket_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _key(args):
        return
    if not args.props.get("bucket_id"):
        report("the key is not scoped to a bucket: it reaches the whole account", args.urn)
    held = frozenset(args.props.get("capabilities") or [])
    if held not in B2_TIER_CAPABILITIES.values():
        report(f"the key's capabilities {sorted(held)} are no tier's: {B2_TIER_CAPABILITIES}", args.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "b2-bucket-locked",
        "The B2 bucket has a governance default retention of at least a day.",
        "Declare the B2Bucket with lock_mode='governance' and lock_days >= 1.",
        b2_bucket_locked,
    ),
    resource_policy(
        "b2-lifecycle-follows-contract",
        "A B2 bucket's lifecycle hides no live file and deletes hidden versions within GDPR's month.",
        "Build the lifecycle rules with learning_images_infra.b2.store.lifecycle_rules.",
        b2_lifecycle_follows_contract,
    ),
    resource_policy(
        "b2-keys-bucket-scoped",
        "Every B2 application key is scoped to a bucket and holds exactly one tier's capabilities.",
        "Create keys with learning_images.b2.capabilities(tier) and the store bucket's id.",
        b2_keys_bucket_scoped,
    ),
]
