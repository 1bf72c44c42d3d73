"""The local sandbox: a stack in an enforcing local S3 on 127.0.0.1, verified rule by rule.

    make sandbox     # = python -m learning_images.sandbox.sandbox

1. Start the enforcing local S3 and provision the `local` stack into it
   (``learning_images.sandbox.local``), or a backend's stand-in built on it (its row's
   ``stand_in`` in ``learning_images.backends``).
2. Run the verification script with the tier credentials and print its report. Rules that rest
   on IAM conditions get verdicts: the front evaluates them as IAM does.
3. Stop the server, whatever happened.

What the sandbox cannot hold is reported, not hidden (:data:`NOT_LOCAL`), each rule SKIP with
its reason: replication, Object Lock retention, lifecycle execution, KMS cryptography.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from learning_images.backends import BACKENDS
from learning_images.ops.clients import new_session
from learning_images.sandbox.local import (
    ENGINES,
    NOT_LOCAL,
    REGION,
    STACK,
    Hook,
    LocalStore,
    create_operator,
    local_store,
    provision,
    start_front,
)
from learning_images.verify import cli


def start_receiver(store: LocalStore, database_url_file: Path, *extra: str, **streams: Any) -> subprocess.Popen[Any]:
    """``learning-images-register`` as its own process against ``store``, with the operator's
    credentials (it assumes the receiver's role with them) and no profile that would win over them.
    ``streams``: Popen's ``stdout``/``stderr``/``text``."""
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": store.operator["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": store.operator["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
    }
    env.pop("AWS_PROFILE", None)
    argv = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url]
    return subprocess.Popen(  # noqa: S603 (the project's own command)
        [
            sys.executable,
            "-m",
            "learning_images.ops.register",
            *argv,
            "--database-url-file",
            str(database_url_file),
            *extra,
        ],
        env=env,
        **streams,
    )


#: Seconds the receiver has to start (its imports, its schema) before the verifier asks its table.
RECEIVER_START_BOUND = 120


def _ready(process: subprocess.Popen[Any], database: Path, log: Path) -> None:
    """Wait until the receiver has made its table: a verifier that asked first read no table at all."""
    import sqlite3  # noqa: PLC0415

    deadline = time.monotonic() + RECEIVER_START_BOUND
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the receiver exited {process.returncode} at start: {log.read_text()[-2000:]}")
        if database.exists():
            with contextlib.closing(sqlite3.connect(database)) as connection:
                found = connection.execute("SELECT name FROM sqlite_master WHERE name = 'learning_samples'").fetchone()
            if found:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the receiver did not make its table within {RECEIVER_START_BOUND}s")


@contextmanager
def receiving(store: LocalStore) -> Iterator[Path | None]:
    """The receiver (``learning-images-register``) as the Command Centre runs it, for the block: its
    own process and role, a SQLite learning store beside the sandbox's files. Its URL file; None
    where the stack declares no event source. Stopped with SIGTERM (it finishes its batch)."""
    if not store.outputs.get("registration"):
        yield None
        return
    directory = store.outputs_file.parent
    url = directory / "learning-store-url"
    url.write_text(f"sqlite:///{store.learning_store}")
    with (directory / "receiver.log").open("w") as log:
        process = start_receiver(store, url, "--wait", "1", stdout=log, stderr=subprocess.STDOUT)
    try:
        _ready(process, store.learning_store, directory / "receiver.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def open_store(stack: str, *, engine: str, tamper: Hook | None) -> Iterator[LocalStore]:
    """The sandbox of ``stack``: ``local`` (the AWS program in the enforcing local S3, which
    ``tamper`` may change), or a backend's stand-in as shipped (its row's ``stand_in`` module)."""
    if stack == STACK:
        with local_store(engine=engine, tamper=tamper) as store:
            yield store
        return
    if tamper is not None:
        raise ValueError(f"the {stack} sandbox runs the {stack} stack as shipped: it takes no tamper hook")
    with stand_in(stack).shipped_store() as store:
        yield store


def stand_in(stack: str) -> Any:
    """The stand-in module of a backend's stack (it builds on the local store)."""
    return importlib.import_module(str(BACKENDS[stack].stand_in))


#: The stacks the sandbox runs: the local stack, and each backend that has a stand-in.
SANDBOX_STACKS = (STACK, *(name for name, row in BACKENDS.items() if row.stand_in))


def verifier_args(store: LocalStore, state_dir: Path, learning_store: Path | None = None) -> list[str]:
    """How the sandbox points the verifier at ``store``: its outputs, both listeners, a time budget,
    the probe journal's folder, and the learning store where the stack registers."""
    return [
        "--outputs",
        str(store.outputs_file),
        "--endpoint-url",
        store.url,
        "--plain-http-url",
        store.plain_url,
        "--time-budget",
        "120",
        "--state-dir",
        str(state_dir),
        *(["--database-url-file", str(learning_store)] if learning_store else []),
    ]


def sandbox(
    extra_args: list[str],
    *,
    engine: str = "auto",
    tamper: Hook | None = None,
    after: Hook | None = None,
    stack: str = STACK,
    day: bool = False,
) -> int:
    """Run the whole flow. ``tamper`` may change the provisioned stack before verification
    (a broken stack must be reported); ``after`` sees the emulator before it stops (nothing
    the run wrote may be left). ``day``: then the Command Centre's day from learning_samples
    (``learning_images.sandbox.operations``), where the stack registers."""
    with open_store(stack, engine=engine, tamper=tamper) as store, receiving(store) as learning_store:
        if stack == STACK:
            note = (
                "every S3 and SQS request is judged by the stack's own bucket, queue, identity and key policies "
                f"under IAM semantics; not held locally: {'; '.join(NOT_LOCAL)}"
            )
        else:
            title, stands_in = BACKENDS[stack].title, stand_in(stack).STANDS_IN
            note = f"stack `{stack}` against a local stand-in for {title}: {'; '.join(stands_in)}"
        print(f"sandbox: {note}", flush=True)
        session = new_session(region_name=REGION, **store.operator)
        # The probe journal beside this sandbox's files: it lives and dies with the sandbox.
        args = [*verifier_args(store, store.outputs_file.parent, learning_store), *extra_args]
        code = cli.main(args, operator=session)
        if day and learning_store is not None:
            from learning_images.sandbox.operations import operations  # noqa: PLC0415 (the [registry] extra)

            code = max(code, operations(store, learning_store, session))
        if after:
            after(store.url, store.outputs, store.operator)
        return code


#: Where ``up`` keeps a running sandbox: its outputs, env file, certificate and process id.
UP_DIR = Path(".sandbox")


def environment_file(store: LocalStore, directory: Path) -> str:
    """Shell exports that point every client command at the running sandbox with no flags: the
    outputs (``--outputs``; they hold each city's key, which the uploader takes for ``--city``),
    the CA, and the operator's credentials (erasure, retention and the verifier assume the tier
    roles with them)."""
    lines = [
        "# Generated by `make sandbox-up`: `source` it, then run the client commands without flags.",
        "# It puts the project's client commands on PATH and REPLACES this shell's AWS_CA_BUNDLE,",
        "# AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and unsets AWS_PROFILE (a profile",
        "# would win over these keys): use a shell of its own.",
        f'export PATH="{Path(sys.executable).parent}:$PATH"',
        f"export LEARNING_IMAGES_OUTPUTS={directory.resolve() / 'outputs.json'}",
        f"export LEARNING_IMAGES_PLAIN_HTTP_URL={store.plain_url}",
        f"export AWS_CA_BUNDLE={store.ca_bundle}",
        f"export AWS_DEFAULT_REGION={REGION}",
        f"export AWS_ACCESS_KEY_ID={store.operator['aws_access_key_id']}",
        f"export AWS_SECRET_ACCESS_KEY={store.operator['aws_secret_access_key']}",
        "unset AWS_PROFILE",
    ]
    return "\n".join(lines) + "\n"


#: What sourcing the env file replaces in the shell (it says so, and `up` warns when they are set).
REPLACED_VARIABLES = (
    "AWS_CA_BUNDLE",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_PROFILE",
)


def up(directory: Path, engine: str) -> int:
    """Start a sandbox that stays running (``down`` stops it)."""
    if (directory / "front.pid").exists():
        print(f"sandbox: already up ({directory}); `make sandbox-down` first", file=sys.stderr)
        return 2
    # Before this process sets any of them for itself: what the caller's shell has.
    replaced = [name for name in REPLACED_VARIABLES if os.environ.get(name)]
    directory.mkdir(parents=True, exist_ok=True)
    process, emulator = start_front(directory, detached=True)
    (directory / "front.pid").write_text(str(process.pid))
    os.environ["AWS_CA_BUNDLE"] = str(emulator.ca_bundle)
    try:
        operator = create_operator(emulator.url)
        outputs = provision(emulator.url, operator, directory, engine=engine)
    except BaseException:
        down(directory)
        raise
    outputs["endpoint_url"] = emulator.url
    (directory / "outputs.json").write_text(json.dumps(outputs, indent=2))
    store = LocalStore(
        emulator.url, outputs, operator, directory / "outputs.json", emulator.plain_url, emulator.ca_bundle
    )
    env = directory / "env"
    env.write_text(environment_file(store, directory))
    env.chmod(0o600)
    if replaced:
        print(f"sandbox: note: sourcing {env} replaces this shell's {', '.join(replaced)}: use a shell of its own")
    print(
        f"sandbox: up at {emulator.url} (plain HTTP {emulator.plain_url}), stack `{STACK}` provisioned.\n"
        f"  source {env}        # the outputs, the CA and the operator's credentials (secrets: never commit it)\n"
        "  learning-images-verify\n"
        "  learning-images-upload --city sandbox-city --images DIR --manifest FILE --report FILE\n"
        "  make sandbox-down    # stop it and remove .sandbox/"
    )
    return 0


def down(directory: Path) -> int:
    pid_file = directory / "front.pid"
    if not pid_file.exists() and not directory.exists():
        print(f"sandbox: not running (no {directory}); nothing to stop")
        return 0
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
    shutil.rmtree(directory, ignore_errors=True)
    print(f"sandbox: down ({directory} removed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The storage contract against an enforcing local S3 on 127.0.0.1: no cloud account needed."
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["run", "up", "down"],
        default="run",
        help="run: start, provision, verify, stop (default); up: start and keep running; down: stop",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="provision with the Pulumi engine, the built-in applier, or the engine when it can (default: auto)",
    )
    parser.add_argument(
        "--stack",
        choices=SANDBOX_STACKS,
        default=STACK,
        help="local: the AWS program in the enforcing local S3 (default); r2: the r2 program's outputs and "
        "upload gateway (in the Workers runtime) in front of a local stand-in for R2 (run only); gcs: the gcs "
        "program's outputs in front of a local stand-in for Cloud Storage's XML API (run only)",
    )
    parser.add_argument("--dir", type=Path, default=UP_DIR, help="where `up` keeps its files (default: .sandbox)")
    parser.add_argument("--json", help="also write the report as JSON here")
    parser.add_argument("--junit", help="also write the report as JUnit XML here")
    args = parser.parse_args(argv)
    if args.action == "up" and args.stack != STACK:
        parser.error(f"`up` keeps the local stack running; --stack {args.stack} runs and stops (`run`)")
    if args.action == "up":
        return up(args.dir, args.engine)
    if args.action == "down":
        return down(args.dir)
    extra = [*(["--json", args.json] if args.json else []), *(["--junit", args.junit] if args.junit else [])]
    started = time.monotonic()
    code = sandbox(extra, engine=args.engine, stack=args.stack, day=True)
    print(f"sandbox: done in {time.monotonic() - started:.1f}s, exit {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
