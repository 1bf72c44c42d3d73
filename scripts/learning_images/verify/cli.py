"""Prove, rule by rule, that a deployed stack honours the storage contract.

    python -m learning_images.verify --stack prod            # outputs from the Pulumi CLI
    python -m learning_images.verify --outputs outputs.json  # outputs from a file

Every rule is probed with the real tier credentials (the probe city, the Command Centre and
training roles) and reported PASS, FAIL or SKIP with the reason and the evidence (the request
made and the status or error code seen). Rules that rest on IAM conditions are probed like every
other: against AWS, or against the sandbox's enforcing local S3, which evaluates them as IAM does.

Exit codes: 0 nothing failed; 1 a rule failed; 2 usage, credentials, connection or time budget.
Every object a run creates (all versions, in the primary and the replica) is removed before it
exits, also when a probe fails or the run is interrupted. Secrets are never printed."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from pydantic import SecretStr
from rich.console import Console

from learning_images import PROJECT, contract
from learning_images.ops import arguments
from learning_images.ops.clients import (
    CertificateSessionError,
    Endpoint,
    ProbeSessionMissingError,
    certificate_session,
    interrupts_as_exceptions,
    new_session,
    tier_sessions,
)
from learning_images.outputs import OutputsError, StackOutputs, add_outputs_arguments, outputs_from_args
from learning_images.registry import named_database_url
from learning_images.verify.journal import state_lock, store_name
from learning_images.verify.probes import CannotVerifyError, Status
from learning_images.verify.report import print_table, write_json, write_junit
from learning_images.verify.verifier import Verifier


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser("verify", "Prove a deployed stack honours the storage contract.")
    add_outputs_arguments(parser)
    parser.add_argument("--endpoint-url", help="S3/IAM/STS endpoint (default: the backend's own, e.g. AWS)")
    parser.add_argument(
        "--plain-http-url",
        default=os.environ.get("LEARNING_IMAGES_PLAIN_HTTP_URL"),
        help="where the store answers plain HTTP, to prove it refuses (default: the endpoint's)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / PROJECT,
        help="where probe keys are noted before each upload, so a run killed before its cleanup is "
        "cleaned by the next (default: $XDG_STATE_HOME/learning-images)",
    )
    probe = parser.add_mutually_exclusive_group()
    probe.add_argument(
        "--probe-certificate",
        type=Path,
        help=f"where cities authenticate with certificates: a certificate (PEM) of the cities' CA with CN "
        f"{contract.PROBE_CITY_ID}, the probe city's identity (needs --probe-private-key, the [certificates] extra)",
    )
    probe.add_argument(
        "--probe-profile",
        help="where cities authenticate with certificates: an AWS profile whose credential_process presents the "
        f"{contract.PROBE_CITY_ID} certificate (aws_signing_helper credential-process ...)",
    )
    parser.add_argument("--probe-private-key", type=Path, help="the private key of --probe-certificate (PEM)")
    parser.add_argument(
        "--time-budget", type=arguments.positive_seconds, default=300.0, help="seconds for the whole run (default: 300)"
    )
    parser.add_argument(
        "--wait-replication",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also wait this long for the probe object in the replica",
    )
    arguments.add_database_arguments(parser)
    parser.add_argument(
        "--wait-registration",
        type=arguments.positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="how long the probe's upload may take to appear in learning_samples (default: 60); the "
        "registration rules are skipped without a learning store (--database-url-file or its variable)",
    )
    parser.add_argument("--json", type=Path, dest="json_path", help="also write the report as JSON here")
    parser.add_argument("--junit", type=Path, help="also write the report as JUnit XML here (for CI)")
    args = parser.parse_args(argv)
    if (args.probe_certificate is None) != (args.probe_private_key is None):
        parser.error("--probe-certificate and --probe-private-key go together")
    return args


def learning_store(args: argparse.Namespace) -> SecretStr | None:
    """The learning store the registration rules read: named, never the embedded default (a
    verification of a deployed stack must not pass on a file of this machine's)."""
    try:
        return named_database_url(args)
    except ValueError as exc:
        raise CannotVerifyError(str(exc)) from None


def probe_session(args: argparse.Namespace, outputs: StackOutputs) -> boto3.Session | None:
    """The probe city's session from a certificate or a profile; None: its key from the outputs."""
    if args.probe_certificate is not None:
        return certificate_session(outputs, args.probe_certificate, args.probe_private_key)
    if args.probe_profile is not None:
        return new_session(profile_name=args.probe_profile, region_name=outputs.region)
    return None


def main(argv: list[str] | None = None, *, operator: boto3.Session | None = None) -> int:
    args = parse_args(argv)
    # Wide enough for the evidence column when the output is a CI log rather than a terminal.
    console = Console(width=None if sys.stdout.isatty() else 180)
    journal = args.state_dir / "probes-*.txt"
    # Installed first, so no signal at any instant kills the run with a traceback or a signal's exit
    # status: the first unwinds (clean-up runs), a second exits 2 at once, naming the journal.
    with interrupts_as_exceptions(
        second=f"probe objects may remain; {journal} names them and the next run removes them", exit_code=2
    ):
        try:
            return verify(args, console, operator)
        except KeyboardInterrupt:
            console.print(f"[red]interrupted:[/] nothing was verified to the end; {journal} names what may remain")
            return 2


def verify(args: argparse.Namespace, console: Console, operator: boto3.Session | None) -> int:
    try:
        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
    except OutputsError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    endpoint = Endpoint(
        url=args.endpoint_url or outputs.endpoint_url,
        region=outputs.region,
        timeout=max(1.0, min(30.0, args.time_budget / 10)),
    )
    deadline = time.monotonic() + args.time_budget
    verifier = None
    try:
        with state_lock(args.state_dir, store_name(outputs.bucket_name, endpoint.url)):
            try:
                if outputs.command_centre_role_arn is not None and operator is None:  # tiers are roles
                    operator = new_session(region_name=outputs.region)
                sessions = tier_sessions(outputs, operator, endpoint, probe=probe_session(args, outputs))
            except ClientError as exc:
                raise CannotVerifyError(
                    f"cannot assume the tier roles as the operator ({exc.response['Error']['Code']}): run with "
                    f"credentials allowed to assume {outputs.command_centre_role_arn} and {outputs.training_role_arn}"
                ) from None
            except NoCredentialsError:
                raise CannotVerifyError(
                    "no AWS credentials for the operator: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                    "or a CI role allowed to assume the tier roles"
                ) from None
            except BotoCoreError as exc:
                raise CannotVerifyError(f"cannot reach or authenticate to the endpoint: {exc}") from None
            except (ProbeSessionMissingError, CertificateSessionError) as exc:
                raise CannotVerifyError(str(exc)) from None
            verifier = Verifier(
                outputs,
                sessions,
                endpoint,
                wait_replication=args.wait_replication,
                learning_store=learning_store(args),
                wait_registration=args.wait_registration,
                plain_http_url=args.plain_http_url,
                state_dir=args.state_dir,
            )
            try:
                results = verifier.run(deadline)
            except KeyboardInterrupt:
                console.print(f"[red]interrupted:[/] {left_note(verifier)}; nothing was verified to the end")
                return 2
    except CannotVerifyError as exc:
        console.print(f"[red]error:[/] {exc}" + (f"; {left_note(verifier)}" if verifier else ""))
        return 2
    except Exception as exc:  # a probe that broke half-way: cleanup has run, say what broke
        console.print(
            f"[red]error:[/] the verification stopped on an unexpected {type(exc).__name__}: {exc}"
            + (f"; {left_note(verifier)}" if verifier else "")
        )
        return 2
    print_table(results, console)
    if args.json_path:
        write_json(results, args.json_path)
    if args.junit:
        write_junit(results, args.junit)
    return 1 if any(r.status is Status.FAIL for r in results) else 0


def left_note(verifier: Verifier) -> str:
    """Exactly what the clean-up left, and where the next run finds it."""
    if not verifier.left:
        return "every probe object was removed"
    return (
        f"{len(verifier.left)} probe objects remain ({', '.join(verifier.left)}); {verifier.journal} names them and "
        "the next run removes them first"
    )


if __name__ == "__main__":
    sys.exit(main())
