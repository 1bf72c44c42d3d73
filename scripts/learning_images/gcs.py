"""Google Cloud Storage as the contract needs it: the permissions of each tier, what each request
needs, and the condition that holds city uploads to the contract's key shape.

Data, with no Pulumi or Google SDK imports, defined once and read by the gcs program (its custom
roles and bindings), by the policy pack (which judges the roles it finds in a preview against
these, not against the builder), and by the offline IAM evaluation. Sources: Cloud Storage docs,
"IAM permissions for Cloud Storage" (which JSON and XML API requests need which permission) and
"IAM Conditions" (the ``resource.name`` of an object).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from learning_images import contract

#: The shortest soft-delete window Cloud Storage takes, other than off (Cloud Storage docs,
#: "Soft delete": 7 to 90 days).
MIN_SOFT_DELETE_DAYS = 7

#: Cloud Storage's XML API, which accepts S3 requests signed (SigV4) with an HMAC key.
ENDPOINT_URL: Final = "https://storage.googleapis.com"
#: The SigV4 region the XML API takes for HMAC-signed requests.
SIGNING_REGION: Final = "auto"

#: Pub/Sub's REST API, where the receiver pulls and acknowledges the bucket's notifications.
PUBSUB_API: Final = "https://pubsub.googleapis.com/v1"
#: The notifications the receiver registers from (Cloud Storage docs, "Pub/Sub notifications"): a
#: new object; a live version made noncurrent (the bucket is versioned, so an erasure is this);
#: a version deleted for good (lifecycle, or a deletion by generation).
NOTIFICATION_EVENT_TYPES: Final = ("OBJECT_FINALIZE", "OBJECT_ARCHIVE", "OBJECT_DELETE")
#: Which of them leave the object without its live version.
REMOVAL_EVENT_TYPES: Final = frozenset({"OBJECT_ARCHIVE", "OBJECT_DELETE"})
#: Cloud Storage's service agent is ``service-<project number>@`` this domain: the only publisher
#: of the bucket's notification topic.
STORAGE_AGENT_DOMAIN: Final = "gs-project-accounts.iam.gserviceaccount.com"
#: The receiver reads an object's metadata (HeadObject through the XML API): nothing else.
RECEIVER_PERMISSIONS: Final = ("storage.objects.get",)


def pubsub_service_agent(project_number: str) -> str:
    """The member of a project's Pub/Sub service agent, which moves messages to a dead-letter topic."""
    return f"serviceAccount:service-{project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"


#: The Cloud Storage permission each S3 action of the contract's tiers is, on Cloud Storage. An
#: empty tuple: nothing on Cloud Storage (no object tags, no Object Lock modes), so nothing to grant.
S3_ACTION_PERMISSIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "s3:ListBucket": ("storage.objects.list",),
    # Listing generations is storage.objects.list with versions=true.
    "s3:ListBucketVersions": ("storage.objects.list",),
    "s3:GetObject": ("storage.objects.get",),
    "s3:GetObjectVersion": ("storage.objects.get",),
    "s3:GetObjectRetention": ("storage.objects.get",),
    "s3:GetObjectTagging": (),
    "s3:GetObjectVersionTagging": (),
    "s3:PutObject": ("storage.objects.create",),
    "s3:PutObjectTagging": (),
    "s3:DeleteObject": ("storage.objects.delete",),
    "s3:DeleteObjectVersion": ("storage.objects.delete",),
    "s3:BypassGovernanceRetention": (),
}

#: What each request the clients make needs (Cloud Storage docs, "IAM permissions for XML API
#: methods"). An upload to a name that already holds a live object replaces it, and replacing needs
#: ``storage.objects.delete`` as well: see :func:`required_permissions`.
OPERATION_PERMISSIONS: Final[Mapping[str, frozenset[str]]] = {
    "HeadBucket": frozenset({"storage.buckets.get"}),
    "GetObject": frozenset({"storage.objects.get"}),
    "HeadObject": frozenset({"storage.objects.get"}),
    "ListObjectsV2": frozenset({"storage.objects.list"}),
    "ListObjectVersions": frozenset({"storage.objects.list"}),
    "PutObject": frozenset({"storage.objects.create"}),
    "CreateMultipartUpload": frozenset({"storage.multipartUploads.create"}),
    "DeleteObject": frozenset({"storage.objects.delete"}),
    "PutBucketIamPolicy": frozenset({"storage.buckets.setIamPolicy"}),
    "UpdateBucket": frozenset({"storage.buckets.update"}),
    "UpdateObjectMetadata": frozenset({"storage.objects.update"}),
    "SetObjectRetention": frozenset({"storage.objects.setRetention"}),
}

#: Cloud Storage's own name of an object, as IAM Conditions see it.
OBJECT_RESOURCE: Final = "projects/_/buckets/{bucket}/objects/{key}"


def tier_permissions(tier: contract.Tier) -> tuple[str, ...]:
    """The Cloud Storage permissions ``tier`` holds: its S3 actions, as Cloud Storage has them."""
    return tuple(sorted({p for action in tier.s3_actions for p in S3_ACTION_PERMISSIONS[action]}))


def s3_actions(permissions: Iterable[str]) -> tuple[str, ...]:
    """The S3 actions that ``permissions`` are, read the other way round (what a holder of them
    may do through the XML API, in S3's terms): for the local stand-in's users."""
    held = set(permissions)
    return tuple(sorted(action for action, needs in S3_ACTION_PERMISSIONS.items() if needs and set(needs) <= held))


def on_bucket(permission: str) -> bool:
    """Whether IAM checks ``permission`` on the bucket (listing and bucket permissions) rather than
    on an object (Cloud Storage docs, "IAM permissions": ``storage.objects.list`` is a bucket's)."""
    return permission.startswith("storage.buckets.") or permission == "storage.objects.list"


def required_permissions(operation: str, *, replaces: bool = False) -> frozenset[str]:
    """What ``operation`` needs. An upload that ``replaces`` a live object also needs delete
    (Cloud Storage docs: overwriting an object requires ``storage.objects.delete``), which is how
    a create-only role refuses overwrites by the storage itself."""
    needed = OPERATION_PERMISSIONS[operation]
    if replaces and operation == "PutObject":
        return needed | {"storage.objects.delete"}
    return needed


def object_resource(bucket: str, key: str) -> str:
    return OBJECT_RESOURCE.format(bucket=bucket, key=key)


def city_upload_condition(bucket: str) -> str:
    """The IAM Condition (CEL) of every city's upload grant: objects of this bucket only, and only
    names that end like the contract's keys. IAM Conditions offer ``startsWith`` and ``endsWith``
    on names, not patterns, so "no folders" and the UUID stay with the uploader (a gap)."""
    prefix = OBJECT_RESOURCE.format(bucket=bucket, key="")
    return f'resource.name.startsWith("{prefix}") && resource.name.endsWith("{contract.OBJECT_KEY_SUFFIX}")'
