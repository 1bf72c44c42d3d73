"""The stack's settings: one typed object, read once from stack config, validated before any
resource is registered.

Each field's description states the behaviour its default gives; the README's settings table is
generated from these fields (``python -m learning_images_infra.settings``) and a test keeps the two equal.
Cross-field rules are field validators on the later field, so pydantic reports every problem of
a stack file in one error instead of stopping at the first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

import learning_images
from learning_images import contract, gcs
from learning_images.backends import BACKENDS, DEFAULT, OWNER, Backend, backend

PROJECT: Final = learning_images.PROJECT
REGION_KEY = "aws:region"
PROJECT_KEY = "gcp:project"
#: Provider keys the settings read (each provider's own, so the provider and the store agree).
PROVIDER_KEYS = (REGION_KEY, PROJECT_KEY)

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# An IAM principal allowed to assume a tier role: an account root, a user or a role.
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(root|(user|role)/[\w+=,.@/-]+)$")
#: In ``configurationAdministrators``: whoever runs ``pulumi up`` (resolved at deployment).
DEPLOYER = "deployer"
_MAX_USER_TAGS = 40  # AWS allows 50 per resource; the program adds its own few.
_PRIVATE_CA_ARN = re.compile(r"arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority/[\w-]+")
#: Access keys an IAM user may hold at once (IAM quotas): so at most two generations overlap.
MAX_ACCESS_KEYS = 2
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")

Days = Annotated[PositiveInt, Field(le=36500)]
#: What the policy pack refuses at preview, the settings refuse first: the contract's own limits.
ArchiveDays = Annotated[PositiveInt, Field(le=contract.CONTRACT_PERIODS.archive_after_days)]
UnsureDays = Annotated[PositiveInt, Field(le=contract.CONTRACT_PERIODS.unsure_expiry_days)]


def _row(info: ValidationInfo) -> tuple[str | None, Backend | None]:
    """The backend the settings name (validated before every other field), and its row."""
    name = info.data.get("backend")
    return name, BACKENDS.get(name) if isinstance(name, str) else None


def _key(name: str) -> str:
    """A setting's config key (its alias where it has one, as `aws:region`), for messages."""
    return Settings.model_fields[name].alias or to_camel(name)


_GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
GDPR_ERASURE_DAYS = contract.GDPR_ERASURE_DAYS


class SettingsError(ValueError):
    """Stack config that cannot produce a store; the message lists every problem."""


class Settings(BaseModel):
    """The settings of one stack. Keys are ``learning-images:<camelCaseName>`` in the stack file."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    backend: Literal["aws", "r2", "gcs"] = Field(
        cast(Literal["aws", "r2", "gcs"], DEFAULT),  # the table's first row; a test keeps the Literal equal
        description=(
            "Storage backend. `aws` declares the store on Amazon S3 with every guard S3 can enforce; "
            "`r2` on Cloudflare R2 and `gcs` on Google Cloud Storage, each with the gaps the capability "
            "matrix (docs/rules.md) lists."
        ),
    )
    region: str | None = Field(
        None,
        alias="aws:region",  # the AWS provider's own key: REGION_KEY
        description="Primary AWS region, read from the AWS provider's own `aws:region`. Required for `aws`.",
    )
    cloudflare_account_id: str | None = Field(
        None,
        description="Cloudflare account that owns the R2 bucket and its tokens (32 hex digits). Required for `r2`.",
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
    r2_gateway_hostname: str | None = Field(
        None,
        description=(
            "R2 only. The custom domain the upload gateway answers on, in the zone `r2GatewayZoneId` (Cloudflare "
            "issues its certificate). Unset: the gateway answers on workers.dev under `r2WorkersSubdomain`."
        ),
    )
    r2_gateway_zone_id: str | None = Field(
        None,
        description="R2 only. The zone (32 hex digits) holding `r2GatewayHostname`. Required with it.",
    )
    r2_workers_subdomain: str | None = Field(
        None,
        description=(
            "R2 only. The account's workers.dev subdomain (dashboard: Workers & Pages, Overview); the gateway then "
            "answers at `https://<stack's gateway script>.<subdomain>.workers.dev`. Required with the gateway "
            "unless `r2GatewayHostname` is set."
        ),
    )
    gcp_project: str | None = Field(
        None,
        alias="gcp:project",  # the Google Cloud provider's own key: PROJECT_KEY
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
            "seconds). A revoked certificate gets no new session; one already issued ends within this time."
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

    # --- single-field rules ---------------------------------------------------------------

    @field_validator("region", "replica_region")
    @classmethod
    def _region_format(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region name such as 'eu-west-1'")
        return value

    @field_validator(*{name for row in BACKENDS.values() for name in row.required})
    @classmethod
    def _required_by_backend(cls, value: Any, info: ValidationInfo) -> Any:
        """A setting the stack's backend requires (its row's `required`)."""
        name, row = _row(info)
        how = row.required.get(info.field_name or "") if row else None
        if value is None and how is not None:
            raise ValueError(f"is required for the {name} backend: {how}")
        return value

    @field_validator("cloudflare_account_id")
    @classmethod
    def _cloudflare_account_format(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-f]{32}", value):
            raise ValueError(f"{value!r} is not a Cloudflare account id (32 lowercase hex digits)")
        return value

    @field_validator("gcp_project")
    @classmethod
    def _gcp_project_format(cls, value: str | None) -> str | None:
        if value is not None and not _GCP_PROJECT.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a Google Cloud project id (6 to 30 lowercase letters, digits or hyphens, "
                "starting with a letter)"
            )
        return value

    @field_validator(*OWNER)
    @classmethod
    def _own_setting(cls, value: Any, info: ValidationInfo) -> Any:
        """One backend's setting asked of another (asked: not the default, as Pulumi passes defaults):
        an aws stack with `r2LocationHint` was accepted and the setting silently ignored."""
        name, _ = _row(info)
        if info.field_name is None or name in (None, OWNER[info.field_name]):
            return value
        if value != cls.model_fields[info.field_name].default:
            raise ValueError(
                f"is a setting of the {OWNER[info.field_name]} backend, but the backend is {name}: "
                f"remove `{_key(info.field_name)}`"
            )
        return value

    @field_validator("r2_gateway_hostname")
    @classmethod
    def _hostname(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTNAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a DNS hostname such as 'upload.learning-images.example.com'")
        return value

    @field_validator("r2_gateway_zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-f]{32}", value):
            raise ValueError(f"{value!r} is not a Cloudflare zone id (32 lowercase hex digits)")
        return value

    @field_validator("r2_workers_subdomain")
    @classmethod
    def _gateway_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Where the gateway answers: exactly one of a custom domain (with its zone) or workers.dev."""
        if value is not None and not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", value):
            raise ValueError(f"{value!r} is not a workers.dev subdomain (lowercase letters, digits, inner hyphens)")
        hostname, zone = info.data.get("r2_gateway_hostname"), info.data.get("r2_gateway_zone_id")
        address = {"r2GatewayHostname": hostname, "r2GatewayZoneId": zone, "r2WorkersSubdomain": value}
        given = [key for key, setting in address.items() if setting is not None]
        fronted = backend(info.data.get("backend")).gateway_capable
        if not fronted or not info.data.get("r2_upload_gateway", True):
            if given:
                why = "no upload gateway fronts this backend" if not fronted else "`r2UploadGateway` is off"
                raise ValueError(f"cannot be used: {', '.join(given)} set, but {why}; remove them")
            return value
        if (hostname is None) != (zone is None):
            raise ValueError("`r2GatewayHostname` and `r2GatewayZoneId` go together: set both or neither")
        if hostname is None and value is None:
            raise ValueError(
                "the upload gateway needs an address: set `r2WorkersSubdomain` (the account's workers.dev "
                "subdomain), or `r2GatewayHostname` with `r2GatewayZoneId`, or set `r2UploadGateway: false`"
            )
        if hostname is not None and value is not None:
            raise ValueError("set either `r2GatewayHostname` or `r2WorkersSubdomain`, not both: one public address")
        return value

    @field_validator(*{name for row in BACKENDS.values() for name in row.lacks})
    @classmethod
    def _not_on_backend(cls, value: Any, info: ValidationInfo) -> Any:
        """An AWS feature asked of a backend that lacks it (its row's `lacks`). Pulumi passes
        Pulumi.yaml's defaults to every stack, so "asked" means "not the default"; features on by
        default must be turned off."""
        backend, row = _row(info)
        lacking = row.lacks if row else {}
        if info.field_name is None or info.field_name not in lacking:
            return value
        field = cls.model_fields[info.field_name]
        name = _key(info.field_name)
        if field.default is True and value is True:
            raise ValueError(
                f"must be false for the {backend} backend, which has no {lacking[info.field_name]}: "
                f"set `{name}: false` (see docs/rules.md)"
            )
        if field.default is not True and value != field.default:
            raise ValueError(
                f"is an AWS setting; the {backend} backend has no {lacking[info.field_name]}: remove it "
                "(see docs/rules.md)"
            )
        return value

    @field_validator("city_ids")
    @classmethod
    def _city_ids(cls, ids: list[str]) -> list[str]:
        problems = []
        for city in ids:
            if not contract.CITY_ID_PATTERN.match(city) or len(city) > contract.CITY_ID_MAX_LENGTH:
                problems.append(
                    f"{city!r} is not a lowercase slug (allowed: a-z, 0-9 and single inner hyphens, "
                    f"at most {contract.CITY_ID_MAX_LENGTH} characters)"
                )
            if city == contract.PROBE_CITY_ID:
                problems.append(f"{city!r} is reserved for the verification probe")
        duplicates = sorted({city for city in ids if ids.count(city) > 1})
        if duplicates:
            problems.append(f"duplicate city ids: {', '.join(duplicates)}")
        if problems:
            raise ValueError("; ".join(problems))
        return ids

    @field_validator("city_authentication")
    @classmethod
    def _cities_by_certificate(cls, mode: str, info: ValidationInfo) -> str:
        if mode == "certificates" and info.data.get("city_ids"):
            raise ValueError(
                "is certificates, so `cityIds` must be empty: a city is any certificate the cities' CA issues "
                "(subject CN = city id), and onboarding one needs no deployment"
            )
        return mode

    @field_validator("city_certificate_authority")
    @classmethod
    def _certificate_authority(cls, pem: str | None) -> str | None:
        if pem is not None and "-----BEGIN CERTIFICATE-----" not in pem:
            raise ValueError("is not a PEM certificate bundle (-----BEGIN CERTIFICATE----- ...)")
        return pem

    @field_validator("city_private_ca_arn")
    @classmethod
    def _trust_anchor(cls, arn: str | None, info: ValidationInfo) -> str | None:
        """Certificates need exactly one trust anchor; access keys take none."""
        if arn is not None and not _PRIVATE_CA_ARN.fullmatch(arn):
            raise ValueError(
                f"{arn!r} is not an AWS Private CA ARN (arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>)"
            )
        if "city_authentication" not in info.data:
            return arn  # the mode itself was refused: that error says what to fix
        bundle = info.data.get("city_certificate_authority")
        if info.data["city_authentication"] != "certificates":
            if bundle is not None or arn is not None:
                raise ValueError("a trust anchor is set, but `cityAuthentication` is access-keys")
            return arn
        if (bundle is None) == (arn is None):
            raise ValueError(
                "`cityAuthentication: certificates` needs exactly one trust anchor: `cityCertificateAuthority` "
                "(a PEM bundle) or `cityPrivateCaArn`"
            )
        return arn

    @field_validator("city_key_generations")
    @classmethod
    def _key_generations(cls, generations: dict[str, list[int]], info: ValidationInfo) -> dict[str, list[int]]:
        if generations and info.data.get("city_authentication") == "certificates":
            raise ValueError("rotates access keys; with `cityAuthentication: certificates` cities hold none")
        cities = set(info.data.get("city_ids") or [])
        problems = [f"{city!r} is not in `cityIds`" for city in generations if city not in cities]
        for city, listed in generations.items():
            if not 1 <= len(listed) <= MAX_ACCESS_KEYS or any(g < 1 for g in listed) or listed != sorted(set(listed)):
                problems.append(
                    f"{city!r}: {listed} is not one or two increasing generations from 1 "
                    f"(IAM allows {MAX_ACCESS_KEYS} access keys per user)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return generations

    @field_validator("command_centre_principals", "training_principals")
    @classmethod
    def _principals(cls, arns: list[str]) -> list[str]:
        bad = [arn for arn in arns if not _PRINCIPAL_ARN.match(arn)]
        if bad:
            raise ValueError(
                f"not IAM principal ARNs: {', '.join(bad)} "
                "(allowed: arn:aws:iam::<12 digits>:root, :user/<name> or :role/<name>)"
            )
        if len(set(arns)) != len(arns):
            raise ValueError("lists a principal twice")
        return arns

    @field_validator("configuration_administrators")
    @classmethod
    def _administrators(cls, entries: list[str]) -> list[str]:
        bad = [entry for entry in entries if entry != DEPLOYER and not _PRINCIPAL_ARN.match(entry)]
        if bad:
            raise ValueError(
                f"not IAM principal ARNs: {', '.join(bad)} (allowed: `{DEPLOYER}`, arn:aws:iam::<12 digits>:root, "
                ":user/<name> or :role/<name>)"
            )
        if len(set(entries)) != len(entries):
            raise ValueError("lists a principal twice")
        return entries

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        problems = [f"key {k!r} is reserved by AWS" for k in tags if k.lower().startswith("aws:")]
        problems += [f"key {k!r} is not 1-128 characters" for k in tags if not 1 <= len(k) <= 128]
        problems += [f"value of {k!r} is longer than 256 characters" for k, v in tags.items() if len(v) > 256]
        if len(tags) > _MAX_USER_TAGS:
            problems.append(f"{len(tags)} tags, at most {_MAX_USER_TAGS} allowed")
        if problems:
            raise ValueError("; ".join(problems))
        return tags

    # --- cross-field rules (on the later field, so all problems are reported together) ------

    @field_validator("replica_region")
    @classmethod
    def _replica_region(cls, value: str | None, info: ValidationInfo) -> str | None:
        _, row = _row(info)
        if row and "replica_region" in row.lacks:
            return value  # refused, if set, as a setting the backend lacks
        if not info.data.get("replication", False):
            if value is not None:
                raise ValueError("is set but `replication` is off; remove it or turn replication on")
            return value
        if value is None:
            raise ValueError(
                "is required while `replication` is on (the default): set a region other than "
                f"{REGION_KEY}, or set `replication: false`"
            )
        if value == info.data.get("region"):
            raise ValueError(f"must differ from {REGION_KEY} ({value}): a replica in the same region is no DR copy")
        return value

    @field_validator(*{name for row in BACKENDS.values() for name in row.fixed})
    @classmethod
    def _fixed_by_backend(cls, value: Any, info: ValidationInfo) -> Any:
        """A setting the stack's backend holds at one value (its row's `fixed`)."""
        name, row = _row(info)
        fixed = row.fixed.get(info.field_name or "") if row else None
        if fixed is not None and value != fixed[0]:
            raise ValueError(
                f"cannot be {value} for the {name} backend: {fixed[1]}; remove `{_key(info.field_name or '')}`"
            )
        return value

    @field_validator(*{name for row in BACKENDS.values() for name in row.erasure_lag})
    @classmethod
    def _erasure_within_a_month(cls, days: int, info: ValidationInfo) -> int:
        """Where an erased object's bytes outlive the erasure (its row's `erasure_lag`), those windows
        together must fit in GDPR's month. Judged at the last of them to be validated, when the
        others are known (a field validator, so every other problem is still reported at once)."""
        name, row = _row(info)
        lag = row.erasure_lag if row else ()
        others = [other for other in lag if other != info.field_name]
        if info.field_name not in lag or not all(other in info.data for other in others):
            return days
        total = days + sum(int(info.data[other]) for other in others)
        if total > GDPR_ERASURE_DAYS:
            keys = " plus ".join(f"`{_key(other)}` ({info.data[other]})" for other in others)
            raise ValueError(
                f"({days}) plus {keys} exceeds {GDPR_ERASURE_DAYS}: on {name} an erased image's bytes stay that "
                "long (noncurrent, then soft-deleted), longer than GDPR's month"
            )
        return days

    @field_validator("archive_after_days")
    @classmethod
    def _archive_class_minimum(cls, days: int, info: ValidationInfo) -> int:
        storage_class = info.data.get("archive_storage_class")
        if storage_class in contract.IA_CLASSES and days < contract.MIN_DAYS_BEFORE_IA:
            raise ValueError(
                f"must be at least {contract.MIN_DAYS_BEFORE_IA} for {storage_class.value}: "
                "S3 refuses earlier transitions to IA classes"
            )
        return days

    @field_validator("correct_retention_days")
    @classmethod
    def _retention_after_archive(cls, days: int, info: ValidationInfo) -> int:
        archive = info.data.get("archive_after_days")
        if archive is not None and archive >= days:
            raise ValueError(
                f"({days}) must be greater than `archiveAfterDays` ({archive}): objects are archived "
                "before their retention ends"
            )
        return days

    @field_validator("object_lock_days")
    @classmethod
    def _lock_days(cls, days: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("object_lock_mode") is None:
            if days is not None:
                raise ValueError("is set without `objectLockMode` (allowed modes: GOVERNANCE, COMPLIANCE)")
            return None
        unsure = info.data.get("unsure_expiry_days")
        if days is not None and unsure is not None and days > unsure:
            raise ValueError(
                f"({days}) exceeds `unsureExpiryDays` ({unsure}): S3 cannot remove a locked version, "
                "so an accidental `unsure` upload would outlive its deletion date"
            )
        return days if days is not None else unsure

    @field_validator("emulator")
    @classmethod
    def _emulator_scope(cls, emulator: bool, info: ValidationInfo) -> bool:
        if emulator:
            features = {
                "replication": info.data.get("replication"),
                "objectLockMode": info.data.get("object_lock_mode"),
                "accessLogging": info.data.get("access_logging"),
            }
            if unsupported := [key for key, on in features.items() if on]:
                raise ValueError(
                    f"cannot be combined with {', '.join(unsupported)}: the local emulator neither replicates, "
                    "enforces Object Lock nor delivers access logs, so the sandbox would prove nothing about them"
                )
        return emulator

    # --- derived ----------------------------------------------------------------------------

    def key_generations(self, city: str) -> list[int]:
        """The generations of ``city``'s access key that exist (generation 1 unless rotated)."""
        return self.city_key_generations.get(city, [1])

    @property
    def periods(self) -> contract.LifecyclePeriods:
        """The lifecycle periods this stack applies (contract defaults, overridden by config)."""
        return contract.LifecyclePeriods(**{name: getattr(self, name) for name in contract.CONFIGURABLE_PERIODS})


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
            known = sorted(Settings.model_fields) if store is not None else sorted(config_schema())
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


@dataclass(frozen=True)
class ConfigKey:
    """One stack config key as a user sees it: what Pulumi.yaml declares and the README lists."""

    key: str
    type: str  # Pulumi.yaml's type names: string, integer, boolean, array; object for maps
    allowed: tuple[str, ...]
    default: str  # as the README shows it: a JSON value, "required" or "unset"
    description: str
    #: The default as a value, None where there is none (required or unset).
    default_value: Any = None


def config_schema() -> dict[str, ConfigKey]:
    """Every setting's config key, from the model's JSON schema (the one source for both)."""
    schema = Settings.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    keys = {}
    for alias, declared in schema["properties"].items():
        prop = {**defs[declared["$ref"].rsplit("/", 1)[-1]], **declared} if "$ref" in declared else declared
        variants = [v for v in prop.get("anyOf", [prop]) if v.get("type") != "null"]
        kind = variants[0].get("type", "string")
        allowed = tuple(variants[0].get("enum", [variants[0]["const"]] if "const" in variants[0] else []))
        if alias in schema.get("required", []):
            default = "required"
        elif prop.get("default") is None:
            default = "unset"
        else:
            default = f"`{json.dumps(prop['default'])}`"
        key = alias if ":" in alias else f"{PROJECT}:{alias}"
        keys[key] = ConfigKey(key, kind, allowed, default, prop["description"], prop.get("default"))
    return keys


def settings_table() -> str:
    """The README's settings table, generated from the fields above."""
    rows = ["| Setting | Type | Default | Behaviour |", "|---|---|---|---|"]
    for key in config_schema().values():
        kind = " \\| ".join(f"`{v}`" for v in key.allowed) if key.allowed else key.type
        rows.append(f"| `{key.key}` | {kind} | {key.default} | {key.description} |")
    return "\n".join(rows)


def pulumi_project_config() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of Pulumi.yaml: each project key with its type, description and default.

    Left out, because Pulumi.yaml cannot say them: provider keys (``aws:region``); keys with no
    default (the CLI treats a declared key without a default as required); ``tags`` (no
    ``object`` type). The README's settings table documents every key.
    """
    declared: dict[str, dict[str, Any]] = {}
    for key in config_schema().values():
        if not key.key.startswith(f"{PROJECT}:") or key.type == "object" or key.default_value is None:
            continue
        entry: dict[str, Any] = {"type": key.type, "description": key.description, "default": key.default_value}
        if key.type == "array":
            entry["items"] = {"type": "string"}
        declared[key.key.removeprefix(f"{PROJECT}:")] = entry
    return declared


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Print the settings documentation generated from the model.")
    parser.add_argument(
        "--pulumi-yaml", action="store_true", help="print Pulumi.yaml's config block instead of the README table"
    )
    if parser.parse_args().pulumi_yaml:
        import yaml

        print(yaml.safe_dump({"config": pulumi_project_config()}, sort_keys=False, width=100))
    else:
        print(settings_table())
