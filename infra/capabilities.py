"""The capability matrix: each contract rule, how AWS and R2 hold it, and what covers R2's gaps.

Data, defined once: the README's matrix is generated from it (a test keeps them equal) and the
verification script reads it to report an R2 gap as GAP with this reason, never as PASS. Each
row names the verification checks that prove the rule. A check R2 cannot answer through its S3
API although the rule holds (encryption, HTTPS only) is SKIP with the reason in ``r2_unprobed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Enforcement(StrEnum):
    STORAGE = "enforced by the storage"
    CLIENT = "only by well-behaved clients"
    NONE = "not enforced"


@dataclass(frozen=True)
class Capability:
    rule: str
    checks: tuple[str, ...]
    aws: Enforcement
    aws_how: str
    r2: Enforcement
    r2_how: str
    #: What covers the gap on R2 (empty where R2 enforces the rule).
    mitigation: str = ""
    #: Checks of this rule that R2's S3 API cannot answer, with why (reported SKIP).
    r2_unprobed: dict[str, str] = field(default_factory=dict)


S, C, N = Enforcement.STORAGE, Enforcement.CLIENT, Enforcement.NONE
NO_TAGS = "R2 has no object tags API"
NO_VERSIONS = "R2 has no object versioning API"
MANAGED_KEYS = "R2 encrypts every object at rest with Cloudflare-managed keys: no key to read back"

CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        "no public access",
        ("config.public-access-block", "access.anonymous-read-refused", "access.anonymous-list-refused"),
        S,
        "all four public-access blocks, ACLs disabled, no Allow in any bucket policy",
        S,
        "buckets are private; the r2.dev domain is declared off and no custom domain is attached",
        r2_unprobed={
            "config.public-access-block": "R2 has no public-access-block API (its r2.dev domain is declared off)"
        },
    ),
    Capability(
        "encryption at rest",
        ("config.default-encryption", "upload.encrypted"),
        S,
        "SSE-KMS with a customer-managed, rotated key; other keys and SSE-C refused",
        S,
        "R2 encrypts every object with Cloudflare-managed keys (no customer key)",
        r2_unprobed={
            "config.default-encryption": MANAGED_KEYS,
            "upload.encrypted": MANAGED_KEYS,
        },
    ),
    Capability(
        "encryption in transit",
        ("access.plain-http-refused",),
        S,
        "bucket policy denies requests without TLS or below TLS 1.2",
        S,
        "the S3 API is served over HTTPS only",
        r2_unprobed={"access.plain-http-refused": "R2's S3 endpoint has no plain-HTTP listener to probe"},
    ),
    Capability(
        "objects are never overwritten",
        ("refuse.overwrite",),
        S,
        "versioning, If-None-Match required, optional Object Lock",
        S,
        "bucket lock refuses overwrites while an object is younger than the lock; If-None-Match refuses the rest",
    ),
    Capability(
        "every write is create-only (If-None-Match)",
        ("refuse.without-if-none-match",),
        S,
        "bucket policy denies a PutObject without If-None-Match",
        C,
        "R2 cannot require a request header",
        "the bucket lock refuses overwrites of young objects; the uploader always sends If-None-Match: *",
    ),
    Capability(
        "deleted objects stay recoverable for a while",
        ("config.versioning",),
        S,
        "versioning; noncurrent versions expire after noncurrentVersionExpiryDays",
        N,
        "R2 has no object versioning: a deletion is final",
        "the bucket lock refuses deletions while objects are young; only the Command Centre token deletes by design",
    ),
    Capability(
        "objects locked against deletion",
        ("config.object-lock",),
        S,
        "optional Object Lock (GOVERNANCE lets the Command Centre erase)",
        S,
        "bucket lock by age (the `bucket_lock_days` output)",
        r2_unprobed={
            "config.object-lock": "R2's bucket lock is not readable through its S3 API (see `bucket_lock_days`)"
        },
    ),
    Capability(
        "no upload sets its own lock (GDPR erasure stays possible)",
        ("refuse.lock-headers",),
        S,
        "bucket policy refuses Object Lock headers on upload and PutObjectRetention/LegalHold to everyone",
        S,
        "R2 locks by bucket rule only; its S3 API has no per-object retention a client could set",
        r2_unprobed={"refuse.lock-headers": "R2 has no per-object Object Lock to set (bucket lock rules only)"},
    ),
    Capability(
        "flat namespace: keys are <uuid>.jpg, no folders",
        ("refuse.key-with-slash", "refuse.key-not-uuid"),
        S,
        "bucket policy refuses other key shapes and any '/'",
        C,
        "R2 tokens cannot restrict object keys",
        "the uploader validates keys with contract.OBJECT_KEY_PATTERN; the retention job reports foreign keys",
    ),
    Capability(
        "every object carries the required metadata",
        ("refuse.missing-tag", "refuse.blank-metadata"),
        S,
        "bucket policy refuses an upload whose metadata tag is missing or blank",
        C,
        "R2 has no tags and cannot require metadata",
        "the uploader refuses incomplete samples; the retention job reports objects missing metadata",
    ),
    Capability(
        "`unsure` samples are never uploaded",
        ("refuse.unsure-label",),
        S,
        "bucket policy refuses any label but correct and changed",
        C,
        "R2 cannot read an upload's metadata",
        "the uploader excludes unsure; the retention job deletes any after unsureExpiryDays",
    ),
    Capability(
        "a city uploads only as itself",
        ("refuse.other-city",),
        S,
        "city_id tag must equal the uploader's principal tag",
        N,
        "a city token can write any metadata",
        "one token per city (revocable); Command Centre-minted temporary credentials per batch would bind uploads",
    ),
    Capability(
        "labels are immutable",
        ("refuse.tag-rewrite",),
        S,
        "bucket policy denies every tag rewrite",
        C,
        "R2 has no tags; metadata changes need an overwrite, refused only while the object is locked",
        "clients never rewrite; a correction is a new object",
    ),
    Capability(
        "lifecycle by label: archive, expire `unsure`, retain `correct`, keep `changed`",
        ("config.lifecycle",),
        S,
        "lifecycle rules filtered by the label tag",
        C,
        "R2 lifecycle is prefix-only and R2 has no tags: archiving by age is declared, expiry by label is not",
        "the metadata-driven retention job (issue 6) expires `unsure` and `correct` from each object's metadata",
    ),
    Capability(
        "city clients are upload-only",
        ("tier.city.GetObject", "tier.city.ListObjectsV2", "tier.city.GetObjectTagging", "tier.city.DeleteObject"),
        S,
        "group policy grants only PutObject; bucket policy denies the rest",
        N,
        "R2 has no write-only permission: a city token reads, lists and writes (deletes only once unlocked)",
        "R2 temporary credentials restricted to upload, minted by the Command Centre per batch (the closest R2 offers)",
    ),
    Capability(
        "the training pipeline is read-only",
        (
            "tier.training.GetObject",
            "tier.training.GetObjectTagging",
            "tier.training.ListObjectsV2",
            "tier.training.ListObjectVersions",
            "tier.training.PutObject",
            "tier.training.DeleteObject",
        ),
        S,
        "role policy grants read and list; bucket policy denies the rest",
        S,
        "an Object Read token scoped to the bucket",
        r2_unprobed={"tier.training.GetObjectTagging": NO_TAGS, "tier.training.ListObjectVersions": NO_VERSIONS},
    ),
    Capability(
        "the Command Centre reads, lists and writes",
        (
            "tier.command-centre.GetObject",
            "tier.command-centre.GetObjectTagging",
            "tier.command-centre.ListObjectsV2",
            "tier.command-centre.ListObjectVersions",
            "tier.command-centre.PutObject",
        ),
        S,
        "role policy; bucket policy denies what the tier must not do",
        S,
        "an Object Read & Write token scoped to the bucket",
        r2_unprobed={
            "tier.command-centre.GetObjectTagging": NO_TAGS,
            "tier.command-centre.ListObjectVersions": NO_VERSIONS,
        },
    ),
    Capability(
        "GDPR erasure by the Command Centre at any time",
        ("tier.command-centre.DeleteObjectVersion",),
        S,
        "the Command Centre deletes every version, bypassing GOVERNANCE retention",
        N,
        "R2's bucket lock cannot be bypassed: erasure waits until the object is older than the lock",
        "the lock lasts unsureExpiryDays (30 by default), inside GDPR's one-month deadline; erase when it ends",
    ),
    Capability(
        "replication for disaster recovery",
        ("config.replication", "replication.arrives"),
        S,
        "cross-region replication, KMS-encrypted and tagged, to a locked-down replica",
        N,
        "R2 has no replication",
        "a scheduled copy to a second bucket (not part of this project yet)",
    ),
    Capability(
        "one bucket policy carries every guard",
        ("config.bucket-policy-guards",),
        S,
        "one bucket policy, each guard a Deny with a stable Sid",
        N,
        "R2 has no bucket policies",
        "each guard's own row says what covers it on R2",
    ),
    Capability(
        "valid uploads are accepted and read back identical, with their reference",
        ("upload.accepted", "upload.read-back", "upload.reference"),
        S,
        "metadata and tags round-trip; reference `s3://<bucket>/<key>`",
        S,
        "metadata round-trips (R2 has no tags); reference `r2://<bucket>/<key>`",
    ),
)


def r2_treatment(check: str) -> tuple[str, str] | None:
    """How the verifier reports ``check`` on R2: ("GAP", why), ("SKIP", why), or None to probe."""
    for capability in CAPABILITIES:
        if check in capability.checks:
            if check in capability.r2_unprobed:
                return "SKIP", capability.r2_unprobed[check]
            if capability.r2 is not Enforcement.STORAGE:
                return "GAP", f"{capability.r2_how}; covered by: {capability.mitigation}"
            return None
    return None


def all_checks() -> list[str]:
    return [check for capability in CAPABILITIES for check in capability.checks]


def markdown_table() -> str:
    """The README's capability matrix."""
    rows = ["| contract rule | AWS S3 | Cloudflare R2 | what covers the R2 gap |", "|---|---|---|---|"]
    for c in CAPABILITIES:
        rows.append(
            f"| {c.rule} | **{c.aws.value}**: {c.aws_how} | **{c.r2.value}**: {c.r2_how} | {c.mitigation or '-'} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
