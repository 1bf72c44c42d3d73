"""The contract on DigitalOcean Spaces: a private, versioned bucket whose lifecycle never expires a
live object (it cannot read labels), and keys that reach only their bucket."""

from __future__ import annotations

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
)

from .catalogue import GDPR_ERASURE_DAYS
from .shared import as_list, policy_document, resource_policy
from .tokens import SPACES_BUCKET, SPACES_BUCKET_POLICY, SPACES_KEY

#: The grants a key may hold: full access reaches every bucket of the account.
BUCKET_GRANTS = ("read", "readwrite")


def _public(principal: object) -> bool:
    if isinstance(principal, dict):
        return any("*" in as_list(value) for value in principal.values())
    return principal == "*"


def spaces_bucket_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == SPACES_BUCKET and args.props.get("acl", "private") != "private":
        report(f"the bucket's ACL is {args.props.get('acl')!r}: only `private` keeps it off the public", args.urn)
    if args.resource_type == SPACES_BUCKET_POLICY:
        statements = policy_document(args.props.get("policy") or "{}").get("Statement", [])
        if any(s.get("Effect") == "Allow" and _public(s.get("Principal")) for s in statements):
            report("the bucket policy allows everyone", args.urn)


def spaces_bucket_versioned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == SPACES_BUCKET and (args.props.get("versioning") or {}).get("enabled") is not True:
        report("the bucket is not versioned: a deletion or overwrite would lose the bytes at once", args.urn)


def spaces_lifecycle_follows_contract(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SPACES_BUCKET:
        return
    rules = [r for r in args.props.get("lifecycleRules") or [] if r.get("enabled")]
    if any(r.get("expiration") for r in rules):
        report(
            "a lifecycle rule expires live objects by age: Spaces cannot read labels, and `changed` is kept", args.urn
        )
    noncurrent = [int((r.get("noncurrentVersionExpiration") or {}).get("days") or 0) for r in rules]
    if not any(0 < days <= GDPR_ERASURE_DAYS for days in noncurrent):
        report(f"noncurrent versions must expire within {GDPR_ERASURE_DAYS} days (GDPR erasure)", args.urn)


def spaces_keys_bucket_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SPACES_KEY:
        return
    grants = args.props.get("grants") or []
    broad = [g for g in grants if g.get("permission") not in BUCKET_GRANTS or not g.get("bucket")]
    if broad or not grants:
        report(f"the key reaches beyond one bucket, or nothing: {broad or 'no grants'}", args.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "spaces-bucket-private",
        "Spaces buckets are private, and no bucket policy allows everyone.",
        "Create the bucket with acl='private' and remove any public Allow.",
        spaces_bucket_private,
    ),
    resource_policy(
        "spaces-bucket-versioned",
        "Every Spaces bucket is versioned.",
        "Declare the bucket with versioning={'enabled': True}.",
        spaces_bucket_versioned,
    ),
    resource_policy(
        "spaces-lifecycle-follows-contract",
        "A Spaces bucket's lifecycle expires no live object and its noncurrent versions within GDPR's month.",
        "Build the lifecycle rules with learning_images_infra.spaces.store.lifecycle_rules.",
        spaces_lifecycle_follows_contract,
    ),
    resource_policy(
        "spaces-keys-bucket-scoped",
        "Every Spaces key holds read or read-write grants on a named bucket, never full access.",
        "Grant `read` or `readwrite` on the store's bucket.",
        spaces_keys_bucket_scoped,
    ),
]
