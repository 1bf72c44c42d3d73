"""The storage backends, one row each: what a backend is, defined once.

Settings validation, the component's dispatch, the clients and the outputs schema read this table
instead of testing a backend's name; adding a backend is adding a row here and its store package
(``infra/learning_images_infra/<name>/store.py``). No Pulumi or provider import: clients read it as the program does.

What each backend does with each contract rule is the rule catalogue's (``learning_images.rules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from pydantic import BaseModel, ConfigDict

from learning_images import gateway


class BackendProfile(BaseModel):
    """What a storage backend has, as the clients need to know it (the ``capabilities`` output)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The ``image_reference`` scheme: ``s3://bucket/key``, ``r2://bucket/key``, ``gs://bucket/key``.
    reference_scheme: str
    #: Uploads carry the contract's fields as object tags too (the guards and lifecycle read them).
    object_tags: bool
    #: Objects have versions (ListObjectVersions, deleting a version, delete markers).
    object_versions: bool
    #: The store accepts multipart uploads (the AWS store refuses them: their parts carry no tags).
    multipart_uploads: bool
    #: The endpoint also answers plain HTTP, so refusing it is a probe-able rule.
    plain_http_listener: bool
    #: Lifecycle rules filter on the label, so lifecycle expires objects whose tags are right.
    lifecycle_reads_labels: bool
    #: Who acts can be asked of STS (audit records name the role session); else the key id.
    caller_identity: bool
    #: Cities reach the bucket only through the project's upload gateway, at ``city_endpoint_url``,
    #: with gateway keys: they hold no storage credential, and the gateway refuses all but uploads.
    upload_gateway: bool = False
    #: The largest image one upload may carry, where the store sets a limit below the backend's own
    #: (the gateway's request-body limit); None: the backend's own limit.
    upload_limit_bytes: int | None = None
    #: What a tier's key is, for audit records where no STS names the caller (``caller_identity``
    #: off): the key id is recorded as ``<kind>:<access key id>``.
    access_key_kind: str = "access-key"


@dataclass(frozen=True)
class Backend:
    """One backend. Setting names are the settings model's Python names (``learning_images_infra.settings``)."""

    name: str
    #: How documents and messages name it.
    title: str
    profile: BackendProfile
    #: The module of its store (``learning_images_infra.<name>.store``: ``STORE`` and ``PREVIOUS_COMPONENT_TYPE``),
    #: imported only when a store of this backend is built (each imports its own provider SDK).
    store_module: str
    #: Settings it requires, each with how to set it (the message when it is missing).
    required: Mapping[str, str] = field(default_factory=dict)
    #: Settings only it has: refused, named, on every other backend (asked: not the default).
    own_settings: tuple[str, ...] = ()
    #: AWS settings it lacks, with what it lacks in their place (for messages). Pulumi passes
    #: Pulumi.yaml's defaults to every stack, so "asked" means "not the default"; a feature on by
    #: default must be turned off.
    lacks: Mapping[str, str] = field(default_factory=dict)
    #: Settings it holds at a fixed value, with why (gcs's `replication` is its dual-region placement).
    fixed: Mapping[str, tuple[object, str]] = field(default_factory=dict)
    #: Settings whose days an erased object's bytes outlive the erasure by, together (noncurrent
    #: versions the clients do not delete, soft delete): their sum must fit in GDPR's month.
    erasure_lag: tuple[str, ...] = ()
    #: The region clients sign for when no stack outputs name one.
    default_region: str = "us-east-1"
    #: An upload gateway (``infra/learning_images_infra/r2/gateway``) can front it, and its settings apply.
    gateway_capable: bool = False
    #: The gateway always fronts it: no key of the backend can be upload-only, so its store gives
    #: cities gateway keys alone (no setting turns the gateway off).
    gateway_only: bool = False
    #: Its local stand-in for the sandbox (``make sandbox STACK=<name>``): the module that provides
    #: ``shipped_store()`` and ``STANDS_IN`` (what stands in for what); None: the `local` stack itself.
    stand_in: str | None = None
    #: The event service its store queues object events on for the receiver (the outputs'
    #: ``registration.source``; ``learning_images.registry.sources`` pulls from each), or None:
    #: it has none, and `registration` is refused there (``learning-images-reconcile`` lists instead).
    event_source: str | None = None
    #: Whose events its source's messages carry, where that source serves more than one backend
    #: (the outputs' ``registration.message_format``): Cloudflare Queues carries R2's own
    #: notifications (``r2-notification``) or B2's webhooks the upload gateway queued (``b2-webhook``).
    event_format: str | None = None


#: The settings of cities that authenticate with certificates (IAM Roles Anywhere, AWS only).
CERTIFICATE_SETTINGS: Final = (
    "city_authentication",
    "city_certificate_authority",
    "city_private_ca_arn",
    "city_session_seconds",
)


def _without_certificates(cities: str) -> dict[str, str]:
    """What a backend without IAM Roles Anywhere lacks in place of each certificate setting."""
    return dict.fromkeys(CERTIFICATE_SETTINGS, f"IAM Roles Anywhere ({cities})")


def _without_roles(tiers: str) -> dict[str, str]:
    """What a backend whose tiers are not IAM roles lacks in place of the tier principal settings."""
    return dict.fromkeys(
        ("command_centre_principals", "training_principals"), f"IAM roles to assume (its tiers are {tiers})"
    )


#: Each backend's row. The first is the default (`backend` unset).
BACKENDS: Final[Mapping[str, Backend]] = {
    "aws": Backend(
        name="aws",
        title="AWS S3",
        profile=BackendProfile(
            reference_scheme="s3",
            object_tags=True,
            object_versions=True,
            multipart_uploads=False,
            plain_http_listener=True,
            lifecycle_reads_labels=True,
            caller_identity=True,
        ),
        store_module="learning_images_infra.aws.store",
        required={"region": "`pulumi config set aws:region eu-west-1`"},
        own_settings=("registration_alarm_topic_arn",),
        event_source="sqs",
    ),
    "r2": Backend(
        name="r2",
        title="Cloudflare R2",
        profile=BackendProfile(
            reference_scheme="r2",
            object_tags=False,
            object_versions=False,
            multipart_uploads=True,
            plain_http_listener=False,
            lifecycle_reads_labels=False,
            caller_identity=False,
            access_key_kind="r2-token",
        ),
        store_module="learning_images_infra.r2.store",
        required={"cloudflare_account_id": "the 32-hex-digit id in the Cloudflare dashboard's URL"},
        own_settings=("cloudflare_account_id", "r2_jurisdiction", "r2_location_hint", "r2_upload_gateway"),
        lacks={
            "replication": "replication",
            "replica_region": "replication",
            "archive_storage_class": "storage class but InfrequentAccess",
            "noncurrent_version_expiry_days": "object versioning",
            "object_lock_mode": "Object Lock modes (its bucket lock is by age)",
            "object_lock_days": "Object Lock modes (its bucket lock is by age)",
            "access_logging": "server access logs",
            **_without_roles("API tokens"),
            "configuration_administrators": "IAM principals to hold its configuration to",
            "city_key_generations": "access keys to rotate (a city's gateway key is rotated by replacing its key id)",
            **_without_certificates("its cities hold gateway keys"),
            "emulator": "local emulator stack",
            "tags": "resource tags on buckets or tokens",
            "force_destroy": "force-destroy of a non-empty bucket",
        },
        default_region=gateway.SIGNING_REGION,
        gateway_capable=True,
        stand_in="learning_images.sandbox.r2",
        event_source="cloudflare-queues",
        event_format="r2-notification",
    ),
    # Cloud Storage through its XML API, with HMAC keys: versions exist, but the S3 versions API is not
    # Cloud Storage's (generations), so clients do not rely on it; multipart needs permissions the
    # create-only city role does not hold; whether the XML API answers plain HTTP is not proven here.
    "gcs": Backend(
        name="gcs",
        title="Google Cloud Storage",
        profile=BackendProfile(
            reference_scheme="gs",
            object_tags=False,
            object_versions=False,
            multipart_uploads=False,
            plain_http_listener=False,
            lifecycle_reads_labels=False,
            caller_identity=False,
            access_key_kind="hmac-key",
        ),
        store_module="learning_images_infra.gcs.store",
        required={"gcp_project": "`pulumi config set gcp:project <project id>`"},
        own_settings=(
            "gcp_project",
            "gcs_location",
            "gcs_turbo_replication",
            "gcs_archive_storage_class",
            "gcs_soft_delete_days",
            "registration_alarm_channels",
        ),
        lacks={
            "region": "AWS region (its placement is `gcsLocation`)",
            "replica_region": "replica bucket (a dual-region bucket keeps both copies itself: `gcsLocation`)",
            "archive_storage_class": "S3 storage classes (set `gcsArchiveStorageClass`)",
            "object_lock_mode": "Object Lock modes (a bucket retention policy would exclude versioning; only the "
            "Command Centre may delete, and soft delete keeps deletions recoverable)",
            "object_lock_days": "Object Lock modes (a bucket retention policy would exclude versioning)",
            "access_logging": "S3 server access logs or S3 Inventory (Cloud Audit Logs are the project's)",
            **_without_roles("service accounts with HMAC keys"),
            "configuration_administrators": "bucket-policy denies (hold `storage.buckets.update` to the deployer "
            "in IAM)",
            "city_key_generations": "rotation of access keys in this project yet (replace a city's HMAC key by "
            "removing and re-adding the city)",
            **_without_certificates("its cities hold HMAC keys of their service accounts"),
            "emulator": "local emulator stack",
            "tags": "AWS tags (Cloud Storage labels are not declared by this project yet)",
        },
        fixed={
            "replication": (
                True,
                "its bucket is always dual-region (`gcsLocation`), which is how it replicates",
            )
        },
        # Clients delete live objects; the noncurrent generation stays until lifecycle removes it,
        # then soft delete keeps it restorable.
        erasure_lag=("noncurrent_version_expiry_days", "gcs_soft_delete_days"),
        default_region="auto",
        stand_in="learning_images.sandbox.gcs",
        event_source="pubsub",
    ),
    # Self-hosted MinIO through pulumi-minio: MinIO authorises a signed request by its user's IAM
    # policies alone (its bucket policy binds anonymous requests only: minio/minio
    # cmd/auth-handler.go, authorizeRequest), so the guards are Deny statements in every tier's policy.
    "minio": Backend(
        name="minio",
        title="MinIO",
        profile=BackendProfile(
            reference_scheme="s3",
            object_tags=True,
            object_versions=True,
            multipart_uploads=False,
            plain_http_listener=True,
            lifecycle_reads_labels=True,
            caller_identity=False,
            access_key_kind="minio-user",
        ),
        store_module="learning_images_infra.minio.store",
        required={"minio_endpoint_url": "the HTTPS URL clients reach the server at, e.g. `https://minio.example.org`"},
        own_settings=("minio_endpoint_url", "minio_event_target_arn"),
        lacks={
            "region": "AWS region (its region is the server's own `MINIO_SITE_REGION`)",
            "replication": "replication in pulumi-minio 0.17.1 (set up site replication with `mc admin replicate`)",
            "replica_region": "replication in pulumi-minio 0.17.1 (set up site replication with `mc admin replicate`)",
            "archive_storage_class": "storage-class transitions in pulumi-minio 0.17.1's lifecycle rules",
            "object_lock_mode": "default Object Lock retention in pulumi-minio 0.17.1 (the bucket is created with "
            "Object Lock; set a default with `mc retention set --default`)",
            "object_lock_days": "default Object Lock retention in pulumi-minio 0.17.1",
            "access_logging": "S3 server access logs (MinIO's audit log is a webhook of the server's)",
            **_without_roles("MinIO users"),
            "configuration_administrators": "principals to hold its configuration to (MinIO's root and admin users "
            "are bound by no policy)",
            "city_key_generations": "access key rotation in this project yet (replace a city's user to rotate it)",
            **_without_certificates("its cities are MinIO users"),
            "emulator": "local emulator stack",
            "tags": "AWS resource tags",
        },
        stand_in="learning_images.sandbox.minio",
        event_source="postgresql",
    ),
    # DigitalOcean Spaces through pulumi-digitalocean: its keys are read, read-write or full access
    # (no upload-only key), its lifecycle is by age and prefix, it has no default encryption, so
    # cities upload only through the gateway, which writes with a key only it holds.
    "spaces": Backend(
        name="spaces",
        title="DigitalOcean Spaces",
        profile=BackendProfile(
            reference_scheme="s3",
            object_tags=False,
            object_versions=True,
            multipart_uploads=False,
            plain_http_listener=False,
            lifecycle_reads_labels=False,
            caller_identity=False,
            access_key_kind="spaces-key",
        ),
        store_module="learning_images_infra.spaces.store",
        required={"cloudflare_account_id": "the Cloudflare account the upload gateway runs in (32 hex digits)"},
        own_settings=("cloudflare_account_id", "spaces_region"),
        lacks={
            "region": "AWS region (its placement is `spacesRegion`)",
            "replication": "replication",
            "replica_region": "replication",
            "archive_storage_class": "storage classes",
            "object_lock_mode": "Object Lock",
            "object_lock_days": "Object Lock",
            "access_logging": "server access logs in this project yet",
            **_without_roles("Spaces keys"),
            "configuration_administrators": "principals to hold its configuration to",
            "city_key_generations": "access keys to rotate (a city's gateway key is rotated by replacing its key id)",
            **_without_certificates("its cities hold gateway keys"),
            "emulator": "local emulator stack",
            "tags": "resource tags on buckets or keys",
        },
        default_region="us-east-1",
        gateway_capable=True,
        gateway_only=True,
        stand_in="learning_images.sandbox.spaces",
    ),
    # Backblaze B2 through the project's dynamic provider over b2sdk (no Pulumi provider for B2 is
    # on PyPI): application keys with capabilities, Object Lock, lifecycle by prefix, no tags and no
    # bucket policies. `writeFiles` also hides files, so no B2 key is upload-only: cities upload
    # through the gateway, which writes with a key only it holds.
    "b2": Backend(
        name="b2",
        title="Backblaze B2",
        profile=BackendProfile(
            reference_scheme="s3",
            object_tags=False,
            object_versions=True,
            multipart_uploads=False,
            plain_http_listener=False,
            lifecycle_reads_labels=False,
            caller_identity=False,
            access_key_kind="b2-application-key",
        ),
        store_module="learning_images_infra.b2.store",
        required={
            "cloudflare_account_id": "the Cloudflare account the upload gateway runs in (32 hex digits)",
            "b2_region": "the region of the account's S3 endpoint (B2's bucket details), e.g. `eu-central-003`",
        },
        own_settings=("cloudflare_account_id", "b2_region"),
        lacks={
            "region": "AWS region (its endpoint's region is `b2Region`)",
            "replication": "replication in this project's B2 provider yet (B2 Cloud Replication is set in its console)",
            "replica_region": "replication in this project's B2 provider yet",
            "archive_storage_class": "storage classes",
            "object_lock_mode": "per-stack lock settings (its bucket's default retention is governance for "
            "unsureExpiryDays)",
            "object_lock_days": "per-stack lock settings (its bucket's default retention is governance for "
            "unsureExpiryDays)",
            "access_logging": "S3 server access logs",
            **_without_roles("application keys"),
            "configuration_administrators": "principals to hold its configuration to",
            "city_key_generations": "access keys to rotate (a city's gateway key is rotated by replacing its key id)",
            **_without_certificates("its cities hold gateway keys"),
            "emulator": "local emulator stack",
            "tags": "resource tags on buckets or keys",
        },
        default_region="us-west-004",
        gateway_capable=True,
        gateway_only=True,
        stand_in="learning_images.sandbox.b2",
        # B2 POSTs its events to a webhook: the upload gateway's, which queues them on Cloudflare.
        event_source="cloudflare-queues",
        event_format="b2-webhook",
    ),
}
#: The backend of a stack that names none.
DEFAULT: Final = next(iter(BACKENDS))
#: Which backends own each backend's own setting (the gateway's Cloudflare account is R2's and Spaces').
OWNER: Final[Mapping[str, tuple[str, ...]]] = {
    name: tuple(b.name for b in BACKENDS.values() if name in b.own_settings)
    for row in BACKENDS.values()
    for name in row.own_settings
}


def backend(name: str | None) -> Backend:
    """The row of ``name`` (the default where none is named)."""
    return BACKENDS[name or DEFAULT]


def profile_for(name: str, *, upload_gateway: bool = False) -> BackendProfile:
    """The profile a store exports: its backend's, changed by the upload gateway where there is one
    (the gateway takes one PutObject, no multipart, up to its request-body limit)."""
    found = BACKENDS[name].profile
    if not upload_gateway:
        return found
    return found.model_copy(
        update={
            "upload_gateway": True,
            "multipart_uploads": False,
            "upload_limit_bytes": gateway.DEFAULT_MAX_OBJECT_BYTES,
        }
    )
