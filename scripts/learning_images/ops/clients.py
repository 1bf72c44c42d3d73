"""boto3 sessions for the contract's tiers, with bounded retries and timeouts.

The operator is whoever runs the script (the default credential chain: environment, profile,
OIDC role in CI); it reads the bucket's configuration back and assumes the two tier roles.
The probe city uses the probe uploader's access key from the stack outputs.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore import handlers
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

from learning_images import contract
from learning_images.outputs import Credentials, ReceiverCredentials, StackOutputs

SESSION_NAME = "verify-contract"

#: Error codes that mean "these credentials are wrong", not "this request is refused".
CREDENTIAL_ERRORS = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken"})


@dataclass(frozen=True)
class Endpoint:
    """Where S3, IAM and STS answer: the backend's own (None) or a local emulator's URL."""

    url: str | None
    region: str
    #: Per-request connect and read timeout, seconds.
    timeout: float

    def config(self, **overrides: Any) -> Config:
        """Client settings; ``overrides`` (e.g. the replica's ``region_name``) replace the defaults."""
        settings: dict[str, Any] = {
            "region_name": self.region,
            # botocore's "standard" retry mode: exponential backoff with jitter on throttling and 5xx.
            "retries": {"mode": "standard", "max_attempts": 3},
            "connect_timeout": self.timeout,
            "read_timeout": self.timeout,
            "s3": {"addressing_style": "path"} if self.url else {},
        }
        return Config(**{**settings, **overrides})

    def client(self, session: boto3.Session, service: str, **overrides: Any) -> Any:
        return session.client(service, endpoint_url=self.url, config=self.config(**overrides))


#: One model loader for every session of the process. A boto3 Session made on its own reads and
#: parses each service's JSON model again: measured here, 143 ms for a new session and its S3
#: client, 17 ms with the loader shared. A command holds a session per tier, the sandbox many more.
_LOADER = botocore.loaders.create_loader()


def new_session(core: botocore.session.Session | None = None, **settings: Any) -> boto3.Session:
    """``boto3.Session(**settings)`` (credentials, ``region_name``, ``profile_name``) on ``core`` or a
    fresh botocore session, sharing the process's model loader. Credentials stay per session."""
    core = core or botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    made = boto3.Session(botocore_session=core, **settings)
    # boto3 appends its own data folder to the loader's search path for every session: keep one.
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))
    return made


def without_expect_continue(s3: Any) -> Any:
    """``s3`` without botocore's ``Expect: 100-continue`` on uploads, for the R2 upload gateway.

    botocore adds the header to every PUT whose body is file-like, whatever its size, then waits
    up to one second for ``100 Continue`` before sending the body. The Workers runtime (workerd)
    never sends one, so each upload through the gateway stalled 1 s (measured: 1.01 s per upload
    against 0.01 s without the header). The header only saves sending a body the server would
    refuse, which for a camera JPEG is a few hundred kilobytes at most.
    """
    s3.meta.events.unregister("before-call.s3", handlers.add_expect_header)
    return s3


def key_session(credentials: Credentials | ReceiverCredentials, region: str) -> boto3.Session:
    return new_session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key.get_secret_value(),
        region_name=region,
    )


def assume(
    operator: boto3.Session, role_arn: str, endpoint: Endpoint, session_name: str = SESSION_NAME
) -> boto3.Session:
    """A session of a tier role, assumed by the operator (raises botocore's ClientError), that
    assumes it again before its credentials expire: an erasure or retention run longer than one
    session (``contract.ROLE_SESSION_SECONDS``) must not fail midway with ExpiredToken.
    botocore's RefreshableCredentials calls :func:`fetch` again when fewer than 15 minutes are
    left (its advisory refresh)."""
    sts = endpoint.client(operator, "sts")

    def fetch() -> dict[str, str]:
        found = sts.assume_role(
            RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=contract.ROLE_SESSION_SECONDS
        )["Credentials"]
        return {
            "access_key": found["AccessKeyId"],
            "secret_key": found["SecretAccessKey"],
            "token": found["SessionToken"],
            "expiry_time": found["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(fetch(), fetch, "sts-assume-role")
    core = botocore.session.get_session()
    core._credentials = credentials
    core.set_config_variable("region", endpoint.region)
    return new_session(core)


@dataclass(frozen=True)
class TierSessions:
    operator: boto3.Session
    probe: boto3.Session
    command_centre: boto3.Session
    training: boto3.Session


#: Another IAM Roles Anywhere CreateSession endpoint (host[:port]): the sandbox's stand-in sets it.
ROLES_ANYWHERE_ENDPOINT = "LEARNING_IMAGES_ROLES_ANYWHERE_ENDPOINT"


def _certificate_errors() -> tuple[type[Exception], ...]:
    try:
        from iam_rolesanywhere_session.exceptions import IAMRolesAnywhereError  # noqa: PLC0415
    except ImportError:
        return ()
    return (IAMRolesAnywhereError,)


#: What a certificate session raises at its first request when Roles Anywhere refuses the
#: certificate (the session is made lazily): empty without the [certificates] extra.
CERTIFICATE_ERRORS = _certificate_errors()


class CertificateSessionError(ValueError):
    """A certificate session cannot be made here; the message says what to fix."""


def certificate_session(outputs: StackOutputs, certificate: Path, private_key: Path) -> boto3.Session:
    """A city's session from its certificate: IAM Roles Anywhere's CreateSession, with the trust
    anchor, profile and role the stack outputs name. The session refreshes itself before it ends
    (``iam-rolesanywhere-session``). ``$LEARNING_IMAGES_ROLES_ANYWHERE_ENDPOINT`` names another
    CreateSession endpoint (host[:port]: the sandbox's stand-in), trusted through ``$AWS_CA_BUNDLE``
    as every client here is."""
    endpoint, verify = os.environ.get(ROLES_ANYWHERE_ENDPOINT), os.environ.get("AWS_CA_BUNDLE")
    found = outputs.roles_anywhere
    if found is None:
        raise CertificateSessionError(
            "the stack's cities authenticate with access keys, not certificates (no roles_anywhere output)"
        )
    try:
        from iam_rolesanywhere_session import IAMRolesAnywhereSession  # noqa: PLC0415 (an optional extra)
    except ImportError:
        raise CertificateSessionError(
            "certificate sessions need the [certificates] extra: install learning-images[certificates] from this "
            "project's tagged release (docs/operating.md, a city with a certificate)"
        ) from None
    try:
        pem, key = certificate.read_bytes(), private_key.read_bytes()
    except OSError as exc:
        raise CertificateSessionError(f"cannot read the certificate or its key: {exc}") from None
    created = IAMRolesAnywhereSession(
        profile_arn=found.profile_arn,
        role_arn=found.role_arn,
        trust_anchor_arn=found.trust_anchor_arn,
        certificate=pem,
        private_key=key,
        session_duration=found.session_seconds,
        region=outputs.region,
        endpoint=endpoint,
        verify=verify if verify is not None else True,
    )
    return created.get_session()


class ProbeSessionMissingError(ValueError):
    """The stack's cities authenticate with certificates, and no probe-city session was given."""


def tier_sessions(
    outputs: StackOutputs, operator: boto3.Session | None, endpoint: Endpoint, probe: boto3.Session | None = None
) -> TierSessions:
    """AWS: the operator assumes the two roles. R2: every tier has its token credentials in the
    outputs, and the Command Centre's token reads the configuration back (no operator needed).
    ``probe``: the probe city's session, where the outputs hold no probe key (certificates)."""
    if probe is None:
        if outputs.probe_credentials is None:
            raise ProbeSessionMissingError(
                "the stack's cities authenticate with certificates: give the probe city's session "
                f"(--probe-profile: a profile whose credential_process presents a certificate with CN "
                f"{contract.PROBE_CITY_ID}, or --probe-certificate with --probe-private-key)"
            )
        probe = key_session(outputs.probe_credentials, outputs.region)
    if outputs.command_centre_credentials and outputs.training_credentials:
        command_centre = key_session(outputs.command_centre_credentials, outputs.region)
        training = key_session(outputs.training_credentials, outputs.region)
        return TierSessions(operator=command_centre, probe=probe, command_centre=command_centre, training=training)
    if operator is None or not outputs.command_centre_role_arn or not outputs.training_role_arn:
        raise ValueError("an AWS stack's tiers are roles: an operator session and both role ARNs are needed")
    return TierSessions(
        operator=operator,
        probe=probe,
        command_centre=assume(operator, outputs.command_centre_role_arn, endpoint),
        training=assume(operator, outputs.training_role_arn, endpoint),
    )


def command_centre_session(
    outputs: StackOutputs, operator: boto3.Session | None, endpoint: Endpoint, session_name: str
) -> boto3.Session:
    """The Command Centre tier, for erasure and retention: its token on R2, its role on AWS
    (assumed by the operator, so CloudTrail names the person behind ``session_name``)."""
    return _tier_session(
        outputs.command_centre_credentials, outputs.command_centre_role_arn, outputs, operator, endpoint, session_name
    )


def training_session(
    outputs: StackOutputs, operator: boto3.Session | None, endpoint: Endpoint, session_name: str
) -> boto3.Session:
    """The training tier, read-only: its key on R2 and Cloud Storage, its role on AWS."""
    return _tier_session(
        outputs.training_credentials, outputs.training_role_arn, outputs, operator, endpoint, session_name
    )


def _tier_session(  # noqa: PLR0917 (a tier's two ways in, and where)
    credentials: Credentials | None,
    role_arn: str | None,
    outputs: StackOutputs,
    operator: boto3.Session | None,
    endpoint: Endpoint,
    session_name: str,
) -> boto3.Session:
    if credentials:
        return key_session(credentials, outputs.region)
    if not role_arn:
        raise ValueError("the stack outputs name no role or credentials for this tier")
    return assume(operator or new_session(region_name=outputs.region), role_arn, endpoint, session_name)


def identity(session: boto3.Session, endpoint: Endpoint, outputs: StackOutputs) -> str:
    """Who acts, for audit records: the STS caller on AWS, the key id elsewhere (no STS there)."""
    if not outputs.capabilities.caller_identity:
        credentials = session.get_credentials()
        return f"{outputs.capabilities.access_key_kind}:{credentials.access_key if credentials else 'unknown'}"
    arn: str = endpoint.client(session, "sts").get_caller_identity()["Arn"]
    return arn


@contextmanager
def interrupts_as_exceptions(
    second: str = "the record written so far is on disk", exit_code: int = 130
) -> Iterator[None]:
    """The first Ctrl-C or SIGTERM (what cron, systemd and Kubernetes send) unwinds like Ctrl-C,
    so a command finishes its record and exits with a message instead of dying silently. A second
    one stops the process at once with ``exit_code``, without a traceback, saying ``second``
    (every record is already on disk: rows are flushed as they are written)."""
    interrupted = False

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        if interrupted:
            os.write(2, f"\nstopped at once: {second}\n".encode())
            os._exit(exit_code)
        interrupted = True
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        # After an interrupt the handler stays: uploads in flight still finish (their threads are
        # joined at exit), and a second signal must still stop the process at once.
        if not interrupted:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
