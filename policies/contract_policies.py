"""The storage contract as CrossGuard policies: every preview that breaks it fails.

Importable on purpose: constructing ``PolicyPack`` starts the pack's server and blocks, so
``__main__.py`` only constructs the pack from :data:`POLICIES`, and the tests call these
validators directly over the program's mocked resource graph.

The policies check the resources the program really creates: pulumi-aws v7's split
``aws.s3.Bucket*`` resources (which Pulumi's published AWS policies still miss) and the R2
resources. Values unknown during preview raise the SDK's ``UnknownValueError`` when read, and
the analyzer skips the policy for that resource instead of failing it. Stack policies relate a
bucket's configuration resources to the bucket through ``property_dependencies`` (the bucket
name itself is unknown in a first preview).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

#: What the pack knows of the contract: generated from the project's contract and rule catalogue
#: (``make docs``; a test keeps it equal), shipped inside the pack so that the pack is
#: self-contained and judges resources whatever program made them.
CATALOGUE: dict[str, Any] = json.loads((Path(__file__).resolve().parent / "catalogue.json").read_text())
LABEL_STATUS: str = CATALOGUE["label_status_field"]
LABELS: dict[str, str] = CATALOGUE["labels"]  # CORRECT/CHANGED/UNSURE -> the label value
UNSURE_EXPIRY_DAYS: int = CATALOGUE["periods"]["unsure_expiry_days"]
ARCHIVE_AFTER_DAYS: int = CATALOGUE["periods"]["archive_after_days"]
TIERS: dict[str, str] = CATALOGUE["tiers"]  # TRAINING/COMMAND_CENTRE -> the tier tag value
LEARNING_BUCKET_SIDS: frozenset[str] = frozenset(CATALOGUE["learning_bucket_sids"])
WRITE_EXCEPT_REPLICATION_SID: str = CATALOGUE["replica_write_guard_sid"]

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
KMS_KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
R2_BUCKET = "cloudflare:index/r2Bucket:R2Bucket"
R2_MANAGED_DOMAIN = "cloudflare:index/r2ManagedDomain:R2ManagedDomain"
R2_CUSTOM_DOMAIN = "cloudflare:index/r2CustomDomain:R2CustomDomain"
R2_TOKENS = ("cloudflare:index/accountToken:AccountToken", "cloudflare:index/apiToken:ApiToken")
GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCS_KEY = "gcp:kms/cryptoKey:CryptoKey"
GCS_CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
GCS_GRANTS = ("gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding")
#: Each tier's Cloud Storage permissions (from the catalogue): a bucket grant holds exactly one set.
GCS_TIER_PERMISSIONS: dict[str, frozenset[str]] = {
    tier: frozenset(permissions) for tier, permissions in CATALOGUE["gcs_tier_permissions"].items()
}
GCS_CITY_TIER: str = CATALOGUE["gcs_city_tier"]
GDPR_ERASURE_DAYS: int = CATALOGUE["gdpr_erasure_days"]
GCS_MIN_SOFT_DELETE_DAYS: int = CATALOGUE["gcs_min_soft_delete_days"]
#: Cloud Storage's predefined dual-regions (Cloud Storage docs, "Bucket locations").
GCS_DUAL_REGIONS = frozenset({"ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"})
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
DAY_SECONDS = 86_400

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


def _policy_document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _allowed_actions(document: Mapping[str, Any]) -> list[str]:
    return [
        a for s in document.get("Statement", []) if s.get("Effect") == "Allow" for a in _as_list(s.get("Action", []))
    ]


def _unconditional_tagging(document: Mapping[str, Any]) -> list[str]:
    """Sids of Allows that grant ``s3:PutObjectTagging`` without a condition on the request's
    tags: such a grant lets a caller tag what it likes, not only its own new upload."""
    found = []
    for statement in document.get("Statement", []):
        actions = _as_list(statement.get("Action", []))
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


# --- resource policies ---------------------------------------------------------------------------


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
    document = _policy_document(args.props["policy"])
    granted = [a for a in (*READ_LIST, *DELETE, *TAGGING) if _grants(document, a)]
    if granted:
        report(f"the city tier is upload-only, but its policy grants {', '.join(granted)}", args.urn)
    if loose := _unconditional_tagging(document):
        report(f"statements {', '.join(loose)} grant s3:PutObjectTagging without conditions on the tags", args.urn)


def no_wildcard_s3_grants(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (GROUP_POLICY, ROLE_POLICY, MANAGED_POLICY):
        return
    for statement in _policy_document(args.props["policy"]).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        if any(a in ("*", "s3:*") for a in actions):
            report(
                f"statement {statement.get('Sid', '?')} allows {actions}: grant the contract's actions only", args.urn
            )
        if any(a.startswith("s3:") for a in actions) and "*" in _as_list(statement.get("Resource", [])):
            report(f"statement {statement.get('Sid', '?')} grants S3 actions on every resource", args.urn)


def r2_no_public_domain(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == R2_MANAGED_DOMAIN and args.props.get("enabled") is not False:
        report("the r2.dev domain would serve the bucket publicly: declare it with enabled=false", args.urn)
    if args.resource_type == R2_CUSTOM_DOMAIN:
        report("a custom domain would serve the bucket publicly", args.urn)


def r2_tokens_bucket_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in R2_TOKENS:
        return
    for policy in args.props.get("policies") or []:
        resources = _policy_document(policy.get("resources") or "{}")
        broad = [r for r in resources if not r.startswith("com.cloudflare.edge.r2.bucket.")]
        if broad or not resources:
            report(f"the token reaches beyond one R2 bucket: {broad or 'no resources'}", args.urn)


def gcs_bucket_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    if args.props.get("uniformBucketLevelAccess") is not True:
        report("uniform bucket-level access is off: ACLs could make objects public", args.urn)
    if args.props.get("publicAccessPrevention") != "enforced":
        report("public access prevention is not enforced: a grant to allUsers would publish the bucket", args.urn)


def gcs_no_public_members(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in GCS_GRANTS:
        return
    members = {args.props.get("member"), *(args.props.get("members") or [])}
    if public := sorted(m for m in members if m in PUBLIC_MEMBERS):
        report(f"the bucket is granted to {', '.join(public)}", args.urn)


def gcs_bucket_encrypted_with_customer_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    encryption = args.props.get("encryption") or {}
    if not encryption.get("defaultKmsKeyName"):
        report("the bucket has no customer-managed default key", args.urn)
    for other in ("googleManagedEncryptionEnforcementConfig", "customerSuppliedEncryptionEnforcementConfig"):
        if (encryption.get(other) or {}).get("restrictionMode") != "FullyRestricted":
            report(f"{other} is not FullyRestricted: new objects could use another key", args.urn)


def gcs_bucket_versioned_with_soft_delete(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    if (args.props.get("versioning") or {}).get("enabled") is not True:
        report("the bucket is not versioned: a deletion would be final", args.urn)
    seconds = (args.props.get("softDeletePolicy") or {}).get("retentionDurationSeconds")
    if seconds is None or not GCS_MIN_SOFT_DELETE_DAYS * DAY_SECONDS <= seconds <= GDPR_ERASURE_DAYS * DAY_SECONDS:
        report(
            f"soft delete must keep deletions {GCS_MIN_SOFT_DELETE_DAYS} to {GDPR_ERASURE_DAYS} days (GDPR), "
            f"not {seconds} s",
            args.urn,
        )
    if args.props.get("retentionPolicy"):
        report("a bucket retention policy could hold an image past GDPR erasure (and excludes versioning)", args.urn)


def gcs_bucket_dual_region(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    location = str(args.props.get("location") or "").upper()
    placement = (args.props.get("customPlacementConfig") or {}).get("dataLocations") or []
    if location not in GCS_DUAL_REGIONS and len(placement) != 2:
        report(f"{location or 'no location'} is not a dual-region: no second copy for disaster recovery", args.urn)


def gcs_lifecycle_follows_contract(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """What age can say of the contract: archive within a year, remove noncurrent versions, and
    never delete a live object by age (a `changed` image is kept forever)."""
    if args.resource_type != GCS_BUCKET:
        return
    rules = args.props.get("lifecycleRules") or []
    archive = [r for r in rules if (r.get("action") or {}).get("type") == "SetStorageClass"]
    if not any(0 < ((r.get("condition") or {}).get("age") or 0) <= ARCHIVE_AFTER_DAYS for r in archive):
        report(f"no rule archives objects within {ARCHIVE_AFTER_DAYS} days", args.urn)
    for rule in rules:
        condition = rule.get("condition") or {}
        if (rule.get("action") or {}).get("type") == "Delete" and condition.get("withState") != "ARCHIVED":
            report("a Delete rule reaches live objects: it would delete `changed` images", args.urn)
    noncurrent = [r for r in rules if (r.get("condition") or {}).get("daysSinceNoncurrentTime")]
    if not noncurrent:
        report("no rule removes noncurrent versions: erased images would stay", args.urn)


def gcs_kms_keys_rotate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_KEY:
        return
    period = str(args.props.get("rotationPeriod") or "")
    if not period.endswith("s") or not 0 < float(period[:-1] or 0) <= 365 * DAY_SECONDS:
        report("the key does not rotate at least yearly (rotationPeriod)", args.urn)


# --- stack policies --------------------------------------------------------------------------------


class Graph:
    """The stack's resources, and which configuration resource belongs to which bucket."""

    def __init__(self, resources: Iterable[PolicyResource]):
        self.resources = list(resources)

    def of(self, *types: str) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type in types]

    @staticmethod
    def targets(resource: PolicyResource, prop: str) -> set[str]:
        return {d.urn for d in resource.property_dependencies.get(prop, [])}

    def attached(self, bucket: PolicyResource, type_: str, prop: str = "bucket") -> list[PolicyResource]:
        return [r for r in self.of(type_) if bucket.urn in self.targets(r, prop)]

    def log_buckets(self) -> set[str]:
        return {urn for logging in self.of(LOGGING) for urn in self.targets(logging, "targetBucket")}

    def replica_buckets(self) -> set[str]:
        """Replication destinations, and buckets whose policy lets only replication write."""
        destinations = {urn for replication in self.of(REPLICATION) for urn in self.targets(replication, "rules")}
        write_only_by_replication = {
            urn
            for policy in self.of(BUCKET_POLICY)
            if any(
                s.get("Sid") == WRITE_EXCEPT_REPLICATION_SID
                for s in _policy_document(policy.props["policy"]).get("Statement", [])
            )
            for urn in self.targets(policy, "bucket")
        }
        return destinations | write_only_by_replication

    def image_buckets(self) -> list[PolicyResource]:
        logs = self.log_buckets()
        return [b for b in self.of(BUCKET) if b.urn not in logs]

    def learning_buckets(self) -> list[PolicyResource]:
        replicas = self.replica_buckets()
        return [b for b in self.image_buckets() if b.urn not in replicas]


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
            statements = _policy_document(policy.props["policy"]).get("Statement", [])
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
        document = _policy_document(policy.props["policy"])
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


def r2_bucket_not_public(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(R2_BUCKET):
        domains = [d for d in graph.of(R2_MANAGED_DOMAIN) if bucket.urn in Graph.targets(d, "bucketName")]
        if not domains:
            report("declare the bucket's r2.dev domain off (R2ManagedDomain enabled=false)", bucket.urn)


def gcs_tier_roles_least_privilege(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every grant on a bucket is of a custom role holding exactly one tier's permissions, and the
    city's (create only) carries an IAM Condition."""
    roles = {
        str(role.props.get("roleId")): frozenset(role.props.get("permissions") or [])
        for role in args.resources
        if role.resource_type == GCS_CUSTOM_ROLE
    }
    for grant in (r for r in args.resources if r.resource_type in GCS_GRANTS):
        role = str(grant.props.get("role") or "")
        if not role.startswith("projects/"):
            report(f"{role} is a predefined role: grant the contract tiers' custom roles only", grant.urn)
            continue
        permissions = roles.get(role.rsplit("/", 1)[-1])
        tiers = [tier for tier, held in GCS_TIER_PERMISSIONS.items() if held == permissions]
        if permissions is None or not tiers:
            report(f"{role} holds {sorted(permissions or [])}, which is no tier's permissions", grant.urn)
        elif tiers == [GCS_CITY_TIER] and not (grant.props.get("condition") or {}).get("expression"):
            report("a city grant carries no IAM Condition holding it to the contract's object names", grant.urn)


# --- the policies ----------------------------------------------------------------------------------


def _resource(name: str, description: str, remediation: str, validate: Callable[..., None]) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        remediation_steps=remediation,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def _stack(
    name: str, description: str, remediation: str, validate: Callable[..., None], **extra: Any
) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        remediation_steps=remediation,
        enforcement_level=EnforcementLevel.MANDATORY,
        **extra,
    )


POLICIES: list[Policy] = [
    _resource("kms-keys-rotate", "Every KMS key rotates.", "Set enable_key_rotation=True on the key.", kms_key_rotates),
    _resource(
        "s3-public-access-block-complete",
        "A public-access block turns on all four blocks.",
        "Set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to True.",
        public_access_block_complete,
    ),
    _resource(
        "s3-lifecycle-follows-contract",
        f"Label lifecycle rules follow the contract: changed kept, unsure within {UNSURE_EXPIRY_DAYS} days, "
        "correct archived and expired.",
        f"Expire unsure within {UNSURE_EXPIRY_DAYS} days, archive within {ARCHIVE_AFTER_DAYS}, never expire changed "
        "(learning_images.contract).",
        lifecycle_follows_contract,
    ),
    _resource(
        "iam-city-tier-upload-only",
        "The city tier's group policy grants no read, list, delete or tagging.",
        "Grant the city group only create-only s3:PutObject (learning_images_infra.aws.iam.tier_policy(CITY, ...)).",
        city_policy_upload_only,
    ),
    _resource(
        "iam-no-wildcard-s3-grants",
        "No IAM policy allows s3:* or *, or S3 actions on every resource.",
        "Name the contract's actions and the store's ARNs (learning_images_infra.aws.iam.grant).",
        no_wildcard_s3_grants,
    ),
    _resource(
        "r2-no-public-domain",
        "R2 buckets expose no public domain: r2.dev declared off, no custom domain.",
        "Declare R2ManagedDomain(enabled=False) and remove any R2CustomDomain.",
        r2_no_public_domain,
    ),
    _resource(
        "r2-tokens-bucket-scoped",
        "R2 tier tokens reach exactly their bucket.",
        "Scope each token policy to com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>.",
        r2_tokens_bucket_scoped,
    ),
    _resource(
        "gcs-bucket-not-public",
        "Cloud Storage buckets use uniform bucket-level access and enforce public access prevention.",
        "Set uniform_bucket_level_access=True and public_access_prevention='enforced'.",
        gcs_bucket_not_public,
    ),
    _resource(
        "gcs-no-public-members",
        "No bucket grant names allUsers or allAuthenticatedUsers.",
        "Grant the contract tiers' service accounts only.",
        gcs_no_public_members,
    ),
    _resource(
        "gcs-bucket-encrypted-with-customer-key",
        "Cloud Storage buckets default to a customer-managed key and refuse Google-managed and customer-supplied keys.",
        "Set encryption.default_kms_key_name and both other enforcement configs to FullyRestricted.",
        gcs_bucket_encrypted_with_customer_key,
    ),
    _resource(
        "gcs-bucket-versioned-with-soft-delete",
        f"Cloud Storage buckets are versioned, soft-delete for {GCS_MIN_SOFT_DELETE_DAYS} to {GDPR_ERASURE_DAYS} "
        "days, and carry no retention policy.",
        f"Enable versioning, set soft_delete_policy between {GCS_MIN_SOFT_DELETE_DAYS} and {GDPR_ERASURE_DAYS} "
        "days, remove retention_policy.",
        gcs_bucket_versioned_with_soft_delete,
    ),
    _resource(
        "gcs-bucket-dual-region",
        "Cloud Storage buckets are dual-region (their disaster-recovery copy).",
        "Set location to a dual-region such as EUR4 or NAM4 (learning-images:gcsLocation).",
        gcs_bucket_dual_region,
    ),
    _resource(
        "gcs-lifecycle-follows-contract",
        "Cloud Storage lifecycle archives within a year, removes noncurrent versions, and never deletes live objects.",
        "Archive by age, delete only noncurrent versions by age: label expiry is the retention job's on GCS.",
        gcs_lifecycle_follows_contract,
    ),
    _resource(
        "gcs-kms-keys-rotate",
        "Every Cloud KMS key rotates at least yearly.",
        "Set rotation_period on the CryptoKey (the store uses 90 days).",
        gcs_kms_keys_rotate,
    ),
    _stack(
        "gcs-tier-roles-least-privilege",
        "Bucket grants are custom roles holding exactly one tier's permissions; city grants carry a condition.",
        "Grant each tier's service account its custom role (learning_images_infra.gcs.access), "
        "cities with their condition.",
        gcs_tier_roles_least_privilege,
    ),
    _stack(
        "s3-every-bucket-has-public-access-block",
        "Every bucket has a public-access block resource.",
        "Declare an aws.s3.BucketPublicAccessBlock for the bucket "
        "(learning_images_infra.aws.bucket.hardened_bucket does).",
        every_bucket_has_public_access_block,
    ),
    _stack(
        "s3-every-bucket-has-one-bucket-policy",
        "Every bucket has exactly one bucket policy (its guards merged).",
        "Attach one aws.s3.BucketPolicy built by learning_images_infra.aws.guards; emulator stacks never target AWS.",
        every_bucket_has_one_bucket_policy,
    ),
    _stack(
        "s3-buckets-encrypted-with-customer-key",
        "Image buckets use SSE-KMS with a customer key and the bucket key; every bucket blocks SSE-C.",
        "Use learning_images_infra.aws.bucket.hardened_bucket with the stack's key.",
        image_buckets_encrypted_with_customer_key,
    ),
    _stack(
        "s3-every-bucket-versioned",
        "Every bucket is versioned: the learning bucket, its replica and the access-log bucket.",
        "Declare aws.s3.BucketVersioning with status Enabled.",
        every_bucket_versioned,
    ),
    _stack(
        "s3-image-buckets-have-lifecycle",
        "The learning bucket and its replica carry the contract's lifecycle.",
        "Declare learning_images_infra.aws.lifecycle.lifecycle_configuration for the bucket.",
        image_buckets_have_contract_lifecycle,
    ),
    _stack(
        "s3-learning-bucket-policy-guards",
        "The learning bucket's policy carries every contract guard, by stable Sid.",
        "Build the policy with learning_images_infra.aws.guards.learning_bucket_policy.",
        learning_bucket_policy_carries_every_guard,
    ),
    _stack(
        "iam-tier-roles-least-privilege",
        "Training: no write, delete or tagging. Command Centre: no tag rewrite; upload tagging only conditioned. "
        "City role (certificates): upload only.",
        "Grant tiers through learning_images_infra.aws.iam.grant with the contract's tiers.",
        tier_roles_least_privilege,
    ),
    _stack(
        "s3-replication-where-required",
        "Where the policy config requires it, the learning bucket replicates, KMS-encrypted, without delete markers.",
        "Set learning-images:replication true and a replicaRegion for this stack.",
        replication_where_required,
        config_schema=PolicyConfigSchema(properties={"required": {"type": "boolean", "default": False}}),
    ),
    _stack(
        "r2-bucket-not-public",
        "Every R2 bucket declares its r2.dev domain off.",
        "Declare cloudflare.R2ManagedDomain(enabled=False) for the bucket.",
        r2_bucket_not_public,
    ),
]
