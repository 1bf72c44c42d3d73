"""The settings' rules, one function each: a value's form, and what a stack's backend requires,
lacks, fixes or refuses. :mod:`.model` binds each to its fields; cross-field rules sit on the
later field, so pydantic reports every problem of a stack file in one error.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Final

from pydantic import BaseModel, ValidationInfo
from pydantic.alias_generators import to_camel

import learning_images
from learning_images import contract, minio
from learning_images.backends import BACKENDS, OWNER, Backend, backend

PROJECT: Final = learning_images.PROJECT
REGION_KEY = "aws:region"
PROJECT_KEY = "gcp:project"
#: Provider keys the settings read (each provider's own, so the provider and the store agree).
PROVIDER_KEYS = (REGION_KEY, PROJECT_KEY)
#: Settings whose config key is a provider's, not ``learning-images:<camelCaseName>``.
ALIASES: Final = {"region": REGION_KEY, "gcp_project": PROJECT_KEY}

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
_GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
GDPR_ERASURE_DAYS = contract.GDPR_ERASURE_DAYS


def row_of(info: ValidationInfo) -> tuple[str | None, Backend | None]:
    """The backend the settings name (validated before every other field), and its row."""
    name = info.data.get("backend")
    return name, BACKENDS.get(name) if isinstance(name, str) else None


def key(name: str) -> str:
    """A setting's config key (its alias where it has one, as `aws:region`), for messages."""
    return ALIASES.get(name) or to_camel(name)


# --- single-field rules ---------------------------------------------------------------


def region_format(value: str | None) -> str | None:
    if value is not None and not _REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region name such as 'eu-west-1'")
    return value


def required_by_backend(value: Any, info: ValidationInfo) -> Any:
    """A setting the stack's backend requires (its row's `required`)."""
    name, row = row_of(info)
    how = row.required.get(info.field_name or "") if row else None
    if value is None and how is not None:
        raise ValueError(f"is required for the {name} backend: {how}")
    return value


def cloudflare_account_format(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[0-9a-f]{32}", value):
        raise ValueError(f"{value!r} is not a Cloudflare account id (32 lowercase hex digits)")
    return value


def gcp_project_format(value: str | None) -> str | None:
    if value is not None and not _GCP_PROJECT.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Google Cloud project id (6 to 30 lowercase letters, digits or hyphens, "
            "starting with a letter)"
        )
    return value


def own_setting(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """One backend's setting asked of another (asked: not the default, as Pulumi passes defaults):
    an aws stack with `r2LocationHint` was accepted and the setting silently ignored."""
    name, _ = row_of(info)
    if info.field_name is None or name is None or name in OWNER[info.field_name]:
        return value
    if value != cls.model_fields[info.field_name].default:
        *others, last = OWNER[info.field_name]
        owners = f"{', '.join(others)} and {last} backends" if others else f"{last} backend"
        raise ValueError(f"is a setting of the {owners}, but the backend is {name}: remove `{key(info.field_name)}`")
    return value


def https_url(value: str | None) -> str | None:
    """An HTTPS URL with a host and no path: where clients send S3 requests (the contract's
    encryption in transit; a path would be read as a bucket)."""
    if value is None:
        return value
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme != "https" or not parsed.hostname or parsed.path not in ("", "/") or parsed.query:
        raise ValueError(f"{value!r} is not an HTTPS URL of a server such as 'https://minio.example.org:9000'")
    return value.rstrip("/")


def minio_event_target(value: str) -> str:
    if not minio.QUEUE_ARN_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not the ARN of a MinIO PostgreSQL notification target, "
            "'arn:minio:sqs:<region or nothing>:<target id>:postgresql' (`mc admin info --json` lists the server's)"
        )
    return value


def b2_region(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[a-z]{2}-[a-z]+-\d{3}", value):
        raise ValueError(f"{value!r} is not a B2 region such as 'eu-central-003' (B2's bucket details name it)")
    return value


def hostname(value: str | None) -> str | None:
    if value is not None and not _HOSTNAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a DNS hostname such as 'upload.learning-images.example.com'")
    return value


def zone_id(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[0-9a-f]{32}", value):
        raise ValueError(f"{value!r} is not a Cloudflare zone id (32 lowercase hex digits)")
    return value


def gateway_address(value: str | None, info: ValidationInfo) -> str | None:
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


def not_on_backend(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """An AWS feature asked of a backend that lacks it (its row's `lacks`). Pulumi passes
    Pulumi.yaml's defaults to every stack, so "asked" means "not the default"; features on by
    default must be turned off."""
    backend, row = row_of(info)
    lacking = row.lacks if row else {}
    if info.field_name is None or info.field_name not in lacking:
        return value
    field = cls.model_fields[info.field_name]
    name = key(info.field_name)
    if field.default is True and value is True:
        raise ValueError(
            f"must be false for the {backend} backend, which has no {lacking[info.field_name]}: "
            f"set `{name}: false` (see docs/rules.md)"
        )
    if field.default is not True and value != field.default:
        raise ValueError(
            f"is an AWS setting; the {backend} backend has no {lacking[info.field_name]}: remove it (see docs/rules.md)"
        )
    return value


def city_ids(ids: list[str]) -> list[str]:
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


def cities_by_certificate(mode: str, info: ValidationInfo) -> str:
    if mode == "certificates" and info.data.get("city_ids"):
        raise ValueError(
            "is certificates, so `cityIds` must be empty: a city is any certificate the cities' CA issues "
            "(subject CN = city id), and onboarding one needs no deployment"
        )
    return mode


def certificate_authority(pem: str | None) -> str | None:
    if pem is not None and "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError("is not a PEM certificate bundle (-----BEGIN CERTIFICATE----- ...)")
    return pem


def trust_anchor(arn: str | None, info: ValidationInfo) -> str | None:
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


def key_generations(generations: dict[str, list[int]], info: ValidationInfo) -> dict[str, list[int]]:
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


_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}")
_NOTIFICATION_CHANNEL = re.compile(r"projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/notificationChannels/[0-9]+")


def topic_arn(value: str | None) -> str | None:
    if value is not None and not _TOPIC_ARN.fullmatch(value):
        raise ValueError(f"{value!r} is not an SNS topic ARN such as 'arn:aws:sns:eu-west-1:123456789012:alarms'")
    return value


def notification_channels(names: list[str]) -> list[str]:
    bad = [name for name in names if not _NOTIFICATION_CHANNEL.fullmatch(name)]
    if bad:
        raise ValueError(
            f"not Cloud Monitoring notification channels: {', '.join(bad)} "
            "(allowed: projects/<project id>/notificationChannels/<digits>)"
        )
    if len(set(names)) != len(names):
        raise ValueError("lists a channel twice")
    return names


def principals(arns: list[str]) -> list[str]:
    bad = [arn for arn in arns if not _PRINCIPAL_ARN.match(arn)]
    if bad:
        raise ValueError(
            f"not IAM principal ARNs: {', '.join(bad)} "
            "(allowed: arn:aws:iam::<12 digits>:root, :user/<name> or :role/<name>)"
        )
    if len(set(arns)) != len(arns):
        raise ValueError("lists a principal twice")
    return arns


def administrators(entries: list[str]) -> list[str]:
    bad = [entry for entry in entries if entry != DEPLOYER and not _PRINCIPAL_ARN.match(entry)]
    if bad:
        raise ValueError(
            f"not IAM principal ARNs: {', '.join(bad)} (allowed: `{DEPLOYER}`, arn:aws:iam::<12 digits>:root, "
            ":user/<name> or :role/<name>)"
        )
    if len(set(entries)) != len(entries):
        raise ValueError("lists a principal twice")
    return entries


def tags(tags: dict[str, str]) -> dict[str, str]:
    problems = [f"key {k!r} is reserved by AWS" for k in tags if k.lower().startswith("aws:")]
    problems += [f"key {k!r} is not 1-128 characters" for k in tags if not 1 <= len(k) <= 128]
    problems += [f"value of {k!r} is longer than 256 characters" for k, v in tags.items() if len(v) > 256]
    if len(tags) > _MAX_USER_TAGS:
        problems.append(f"{len(tags)} tags, at most {_MAX_USER_TAGS} allowed")
    if problems:
        raise ValueError("; ".join(problems))
    return tags


# --- cross-field rules (on the later field, so all problems are reported together) ------


def replica_region(value: str | None, info: ValidationInfo) -> str | None:
    _, row = row_of(info)
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


def fixed_by_backend(value: Any, info: ValidationInfo) -> Any:
    """A setting the stack's backend holds at one value (its row's `fixed`)."""
    name, row = row_of(info)
    fixed = row.fixed.get(info.field_name or "") if row else None
    if fixed is not None and value != fixed[0]:
        raise ValueError(f"cannot be {value} for the {name} backend: {fixed[1]}; remove `{key(info.field_name or '')}`")
    return value


def erasure_within_a_month(days: int, info: ValidationInfo) -> int:
    """Where an erased object's bytes outlive the erasure (its row's `erasure_lag`), those windows
    together must fit in GDPR's month. Judged at the last of them to be validated, when the
    others are known (a field validator, so every other problem is still reported at once)."""
    name, row = row_of(info)
    lag = row.erasure_lag if row else ()
    others = [other for other in lag if other != info.field_name]
    if info.field_name not in lag or not all(other in info.data for other in others):
        return days
    total = days + sum(int(info.data[other]) for other in others)
    if total > GDPR_ERASURE_DAYS:
        keys = " plus ".join(f"`{key(other)}` ({info.data[other]})" for other in others)
        raise ValueError(
            f"({days}) plus {keys} exceeds {GDPR_ERASURE_DAYS}: on {name} an erased image's bytes stay that "
            "long (noncurrent, then soft-deleted), longer than GDPR's month"
        )
    return days


def archive_class_minimum(days: int, info: ValidationInfo) -> int:
    storage_class = info.data.get("archive_storage_class")
    if storage_class in contract.IA_CLASSES and days < contract.MIN_DAYS_BEFORE_IA:
        raise ValueError(
            f"must be at least {contract.MIN_DAYS_BEFORE_IA} for {storage_class.value}: "
            "S3 refuses earlier transitions to IA classes"
        )
    return days


def retention_after_archive(days: int, info: ValidationInfo) -> int:
    archive = info.data.get("archive_after_days")
    if archive is not None and archive >= days:
        raise ValueError(
            f"({days}) must be greater than `archiveAfterDays` ({archive}): objects are archived "
            "before their retention ends"
        )
    return days


def lock_days(days: int | None, info: ValidationInfo) -> int | None:
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


def emulator_scope(emulator: bool, info: ValidationInfo) -> bool:
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
