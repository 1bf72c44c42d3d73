"""The stack's settings: one typed object, read once from stack config or a component's arguments,
validated before any resource is registered.

Each field's description states the behaviour its default gives; docs/settings.md and Pulumi.yaml
are generated from these fields (:mod:`.docs`, ``make docs``) and tests keep them equal. The rules
are :mod:`.validators`' functions, bound to their fields here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from learning_images import contract, gcs
from learning_images.backends import BACKENDS, DEFAULT, OWNER
from learning_images_infra.settings import validators
from learning_images_infra.settings.validators import (
    DEPLOYER,
    GDPR_ERASURE_DAYS,
    PROJECT,
    PROVIDER_KEYS,
)

Days = Annotated[PositiveInt, Field(le=36500)]
#: What the policy pack refuses at preview, the settings refuse first: the contract's own limits.
ArchiveDays = Annotated[PositiveInt, Field(le=contract.CONTRACT_PERIODS.archive_after_days)]
UnsureDays = Annotated[PositiveInt, Field(le=contract.CONTRACT_PERIODS.unsure_expiry_days)]


class SettingsError(ValueError):
    """Stack config that cannot produce a store; the message lists every problem."""


#: The backend table's names, as a type (a test keeps it equal to the table's rows).
Backends = Literal["aws", "r2", "gcs", "minio", "spaces", "b2"]


class Settings(BaseModel):
    """The settings of one stack. Keys are ``learning-images:<camelCaseName>`` in the stack file."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    #: The backend table's names (a test keeps them equal to its rows).
    backend: Backends = Field(
        cast(Backends, DEFAULT),  # the table's first row
        description=(
            "Storage backend. `aws` declares the store on Amazon S3 with every guard S3 can enforce; "
            "`r2` on Cloudflare R2, `gcs` on Google Cloud Storage, `minio` on a self-hosted MinIO server, "
            "`spaces` on DigitalOcean Spaces and `b2` on Backblaze B2 (both behind the upload gateway), each "
            "with the gaps the capability matrix (docs/rules.md) lists."
        ),
    )
    region: str | None = Field(
        None,
        alias="aws:region",  # validators.ALIASES (mypy's pydantic plugin needs the literal)
        description="Primary AWS region, read from the AWS provider's own `aws:region`. Required for `aws`.",
    )
    cloudflare_account_id: str | None = Field(
        None,
        description="Cloudflare account that owns the R2 bucket and its tokens, or on `spaces` the upload "
        "gateway's Worker (32 hex digits). Required for `r2`, `spaces` and `b2`.",
    )
    r2_jurisdiction: Literal["default", "eu", "fedramp"] = Field(
        "default",
        description=(
            "Where R2 guarantees to keep the objects. `default`: no guarantee; `eu` keeps them in the EU "
            "(and uses the EU endpoint)."
        ),
    )
    r2_location_hint: Literal["apac", "eeur", "enam", "weur", "wnam", "oc"] | None = Field(
        None,
        description="R2 location hint, honoured only when the bucket is first created. Unset: R2 chooses.",
    )
    r2_upload_gateway: bool = Field(
        True,
        description=(
            "R2 only. Cities upload through the project's upload gateway, a Worker bound to the bucket that "
            "enforces every upload rule (key, metadata, label, city identity, create-only, JPEG, checksum, size) "
            "and refuses everything else; cities hold gateway keys and no R2 credential. Off: each city gets an "
            "R2 Object Read & Write token, and those rules hold only by well-behaved clients (docs/rules.md)."
        ),
    )
    upload_gateway_runtime: Literal["cloudflare-workers"] = Field(
        "cloudflare-workers",
        description=(
            "Where the upload gateway runs, on the backends it fronts (r2 with `r2UploadGateway`, spaces, b2). "
            "`cloudflare-workers`, the one runtime built: a Worker with its KV namespace of city keys (and on b2 "
            "its events queue) in the account `cloudflareAccountId`, answering at `r2GatewayHostname` or on "
            "workers.dev."
        ),
    )
    r2_gateway_hostname: str | None = Field(
        None,
        description=(
            "The upload gateway's, on the backends it fronts. The custom domain it answers on, in the zone "
            "`r2GatewayZoneId` (Cloudflare issues its certificate). Unset: the gateway answers on workers.dev "
            "under `r2WorkersSubdomain`."
        ),
    )
    r2_gateway_zone_id: str | None = Field(
        None,
        description="The upload gateway's, on the backends it fronts. The zone (32 hex digits) holding "
        "`r2GatewayHostname`. Required with it.",
    )
    r2_workers_subdomain: str | None = Field(
        None,
        description=(
            "The upload gateway's, on the backends it fronts. The account's workers.dev subdomain (dashboard: "
            "Workers & Pages, Overview); the gateway then answers at "
            "`https://<stack's gateway script>.<subdomain>.workers.dev`. Required with the gateway unless "
            "`r2GatewayHostname` is set."
        ),
    )
    minio_endpoint_url: str | None = Field(
        None,
        description="The HTTPS URL clients reach the MinIO server at (its S3 API), exported as the store's "
        "`endpoint_url`. Required for `minio`. The program itself reaches the server through the provider's own "
        "`minio:minioServer`, which may be another address.",
    )
    minio_event_target_arn: str = Field(
        "arn:minio:sqs::learning-images:postgresql",
        description="minio only. The server's PostgreSQL notification target the bucket sends its object events "
        "to, for the receiver: configured on the server first (`mc admin config set ALIAS "
        "notify_postgres:learning-images connection_string=... table=object_events format=access "
        "queue_dir=...`, docs/s3-compatible.md), writing into the learning store's database. The default is "
        "that target with no server region; the deploy fails, named by MinIO, where the server has no such "
        "target. Used while `registration` is on.",
    )
    spaces_region: Literal["ams3", "fra1", "lon1", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "blr1", "tor1", "atl1"] = (
        Field(
            "fra1",
            description="spaces only. The DigitalOcean region the Spaces bucket lives in (the regions with Spaces "
            "Standard Storage, DigitalOcean's availability matrix); its S3 endpoint is "
            "`https://<region>.digitaloceanspaces.com`.",
        )
    )
    b2_region: str | None = Field(
        None,
        description="b2 only. The region of the B2 account's S3 endpoint (`s3.<region>.backblazeb2.com`, shown "
        "with every bucket), such as `eu-central-003`. Required for `b2`.",
    )
    gcp_project: str | None = Field(
        None,
        alias="gcp:project",  # validators.ALIASES (mypy's pydantic plugin needs the literal)
        description="Google Cloud project that owns the bucket, its key and the tiers' service accounts, read "
        "from the provider's own `gcp:project`. Required for `gcs`.",
    )
    gcs_location: Literal["EUR4", "NAM4"] = Field(
        "EUR4",
        description=(
            "gcs only. The predefined dual-region the bucket lives in (EUR4: Finland and the Netherlands; NAM4: "
            "Iowa and South Carolina): every object is stored in both regions, which is the store's disaster "
            "recovery. Only dual-regions with a Cloud KMS location of the same name, as the key must share the "
            "bucket's location."
        ),
    )
    gcs_turbo_replication: bool = Field(
        True,
        description=(
            "gcs only. Turbo replication: every new object reaches the second region within 15 minutes (Google's "
            "RPO target), not within up to 12 hours. On by default because cities may delete their copies once "
            "the daily batch is uploaded; off saves the turbo replication charge."
        ),
    )
    gcs_archive_storage_class: Literal["NEARLINE", "COLDLINE", "ARCHIVE"] = Field(
        "COLDLINE",
        description=(
            "gcs only. Storage class objects move to after `archiveAfterDays`. Every class stays readable "
            "without a restore; `COLDLINE` keeps the retrieval charge of a training run over old images low."
        ),
    )
    gcs_soft_delete_days: Annotated[int, Field(ge=gcs.MIN_SOFT_DELETE_DAYS, le=GDPR_ERASURE_DAYS)] = Field(
        7,
        description=(
            "gcs only. Days a deleted object (or a noncurrent version lifecycle removed) stays restorable before "
            "Cloud Storage purges it (7 to 30; Google's minimum is 7). With `noncurrentVersionExpiryDays` it is "
            "how long an erased image's bytes outlive the erasure: together at most 30 days (GDPR)."
        ),
    )
    replication: bool = Field(
        True,
        description=(
            "Replicate every object, KMS-encrypted and with its tags, to a replica bucket in "
            "`replicaRegion` for disaster recovery. On by default: a stack without a DR copy must say so. On "
            "gcs the bucket's dual-region placement is the replication (`gcsLocation`), so it stays on."
        ),
    )
    replica_region: str | None = Field(
        None,
        description="Region of the replica bucket. Required while `replication` is on; must differ from `aws:region`.",
    )
    archive_storage_class: contract.ArchiveStorageClass = Field(
        contract.ArchiveStorageClass.GLACIER_IR,
        description=(
            "Storage class objects move to after `archiveAfterDays`. `GLACIER_IR` keeps archived "
            "images readable by the training pipeline without a restore."
        ),
    )
    archive_after_days: ArchiveDays = Field(
        contract.CONTRACT_PERIODS.archive_after_days,
        description=(
            "Age at which `correct` and `changed` objects are archived: at most the contract's one year "
            "(the policy pack refuses more)."
        ),
    )
    correct_retention_days: Days = Field(
        contract.CONTRACT_PERIODS.correct_retention_days,
        description=(
            "Age at which `correct` objects expire (contract example: two years). `changed` objects never expire."
        ),
    )
    unsure_expiry_days: UnsureDays = Field(
        contract.CONTRACT_PERIODS.unsure_expiry_days,
        description=(
            "Age at which accidentally uploaded `unsure` objects expire: at most the contract's 30 days. On R2 it is "
            "also the bucket lock, so GDPR erasure never waits longer than a month."
        ),
    )
    noncurrent_version_expiry_days: Days = Field(
        contract.CONTRACT_PERIODS.noncurrent_version_expiry_days,
        description=(
            "Days the bytes of a deleted or expired object stay recoverable as a noncurrent version "
            "before lifecycle removes them for good."
        ),
    )
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] | None = Field(
        None,
        description=(
            "Object Lock default retention mode. Unset: no Object Lock (versioning, the create-only "
            "guard and the delete guard still keep objects immutable). `GOVERNANCE` lets only the "
            "Command Centre erase locked versions (GDPR); `COMPLIANCE` lets nobody, not even the account root. "
            "Lock cannot be removed from a bucket once on."
        ),
    )
    object_lock_days: Days | None = Field(
        None,
        description=(
            "Default retention of each new version under Object Lock. Unset: `unsureExpiryDays`, the longest "
            "lock that still lets lifecycle remove an accidental `unsure` upload on time. Requires `objectLockMode`."
        ),
    )
    access_logging: bool = Field(
        True,
        description=(
            "Keep a separate log bucket with its own expiry: S3 server access logs, and the daily S3 Inventory "
            "of every object version that GDPR erasure reads at scale (`learning-images-erase --inventory`)."
        ),
    )
    access_log_retention_days: Days = Field(
        90,
        description="Age at which access logs expire (they hold requester IPs, personal data under GDPR).",
    )
    registration: bool | None = Field(
        None,
        description=(
            "Object events to a queue that the receiver (`learning-images-register`) reads, so every stored "
            "image is registered in `learning_samples` and every erased one marked. On `aws`: S3 Event "
            "Notifications to an SQS queue encrypted with its own KMS key, a dead-letter queue, a receiver "
            "role and alarms. On `r2`: an event-notification rule to a Cloudflare Queue with a dead-letter "
            "queue and an HTTP pull consumer, and the receiver's token. On `gcs`: a bucket notification to a "
            "Pub/Sub topic, a pull subscription with a dead-letter topic, the receiver's service account and "
            "alert policies. On `minio`: a bucket notification to the server's PostgreSQL target "
            "(`minioEventTargetArn`), whose table the receiver leases rows of, and the receiver's own user. On "
            "`b2`: a notification rule posting signed events to the upload gateway, which queues them on a "
            "Cloudflare Queue with a dead-letter queue and an HTTP pull consumer, the receiver's token and its "
            "own `readFiles` key. Unset: on wherever the backend has an event source; off: only "
            "`learning-images-reconcile` registers, by listing the bucket."
        ),
    )
    registration_alarm_topic_arn: str | None = Field(
        None,
        description=(
            "The SNS topic the registration alarms notify: a message in the dead-letter queue, or one waiting "
            "over an hour. Unset: the alarms exist without an action, and every preview warns."
        ),
    )
    registration_alarm_channels: list[str] = Field(
        [],
        description=(
            "The Cloud Monitoring notification channels (`projects/<project>/notificationChannels/<id>`) the "
            "registration alert policies notify: a message dead-lettered, or one unacknowledged over an hour. "
            "Empty: the policies exist without a channel, and every preview warns."
        ),
    )
    city_ids: list[str] = Field(
        [],
        description=(
            "One upload-only identity per city id (lowercase slug, at most 32 characters, unique). "
            f"Empty: no city can upload; `{contract.PROBE_CITY_ID}` is reserved for the verification probe."
        ),
    )
    city_authentication: Literal["access-keys", "certificates"] = Field(
        "access-keys",
        description=(
            "AWS only. How cities authenticate. `access-keys`: an IAM user and a long-lived key per city of "
            "`cityIds` (simple; a deployment per new city; the account's IAM user quota caps the cities). "
            "`certificates`: IAM Roles Anywhere; a city is any certificate the cities' certificate authority "
            "issues with the city id as its subject CN, onboarding needs no deployment, and sessions last "
            "`citySessionSeconds`."
        ),
    )
    city_certificate_authority: str | None = Field(
        None,
        description=(
            "AWS only, with `cityAuthentication: certificates`: the cities' certificate authority as a PEM "
            "bundle (the trust anchor). Set this or `cityPrivateCaArn`."
        ),
    )
    city_private_ca_arn: str | None = Field(
        None,
        description=(
            "AWS only, with `cityAuthentication: certificates`: an AWS Private CA issuing the cities' "
            "certificates, as the trust anchor instead of a PEM bundle."
        ),
    )
    city_session_seconds: Annotated[int, Field(ge=900, le=3600)] = Field(
        3600,
        description=(
            "AWS only, with `cityAuthentication: certificates`: how long a city's session lasts (900 to 3600 "
            "seconds). A revoked certificate gets no new session; one already issued ends within this time. "
            "A client refreshes credentials with under 15 minutes left (botocore's advisory refresh), so a city "
            "creates a new session every (this minus 900) seconds: at 900, before every request."
        ),
    )
    city_key_generations: dict[str, list[int]] = Field(
        {},
        description=(
            "AWS only. Rotates a city's access key without a failed upload. A city left out has one key, "
            "generation 1. `[1, 2]` creates generation 2 beside 1 and hands out 2 in `city_credentials` "
            "while 1 keeps working (IAM allows two keys per user); once the city uses 2, `[2]` deletes 1. "
            "At most two generations, increasing, for cities of `cityIds`."
        ),
    )
    command_centre_principals: list[str] = Field(
        [],
        description=(
            "IAM ARNs (account root, user or role) allowed to assume the Command Centre role. Empty: this "
            "account's identities whose own IAM policy allows `sts:AssumeRole` on the role."
        ),
    )
    training_principals: list[str] = Field(
        [],
        description=(
            "IAM ARNs allowed to assume the read-only training role. Empty: this account's identities "
            "whose own IAM policy allows `sts:AssumeRole` on the role."
        ),
    )
    configuration_administrators: list[str] = Field(
        [],
        description=(
            "Who may change the buckets' configuration (policy, lifecycle, versioning, replication, encryption, "
            "Object Lock, public-access block, deletion) and the store keys' policy, rotation and deletion: IAM ARNs "
            f"(root, user or role), or `{DEPLOYER}` for the identity running `pulumi up`. Every other principal is "
            "denied, account administrators included; the account root always can, so the store stays recoverable. "
            "A list that leaves out the deploying identity is refused before anything is created. Empty: off, any "
            "identity whose IAM policy allows it may reconfigure or shred the store."
        ),
    )
    tags: dict[str, str] = Field(
        {},
        description=(
            "Tags added to every taggable resource, beside the program's own `project`, `stack` and `managed-by`."
        ),
    )
    force_destroy: bool = Field(
        False,
        description=(
            "Let `pulumi destroy` delete the buckets while they still hold objects. Off: destroying a "
            "non-empty store fails, so no image is lost to a mistaken destroy."
        ),
    )
    emulator: bool = Field(
        False,
        description=(
            "The stack targets the local sandbox (the enforcing local S3 on 127.0.0.1), never AWS. Its policies are "
            "the real ones; replication, Object Lock and access logs are refused with it, because the sandbox cannot "
            "prove them. Only for the sandbox stack (`Pulumi.local.yaml`)."
        ),
    )
    protect: bool = Field(
        True,
        description="Mark the buckets and KMS keys `protect`, so Pulumi refuses to delete or replace them.",
    )

    # --- rules (validators.py), bound to their fields --------------------------------------

    _region_format = field_validator("region", "replica_region")(validators.region_format)
    _required_by_backend = field_validator(*{name for row in BACKENDS.values() for name in row.required})(
        validators.required_by_backend
    )
    _cloudflare_account_format = field_validator("cloudflare_account_id")(validators.cloudflare_account_format)
    _gcp_project_format = field_validator("gcp_project")(validators.gcp_project_format)
    _minio_endpoint = field_validator("minio_endpoint_url")(validators.https_url)
    _b2_region = field_validator("b2_region")(validators.b2_region)
    _minio_event_target = field_validator("minio_event_target_arn")(validators.minio_event_target)
    _own_setting = field_validator(*OWNER)(validators.own_setting)
    _hostname = field_validator("r2_gateway_hostname")(validators.hostname)
    _zone_id = field_validator("r2_gateway_zone_id")(validators.zone_id)
    _gateway_address = field_validator("r2_workers_subdomain")(validators.gateway_address)
    _not_on_backend = field_validator(*{name for row in BACKENDS.values() for name in row.lacks})(
        validators.not_on_backend
    )
    _city_ids = field_validator("city_ids")(validators.city_ids)
    _cities_by_certificate = field_validator("city_authentication")(validators.cities_by_certificate)
    _certificate_authority = field_validator("city_certificate_authority")(validators.certificate_authority)
    _trust_anchor = field_validator("city_private_ca_arn")(validators.trust_anchor)
    _key_generations = field_validator("city_key_generations")(validators.key_generations)
    _topic_arn = field_validator("registration_alarm_topic_arn")(validators.topic_arn)
    _channels = field_validator("registration_alarm_channels")(validators.notification_channels)
    _principals = field_validator("command_centre_principals", "training_principals")(validators.principals)
    _administrators = field_validator("configuration_administrators")(validators.administrators)
    _tags = field_validator("tags")(validators.tags)
    _replica_region = field_validator("replica_region")(validators.replica_region)
    _fixed_by_backend = field_validator(*{name for row in BACKENDS.values() for name in row.fixed})(
        validators.fixed_by_backend
    )
    _erasure_within_a_month = field_validator(*{name for row in BACKENDS.values() for name in row.erasure_lag})(
        validators.erasure_within_a_month
    )
    _archive_class_minimum = field_validator("archive_after_days")(validators.archive_class_minimum)
    _retention_after_archive = field_validator("correct_retention_days")(validators.retention_after_archive)
    _lock_days = field_validator("object_lock_days")(validators.lock_days)
    _emulator_scope = field_validator("emulator")(validators.emulator_scope)

    # --- derived ----------------------------------------------------------------------------

    @property
    def registers(self) -> bool:
        """Whether the store declares its object-event source (``registration``, or its backend's default)."""
        if self.registration is not None:
            return self.registration
        return BACKENDS[self.backend].event_source is not None

    def key_generations(self, city: str) -> list[int]:
        """The generations of ``city``'s access key that exist (generation 1 unless rotated)."""
        return self.city_key_generations.get(city, [1])

    @property
    def periods(self) -> contract.LifecyclePeriods:
        """The lifecycle periods this stack applies (contract defaults, overridden by config)."""
        return contract.LifecyclePeriods(**{name: getattr(self, name) for name in contract.CONFIGURABLE_PERIODS})


def config_keys() -> list[str]:
    """Every stack config key, as a stack file spells it."""
    return [
        key if ":" in key else f"{PROJECT}:{key}"
        for key in (field.alias or to_camel(name) for name, field in Settings.model_fields.items())
    ]


def _decode(value: str) -> Any:
    # Pulumi passes every config value as a string; structured ones (lists, maps) as JSON.
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_settings(config: Mapping[str, str]) -> Settings:
    """Validate a flat ``namespace:key -> string`` config map (Pulumi's own form).

    Raises :class:`SettingsError` listing every problem, each with its config key.
    """
    prefix = f"{PROJECT}:"
    raw: dict[str, Any] = {k.removeprefix(prefix): _decode(v) for k, v in config.items() if k.startswith(prefix)}
    raw.update({key: config[key] for key in PROVIDER_KEYS if key in config})
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def parse_args(args: Mapping[str, Any], *, store: str) -> Settings:
    """Validate a component's arguments (Python field names, as ``LearningImageStoreArgs`` has them).

    Raises :class:`SettingsError` listing every problem, each with the argument's name.
    """
    try:
        return Settings.model_validate(dict(args))
    except ValidationError as exc:
        raise SettingsError(_describe(exc, store=store)) from None


def _describe(exc: ValidationError, *, store: str | None = None) -> str:
    """Every problem of ``exc``, named as a stack config key, or as an argument of ``store``."""
    by_alias = {field.alias: name for name, field in Settings.model_fields.items() if field.alias}
    lines = []
    for error in exc.errors():
        key, *inner = (str(part) for part in error["loc"])
        name = by_alias.get(key, key)
        field = Settings.model_fields.get(name)
        if store is not None:
            where = f"args.{name}"
        else:
            # Defaulted fields are reported by field name, given ones by alias: show the alias.
            key = (field.alias or key) if field else key
            where = key if ":" in key else f"{PROJECT}:{key}"
        detail = "".join(f"[{part}]" for part in inner)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            known = sorted(Settings.model_fields) if store is not None else sorted(config_keys())
            message = f"unknown {'argument' if store is not None else 'setting'} (known: {', '.join(known)})"
        elif error["type"] == "missing":
            message = "is required"
        lines.append(f"  - {where}{detail}: {message}")
    count = f"{len(lines)} problem{'s' if len(lines) > 1 else ''}"
    what = f"invalid arguments of store {store!r}" if store is not None else "invalid stack config"
    return f"{what} ({count}); nothing was created:\n" + "\n".join(lines)


def load_settings() -> Settings:
    """Read the running stack's config once (inside a Pulumi program)."""
    # The whole config map (not pulumi.Config.get per key) lets an unknown, typo'd key fail
    # loudly instead of being ignored. The runtime holds it in CONFIG, set by the language host
    # from PULUMI_CONFIG, which is also read as a fallback the way pulumi.Config does.
    # Imported here so that clients can import the settings without the Pulumi SDK.
    from pulumi.runtime.config import CONFIG, get_config_env  # noqa: PLC0415

    return parse_settings({**get_config_env(), **CONFIG.get()})
