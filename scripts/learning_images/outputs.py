"""The stack outputs: one typed schema, filled by every backend and read by every client.

This module is the seam between the store and its clients. The Pulumi components export exactly
these fields (:func:`checked_export` refuses a missing or unknown one at program time); clients
read them with :func:`parse_outputs` from ``pulumi stack output --json --show-secrets`` or a file
of the same shape. What a backend can and cannot do is data here (:class:`BackendProfile`,
exported as ``capabilities``, each backend's row in ``learning_images.backends``): clients branch
on it, never on the backend's name. Access keys
are ``SecretStr``: they never appear in a repr, a log line or a report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from learning_images import contract, gateway
from learning_images.backends import BackendProfile


class OutputsError(Exception):
    """The outputs cannot be read or are not a store's outputs; the message says what to fix."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Credentials(_Model):
    city_id: str
    access_key_id: str
    secret_access_key: SecretStr


class ReplicaOutputs(_Model):
    bucket_name: str
    bucket_arn: str
    region: str
    kms_key_arn: str
    replication_role_arn: str


class ObjectLockOutputs(_Model):
    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: int


class LifecycleOutputs(_Model):
    #: The backend's own name of the colder class: an S3 storage class, R2's "InfrequentAccess".
    archive_storage_class: str
    archive_after_days: int
    correct_retention_days: int
    unsure_expiry_days: int
    noncurrent_version_expiry_days: int

    @classmethod
    def of(cls, periods: contract.LifecyclePeriods, archive_storage_class: str) -> LifecycleOutputs:
        """What a store exports of the periods it applies (the settings' ``periods``)."""
        return cls(
            archive_storage_class=archive_storage_class,
            **{name: getattr(periods, name) for name in contract.CONFIGURABLE_PERIODS},
        )

    def periods(self) -> contract.LifecyclePeriods:
        """The periods the stack applies, as the contract's one object (what :meth:`of` was given)."""
        return contract.LifecyclePeriods(**{name: getattr(self, name) for name in contract.CONFIGURABLE_PERIODS})

    def rules(self) -> list[contract.LifecycleRule]:
        """The rules the stack must carry: the contract's, with this stack's periods."""
        return contract.lifecycle_rules(self.periods(), self.archive_storage_class)


class RolesAnywhereOutputs(_Model):
    """Where a city's certificate becomes a session (``cityAuthentication: certificates``): the three
    ARNs IAM Roles Anywhere's CreateSession takes, and how long a session lasts."""

    trust_anchor_arn: str
    profile_arn: str
    role_arn: str
    session_seconds: int


class InventoryOutputs(_Model):
    bucket_name: str
    #: ``inventory/<bucket>/<configuration id>/``: dated folders with a ``manifest.json`` each.
    prefix: str


class ReceiverCredentials(_Model):
    """The receiver's own credential where it is not a role to assume (R2, Cloud Storage)."""

    #: The S3-API key it reads objects' metadata with (an R2 token's, a service account's HMAC key).
    access_key_id: str
    secret_access_key: SecretStr
    #: R2: the token value, the bearer credential of Cloudflare's Queues API.
    api_token: SecretStr | None = None
    #: Cloud Storage: the receiver service account's JSON key, for Pub/Sub.
    service_account_key: SecretStr | None = None


class RegistrationOutputs(_Model):
    """Where the store's object events wait for the receiver (``learning-images-register``)."""

    #: The event service the receiver pulls from (the backend row's ``event_source``).
    source: Literal["sqs", "cloudflare-queues", "pubsub", "postgresql"]
    #: Cloudflare Queues: whose events its messages are (the backend row's ``event_format``): R2's
    #: notifications, or B2's webhooks the upload gateway queued. None: R2's (stacks before B2's).
    message_format: Literal["r2-notification", "b2-webhook"] | None = None
    #: What the receiver pulls from: the SQS queue's URL, the Cloudflare Queue's API URL, the Pub/Sub
    #: subscription's REST URL, the table (in the learning store's database) MinIO's target writes.
    queue_url: str
    #: AWS: the queue's ARN.
    queue_arn: str | None = None
    #: Where a message that kept failing goes, with its reason; the alarms watch it (a queue's URL,
    #: on Pub/Sub the dead-letter topic's REST URL, on MinIO a table).
    dead_letter_queue_url: str
    #: The delivery after which the event service moves a message to the dead-letter queue itself;
    #: None: ask the service (SQS's redrive policy).
    max_receives: int | None = None
    #: AWS: the receiver's role, which the operator (a Command Centre principal) assumes.
    receiver_role_arn: str | None = None
    #: R2, Cloud Storage and MinIO: the receiver's credential (secrets).
    receiver_credentials: ReceiverCredentials | None = None


class StackOutputs(_Model):
    backend: Literal["aws", "r2", "gcs", "minio", "spaces", "b2"]
    #: What this backend can do; clients decide from it, never from ``backend``.
    capabilities: BackendProfile
    emulator: bool = False
    region: str
    #: The S3 API endpoint; None means the SDK's own (AWS).
    endpoint_url: str | None = None
    #: Where cities upload, when it is not ``endpoint_url``: the R2 upload gateway. The Command
    #: Centre and training tiers always use ``endpoint_url``.
    city_endpoint_url: str | None = None
    bucket_name: str
    bucket_arn: str | None = None
    #: The store's customer-managed key: a KMS key ARN on AWS, a Cloud KMS key name on GCS; None on
    #: R2, which encrypts with Cloudflare-managed keys.
    kms_key_arn: str | None = None
    object_lock: ObjectLockOutputs | None = None
    bucket_lock_days: int | None = None
    lifecycle: LifecycleOutputs
    replica: ReplicaOutputs | None = None
    access_log_bucket_name: str | None = None
    #: The daily S3 Inventory (AWS with the log bucket); None elsewhere.
    inventory: InventoryOutputs | None = None
    #: AWS: roles the operator assumes. R2: token credentials instead.
    command_centre_role_arn: str | None = None
    training_role_arn: str | None = None
    command_centre_credentials: Credentials | None = None
    training_credentials: Credentials | None = None
    city_credentials: dict[str, Credentials]
    #: The probe city's key; None where cities authenticate with certificates (the operator holds a
    #: certificate for the probe city, ``contract.PROBE_CITY_ID`` as its CN).
    probe_credentials: Credentials | None = None
    #: With ``cityAuthentication: certificates``: where a city's certificate becomes a session.
    roles_anywhere: RolesAnywhereOutputs | None = None
    #: AWS: the principal patterns allowed to change the configuration (empty: the guard is off).
    configuration_administrators: list[str] = []
    #: Where object events arrive for registration in ``learning_samples``; None: registration off.
    registration: RegistrationOutputs | None = None

    @property
    def cities_region(self) -> str:
        """The region city credentials sign for: the upload gateway's where cities upload through it
        (it checks its own), else the store's."""
        return gateway.SIGNING_REGION if self.capabilities.upload_gateway else self.region

    @property
    def cities_endpoint_url(self) -> str | None:
        """The endpoint city credentials are valid at."""
        return self.city_endpoint_url or self.endpoint_url

    def reference(self, key: str, *, any_key: bool = False) -> str:
        """The ``learning_samples.image_reference`` of an object of this store (``any_key``: its key
        may break the contract, as a quarantined row's does)."""
        return contract.object_reference(self.capabilities.reference_scheme, self.bucket_name, key, any_key=any_key)

    def foreign_secrets(self, city: str) -> list[str]:
        """What these outputs hold that city ``city`` must not: every other tier's credentials."""
        held = [f"city {other}'s key" for other in sorted(self.city_credentials) if other != city]
        held += [
            name
            for name, credentials in (
                ("the Command Centre's key", self.command_centre_credentials),
                ("the training tier's key", self.training_credentials),
                ("the probe city's key", self.probe_credentials),
                ("the receiver's key", self.registration and self.registration.receiver_credentials),
            )
            if credentials is not None
        ]
        return held

    def city_kit(self, city: str) -> StackOutputs:
        """The outputs one city needs to upload, and nothing else: its own key (or, with
        certificates, where its certificate becomes a session), the bucket and the endpoints. No
        other tier's credential, no role, key, replica or administrator of the store."""
        if self.city_credentials and city not in self.city_credentials:
            raise OutputsError(
                f"city {city!r} has no credentials in these outputs; "
                f"its cities are {', '.join(sorted(self.city_credentials))}"
            )
        return StackOutputs(
            backend=self.backend,
            capabilities=self.capabilities,
            emulator=self.emulator,
            region=self.region,
            endpoint_url=self.endpoint_url,
            city_endpoint_url=self.city_endpoint_url,
            bucket_name=self.bucket_name,
            lifecycle=self.lifecycle,
            city_credentials={city: self.city_credentials[city]} if self.city_credentials else {},
            roles_anywhere=self.roles_anywhere,
        )

    def key_of(self, reference: str) -> str | None:
        """The object key a reference of this store names, or None if it names another store."""
        prefix = self.reference(contract.PLACEHOLDER_KEY).removesuffix(contract.PLACEHOLDER_KEY)
        return reference[len(prefix) :] if reference.startswith(prefix) else None


def store_outputs(
    *,
    backend: str,
    capabilities: BackendProfile,
    region: Any,
    bucket_name: Any,
    periods: contract.LifecyclePeriods,
    archive_storage_class: str,
    city_credentials: Any,
    **specific: Any,
) -> dict[str, Any]:
    """The outputs a store exports, built once: the fields every store fills, every field a store
    does not name at the schema's default (None, ``[]``, false), and ``specific`` for the rest (each
    a field of the schema). Values may be unknown Pulumi outputs; clients check their types."""
    unknown = set(specific) - set(StackOutputs.model_fields)
    if unknown:
        raise ValueError(f"stack outputs differ from learning_images.outputs: unknown {sorted(unknown)}")
    values = {
        name: None if field.is_required() else field.get_default(call_default_factory=True)
        for name, field in StackOutputs.model_fields.items()
    }
    values.update(
        backend=backend,
        capabilities=capabilities.model_dump(),
        region=region,
        bucket_name=bucket_name,
        lifecycle=LifecycleOutputs.of(periods, archive_storage_class).model_dump(),
        city_credentials=city_credentials,
        **specific,
    )
    return checked_export(values)


def checked_export(values: Mapping[str, Any]) -> dict[str, Any]:
    """The stack outputs a component exports, checked against the schema's fields at program time
    (values may still be unknown Pulumi outputs: their types are checked when clients read them)."""
    fields = set(StackOutputs.model_fields)
    missing, unknown = fields - set(values), set(values) - fields
    if missing or unknown:
        raise ValueError(f"stack outputs differ from learning_images.outputs: missing {missing}, unknown {unknown}")
    return dict(values)


def parse_outputs(data: object, source: str) -> StackOutputs:
    try:
        return StackOutputs.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise OutputsError(
            f"{source} is not this project's stack outputs ({problems}). Deploy the stack with `pulumi up` "
            "and pass its outputs, or regenerate the file with `pulumi stack output --json --show-secrets`."
        ) from None


def read_outputs_file(path: Path) -> StackOutputs:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise OutputsError(f"outputs file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise OutputsError(f"outputs file {path} is not JSON ({exc})") from None
    return parse_outputs(data, f"outputs file {path}")


def read_stack_outputs(stack: str) -> StackOutputs:
    """Ask the Pulumi CLI for a stack's outputs, secrets included (they stay in memory)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError("the pulumi CLI is not on PATH: install it, or pass --outputs FILE with the stack's outputs")
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [pulumi, "stack", "output", "--json", "--show-secrets", "--stack", stack],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise OutputsError(f"`pulumi stack output --stack {stack}` failed: {result.stderr.strip()}")
    return parse_outputs(json.loads(result.stdout), f"stack {stack}")


#: Names the outputs file when neither ``--stack`` nor ``--outputs`` is given (the sandbox's env
#: file sets it, so the commands run against a running sandbox with no flags).
OUTPUTS_ENVIRONMENT = "LEARNING_IMAGES_OUTPUTS"


def add_outputs_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--stack`` or ``--outputs``: where every operational script finds the deployed stack;
    ``$LEARNING_IMAGES_OUTPUTS`` when neither is given."""
    default = os.environ.get(OUTPUTS_ENVIRONMENT)
    source = parser.add_mutually_exclusive_group(required=required and not default)
    source.add_argument("--stack", help="read the outputs of this stack with the Pulumi CLI")
    source.add_argument(
        "--outputs",
        type=Path,
        default=Path(default) if default else None,
        help=f"the outputs as JSON (pulumi stack output --json --show-secrets); default ${OUTPUTS_ENVIRONMENT}",
    )


def outputs_from_args(args: argparse.Namespace) -> StackOutputs | None:
    """The outputs named by :func:`add_outputs_arguments`, or None if neither was given."""
    if args.outputs:
        return read_outputs_file(args.outputs)
    if args.stack:
        return read_stack_outputs(args.stack)
    return None
