"""GDPR erasure by metadata or by reference: every version, primary and replica, then proof.

    python -m learning_images.ops.erase --stack prod --city-id paris --camera-id cam-17            # dry run
    python -m learning_images.ops.erase --stack prod --references refs.txt --confirm --audit audit.jsonl

Select by metadata (``--city-id``, ``--camera-id``, ``--event-id``, ``--uploaded-from``,
``--uploaded-until``, any combination), which selects in ``learning_samples`` (the contract's
deletion "via metadata queries": one indexed query, whatever the bucket holds), or by a file of
references, one per line. Without
``--confirm`` nothing is deleted: the report lists every version that would be. With it, every
version and delete marker of each matched object is deleted in the primary and in the replica
as the Command Centre tier (bypassing GOVERNANCE retention where Object Lock is on), the keys
are listed again to prove nothing remains, and one audit record is appended: what (the
references and version counts), when, by whom. Never image content.

Finding the objects. Each selected key costs one ListObjectVersions per bucket. A metadata
selection reads the table (``--database-url-file``, else ``$LEARNING_IMAGES_DATABASE_URL``, else the
embedded SQLite); after a confirmed erasure its rows are marked erased, and a row whose object is
already gone is named and marked, not an error. ``--scan`` is the fallback for a store without
registration, and costs what the bucket holds: the candidates come from listing it, or with
``--inventory`` from the newest daily S3 Inventory, and each candidate's metadata is read with
one HeadObject. Above ``--batch-threshold`` versions the tool writes S3 Batch Operations
manifests (CSV: bucket, key, version) instead of deleting one request at a time.

Exit codes: 0 done (or dry run); 1 something could not be deleted or still remains, or the
selection matches nothing; 2 usage, credentials, endpoint, or a learning store that does not
answer (before any deletion).
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import itertools
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from learning_images import contract
from learning_images.concurrency import Ticker, bounded_map
from learning_images.ops import arguments
from learning_images.ops.arguments import add_database_arguments
from learning_images.ops.clients import (
    Endpoint,
    command_centre_session,
    identity,
    interrupts_as_exceptions,
    new_session,
)
from learning_images.ops.inventory import InventoryError, read_inventory
from learning_images.ops.reports import (
    JsonlReport,
    ReportBusyError,
    ReportPathError,
    ReportWriteError,
    print_counts,
)
from learning_images.outputs import OutputsError, StackOutputs, add_outputs_arguments, outputs_from_args

DELETE_WORKERS = 16
#: References a dry run lists on screen (all of them, with every version, are in its report).
DRY_RUN_SHOWN = 20
SELECTORS = {"city_id": contract.CITY_ID, "camera_id": contract.CAMERA_ID, "event_id": contract.EVENT_ID}


class UsageError(Exception):
    """Bad selection or input: exit 2 with this message."""


@dataclass(frozen=True)
class Version:
    bucket: str
    key: str
    version_id: str | None  # None on R2 (no versions)
    delete_marker: bool = False


@dataclass
class Plan:
    """What the selection matched: references, and every version to delete per bucket."""

    references: list[str] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)


# --- selection -----------------------------------------------------------------------------------


def parse_references(lines: Iterable[str], outputs: StackOutputs) -> list[str]:
    """Keys of the references; every malformed line is reported at once."""
    keys, problems = [], []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key = outputs.key_of(text)
        if key is None:
            like = outputs.reference(contract.PLACEHOLDER_KEY)
            problems.append(f"line {number}: {text!r} is not a reference of this store (like {like})")
            continue
        if not contract.OBJECT_KEY_PATTERN.match(key):
            problems.append(f"line {number}: {key!r} is not a '<uuid>.jpg' key")
            continue
        keys.append(key)
    if problems:
        raise UsageError("the references file has lines that are not references:\n  " + "\n  ".join(problems))
    return list(dict.fromkeys(keys))


def read_references(path: Path) -> list[str]:
    """The references file's lines; a UTF-8 byte-order mark (a spreadsheet or Notepad export) is
    not part of the first reference, and a file that is not UTF-8 is refused naming its line."""
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"the references file {path} is not UTF-8 text: line {number}") from None
        raise


class Eraser:
    def __init__(self, outputs: StackOutputs, s3: Any, replica_s3: Any | None, log_s3: Any | None) -> None:
        self.outputs = outputs
        self.s3 = s3
        self.replica_s3 = replica_s3
        self.log_s3 = log_s3

    @property
    def versioned(self) -> bool:
        return self.outputs.capabilities.object_versions

    def candidates(self, use_inventory: bool) -> Iterator[str]:
        """Every key in the bucket, from the inventory or a listing (each key once), and every key
        of the replica: an interrupted erasure can leave a copy there only, and a rerun must find it."""
        seen: set[str] = set()
        if use_inventory:
            if self.outputs.inventory is None or self.log_s3 is None:
                raise UsageError("this stack has no S3 Inventory (it needs `accessLogging`); run without --inventory")
            keys: Iterable[str] = (
                e.key
                for e in read_inventory(self.log_s3, self.outputs.inventory.bucket_name, self.outputs.inventory.prefix)
            )
        else:
            keys = self.listed(self.s3, self.outputs.bucket_name)
        replica = self.outputs.replica
        # The inventory covers the primary only, and reading it is the point at scale: after an
        # interrupted erasure, rerun without --inventory (or by reference) to reach the replica.
        listing = replica is not None and self.replica_s3 is not None and not use_inventory
        replica_keys = self.listed(self.replica_s3, replica.bucket_name) if listing and replica else iter(())
        for key in itertools.chain(keys, replica_keys):
            if key not in seen:
                seen.add(key)
                yield key

    def listed(self, s3: Any, bucket: str) -> Iterator[str]:
        if self.versioned:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    yield v["Key"]
        else:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for o in page.get("Contents", []):
                    yield o["Key"]

    def metadata(self, key: str) -> dict[str, str] | None:
        """The user metadata of the object (of a version, if its current one is a delete marker).

        One HeadObject per candidate; the key's versions are listed only when its current
        version is a delete marker (HEAD answers 404 then), not for every candidate.
        """
        bucket = self.outputs.bucket_name
        try:
            return dict(self.s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}))
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                raise
        if not self.versioned:
            return None  # gone since it was listed
        for version in self.versions_of(self.s3, bucket, key):
            if version.delete_marker:
                continue
            extra = {"VersionId": version.version_id} if version.version_id else {}
            head = self.s3.head_object(Bucket=bucket, Key=key, **extra)
            return dict(head.get("Metadata", {}))
        # Only the replica still holds it (an erasure interrupted between the two buckets). The
        # Command Centre reads tags there, not objects; replication copied the tags, which carry
        # the contract's fields, so they stand in for the metadata.
        if self.replica_s3 is not None and self.outputs.replica is not None:
            for version in self.versions_of(self.replica_s3, self.outputs.replica.bucket_name, key):
                if not version.delete_marker:
                    extra = {"VersionId": version.version_id} if version.version_id else {}
                    tags = self.replica_s3.get_object_tagging(Bucket=version.bucket, Key=key, **extra)["TagSet"]
                    return {contract.metadata_key(t["Key"]): t["Value"] for t in tags}
        return None

    def matches(self, key: str, selector: dict[str, str], uploaded: contract.UploadDays) -> bool:
        meta = self.metadata(key)
        return (
            meta is not None
            and all(meta.get(contract.metadata_key(f)) == v for f, v in selector.items())
            and uploaded.holds(meta.get(contract.metadata_key(contract.UPLOADED_AT)))
        )

    def versions_of(self, s3: Any, bucket: str, key: str) -> list[Version]:
        if not self.versioned:
            try:
                s3.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    return []
                raise
            return [Version(bucket, key, None)]
        found = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            found += [Version(bucket, key, v["VersionId"]) for v in page.get("Versions", []) if v["Key"] == key]
            found += [
                Version(bucket, key, m["VersionId"], True) for m in page.get("DeleteMarkers", []) if m["Key"] == key
            ]
        return found

    def everywhere(self, key: str) -> list[Version]:
        """The key's versions in the primary and in the replica (replication copies every version)."""
        found = self.versions_of(self.s3, self.outputs.bucket_name, key)
        if self.replica_s3 is not None and self.outputs.replica is not None:
            found += self.versions_of(self.replica_s3, self.outputs.replica.bucket_name, key)
        return found

    def plan(self, keys: Iterable[str], workers: int = DELETE_WORKERS) -> Plan:
        """Each key's versions in the primary and the replica, ``workers`` keys listed at a time
        (a listing costs one round trip each: a city's 100,000 images one after another would
        take an hour), in the order the keys came, each key once."""
        ordered = list(dict.fromkeys(keys))
        found = dict(bounded_map(lambda key: (key, self.everywhere(key)), ordered, workers))
        plan = Plan()
        for key in ordered:
            if versions := found[key]:
                plan.references.append(self.outputs.reference(key))
                plan.versions += versions
        return plan

    def remaining(self, versions: Iterable[Version], workers: int = DELETE_WORKERS) -> list[Version]:
        """What still exists of these versions' keys, anywhere: the proof after a deletion, one
        listing per key and bucket, ``workers`` at a time."""
        keys = list(dict.fromkeys(v.key for v in versions))
        return [v for found in bounded_map(self.everywhere, keys, workers) for v in found]

    # --- deletion -------------------------------------------------------------------------------

    def client_for(self, bucket: str) -> Any:
        return self.s3 if bucket == self.outputs.bucket_name else self.replica_s3

    def delete(
        self,
        versions: list[Version],
        journal: AuditJournal | None = None,
        workers: int = DELETE_WORKERS,
        progress: Callable[[], None] = lambda: None,
    ) -> dict[Version, str]:
        """Delete each version (one request each, ``workers`` in flight); return those refused, with why.

        With a ``journal``, each deletion is recorded as an intent before the request and as
        done after it, both on disk before the next step: a kill at any instant leaves every
        deleted version in the audit, or an intent the next run confirms (:func:`reconcile`).
        One DeleteObject per version rather than DeleteObjects: each answer carries its own
        error, and above ``--batch-threshold`` versions S3 Batch Operations takes over anyway.
        """
        lock = self.outputs.object_lock
        bypass = {"BypassGovernanceRetention": True} if lock and lock.mode == "GOVERNANCE" else {}

        def delete_one(version: Version) -> tuple[Version, str | None]:
            extra = {"VersionId": version.version_id, **bypass} if version.version_id else {}
            if journal:
                journal.write({"event": "version-deleting", **version_fields(version)})
            try:
                self.client_for(version.bucket).delete_object(Bucket=version.bucket, Key=version.key, **extra)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                return version, f"{error.get('Code')}: {error.get('Message')}"
            if journal:
                journal.write({"event": "version-deleted", **version_fields(version)})
            progress()
            return version, None

        return {version: error for version, error in bounded_map(delete_one, versions, workers) if error}

    def exists(self, version: Version) -> bool:
        return any(
            v.version_id == version.version_id
            for v in self.versions_of(self.client_for(version.bucket), version.bucket, version.key)
        )


def version_fields(version: Version) -> dict[str, Any]:
    return {
        "bucket": version.bucket,
        "key": version.key,
        "version_id": version.version_id,
        "delete_marker": version.delete_marker,
    }


class AuditWriteError(Exception):
    """The audit cannot be written: the erasure stops, since what it did next would be unproven."""


class AuditJournal:
    """The erasure audit: JSONL records appended and flushed to disk one by one, from any thread,
    so that a kill at any instant leaves a record of everything already done (GDPR: the audit is
    the proof). :meth:`open` locks it for this run and proves it writable before anything is
    deleted; a second erasure on the same audit is refused then, not after its deletions."""

    def __init__(self, path: Path, run: str, by: dict[str, str]) -> None:
        self.path = path
        self.run = run
        self.by = by
        self._lock = threading.Lock()
        self._handle: Any = None

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise AuditWriteError(f"cannot write the audit {self.path} ({exc.strerror or exc})") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ReportBusyError(f"another erasure is writing the audit {self.path} right now") from None
        self._handle = handle

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(
            {"run": self.run, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **record}, sort_keys=True
        )
        with self._lock:
            try:
                if self._handle is None:
                    with self.path.open("a", encoding="utf-8") as handle:
                        handle.write(line + "\n")
                        handle.flush()
                        os.fsync(handle.fileno())
                    return
                self._handle.write(line + "\n")
                self._handle.flush()
                os.fsync(self._handle.fileno())
            except OSError as exc:
                raise AuditWriteError(f"writing the audit {self.path} failed ({exc.strerror or exc})") from None

    def records(self) -> Iterator[dict[str, Any]]:
        """The journal's deletion records, in order; a line a kill cut short is none (its deletion
        had not been confirmed either)."""
        if not self.path.exists():
            return
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("event") in ("version-deleting", "version-deleted"):
                yield record

    def erased_before(self) -> dict[str, str]:
        """Keys whose every announced deletion was confirmed by an earlier run: key -> that run."""
        records = list(self.records())
        deleted = {r["key"]: r["run"] for r in records if r["event"] == "version-deleted"}
        pending = {version.key for _, version in self._unconfirmed(records)}
        return {key: run for key, run in deleted.items() if key not in pending}

    def unconfirmed(self) -> list[tuple[str, Version]]:
        """Deletions a killed run announced but never confirmed, with the run they belong to."""
        return self._unconfirmed(self.records())

    @staticmethod
    def _unconfirmed(records: Iterable[dict[str, Any]]) -> list[tuple[str, Version]]:
        announced: dict[tuple[str, str, str, str | None], Version] = {}
        for record in records:
            identity = (record["run"], record["bucket"], record["key"], record.get("version_id"))
            if record["event"] == "version-deleting":
                announced[identity] = Version(record["bucket"], record["key"], record.get("version_id"))
            else:
                announced.pop(identity, None)
        return [(identity[0], version) for identity, version in announced.items()]


def reconcile(journal: AuditJournal, eraser: Eraser) -> int:
    """Complete a killed run's record: each announced deletion whose version is gone is recorded
    as deleted (confirmed by this run). Returns how many were confirmed."""
    confirmed = 0
    for run, version in journal.unconfirmed():
        if not eraser.exists(version):
            journal.write(
                {"event": "version-deleted", **version_fields(version), "run": run, "confirmed_by": journal.run}
            )
            confirmed += 1
    return confirmed


def write_batch_manifests(versions: list[Version], base: Path) -> list[Path]:
    """One S3 Batch Operations CSV manifest per bucket (a job runs in its bucket's region):
    ``bucket,key,versionId`` with URL-encoded keys, as Batch Operations reads them."""
    paths = []
    for bucket in sorted({v.bucket for v in versions}):
        path = base.with_name(f"{base.stem}-{bucket}.csv")
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            for v in versions:
                if v.bucket == bucket:
                    writer.writerow([bucket, quote(v.key), v.version_id or ""])
        paths.append(path)
    return paths


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser("erase", "GDPR erasure by metadata or by reference.")
    add_outputs_arguments(parser)
    parser.add_argument("--endpoint-url", help="S3/STS endpoint (default: the stack's, else the SDK's own)")
    for name, field_name in SELECTORS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"select objects whose {field_name} is this")
    for name, which in (("from", "first"), ("until", "last")):
        parser.add_argument(
            f"--uploaded-{name}",
            dest=f"uploaded_{name}",
            type=date.fromisoformat,
            metavar="YYYY-MM-DD",
            help=f"select objects uploaded on this day or after it ({which} day, UTC, inclusive)"
            if name == "from"
            else "select objects uploaded on this day or before it (UTC, inclusive)",
        )
    parser.add_argument("--references", type=Path, help="select by reference: a file with one image_reference per line")
    add_database_arguments(parser)
    parser.add_argument(
        "--scan",
        action="store_true",
        help="select by reading every object's metadata instead of learning_samples: for a store without "
        "registration (costs what the bucket holds)",
    )
    parser.add_argument(
        "--inventory", action="store_true", help="with --scan: read candidates from the newest S3 Inventory"
    )
    parser.add_argument("--confirm", action="store_true", help="delete (without it: a dry run that deletes nothing)")
    parser.add_argument(
        "--workers",
        type=arguments.positive_int,
        default=DELETE_WORKERS,
        help=f"deletions in flight (default: {DELETE_WORKERS})",
    )
    arguments.add_timeout(parser)
    parser.add_argument("--report", type=Path, required=True, help="where to write the JSONL row per version")
    parser.add_argument(
        "--audit", type=Path, required=True, help="the audit journal to append to (the proof of every erasure)"
    )
    parser.add_argument(
        "--batch-threshold",
        type=arguments.positive_int,
        default=10_000,
        help="above this many versions, write S3 Batch Operations manifests instead of deleting (default: 10000)",
    )
    parser.add_argument(
        "--batch-manifest",
        type=Path,
        default=Path("erasure-batch-manifest.csv"),
        help="base name of the Batch Operations manifests (one per bucket)",
    )
    args = parser.parse_args(argv)
    selector = {SELECTORS[k]: v for k in SELECTORS if (v := getattr(args, k))}
    uploaded = contract.UploadDays(args.uploaded_from, args.uploaded_until)
    if uploaded.first and uploaded.last and uploaded.first > uploaded.last:
        parser.error(f"--uploaded-from {uploaded.first} is after --uploaded-until {uploaded.last}")
    if bool(selector or uploaded) == bool(args.references):
        parser.error(
            "select by metadata (--city-id, --camera-id, --event-id, --uploaded-from, --uploaded-until) or by "
            "--references, exactly one way: an erasure without a filter is refused"
        )
    if args.references and (args.inventory or args.scan):
        parser.error("--scan and --inventory find candidates for a metadata selection; references name their keys")
    if args.inventory and not args.scan:
        parser.error("--inventory is a way to --scan the bucket: add --scan (a metadata selection reads the table)")
    args.selector, args.uploaded = selector, uploaded
    return args


@dataclass(frozen=True)
class Prepared:
    outputs: StackOutputs
    eraser: Eraser
    plan: Plan
    #: Who erases: the operator (the person or pipeline behind the credentials) and the tier
    #: session it acts as.
    actor: dict[str, str]
    #: References of the selection that match nothing in the store (a typo, or already erased).
    unmatched: list[str]
    #: Where the selection was made in learning_samples: the engine, to mark its rows erased.
    learning_store: Any = None
    #: Rows of the selection whose objects the store no longer holds: named and marked, not an error.
    gone: list[str] = field(default_factory=list)


def prepare(args: argparse.Namespace, operator: boto3.Session | None) -> Prepared:
    """Read the outputs, take the Command Centre tier and find what the selection matches;
    raises :class:`UsageError` with a readable message for anything that stops the run."""
    try:
        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
        keys = parse_references(read_references(args.references), outputs) if args.references else None
    except (OutputsError, OSError) as exc:
        raise UsageError(str(exc)) from None
    endpoint = Endpoint(args.endpoint_url or outputs.endpoint_url, outputs.region, timeout=args.timeout)
    try:
        session = command_centre_session(outputs, operator, endpoint, "gdpr-erasure")
        actor = {"operator": identity(operator or new_session(region_name=outputs.region), endpoint, outputs)}
        actor["acting_as"] = identity(session, endpoint, outputs)
        s3 = endpoint.client(session, "s3")
        replica_s3 = endpoint.client(session, "s3", region_name=outputs.replica.region) if outputs.replica else None
        eraser = Eraser(outputs, s3, replica_s3, s3 if outputs.inventory else None)
        by_reference, engine = keys is not None, None
        if keys is None and args.scan:
            # One metadata read per candidate: concurrent and bounded, a million keys in flat memory.
            matched = bounded_map(
                lambda key: key if eraser.matches(key, args.selector, args.uploaded) else None,
                eraser.candidates(args.inventory),
                16,
            )
            keys = [key for key in matched if key is not None]
            print(
                "erase: selected by scanning the bucket (--scan, for a store without registration): every "
                "object's metadata was read",
                file=sys.stderr,
            )
        elif keys is None:
            engine, keys = selected_in_learning_store(args, outputs)
        plan = eraser.plan(keys, args.workers)
        found = {outputs.key_of(reference) for reference in plan.references}
        missing = [outputs.reference(key, any_key=True) for key in keys if key not in found]
        unmatched, gone = (missing, []) if by_reference else ([], missing if engine is not None else [])
        return Prepared(outputs, eraser, plan, actor, unmatched, engine, gone)
    except InventoryError as exc:
        raise UsageError(str(exc)) from None
    except (ClientError, BotoCoreError, ValueError) as exc:
        raise UsageError(f"cannot read the store as the Command Centre: {exc}") from None


def selected_in_learning_store(args: argparse.Namespace, outputs: StackOutputs) -> tuple[Any, list[str]]:
    """The engine and the keys of the rows the metadata selection names (raises UsageError where
    the learning store cannot be read: nothing is deleted then)."""
    try:
        from learning_images.registry.database import DatabaseError, database_url, describe, opened  # noqa: PLC0415
        from learning_images.registry.selection import erasure_keys  # noqa: PLC0415
    except ImportError:
        raise UsageError(
            "a metadata selection reads learning_samples: install the [registry] extra, or add --scan to read "
            "every object's metadata instead"
        ) from None
    url = database_url(args)
    try:
        engine = opened(url)
        return engine, erasure_keys(engine, outputs.bucket_name, args.selector, args.uploaded)
    except DatabaseError as exc:
        raise UsageError(f"{exc} at {describe(url)}; nothing was deleted") from None


def main(argv: list[str] | None = None, *, operator: boto3.Session | None = None) -> int:
    args = parse_args(argv)
    # soft_wrap: outside a terminal a message stays one line (grep in logs finds it whole).
    console = Console(stderr=True, soft_wrap=True)
    with interrupts_as_exceptions():
        try:
            return erase(args, console, operator)
        except KeyboardInterrupt:
            console.print(
                f"[red]interrupted:[/] every version deleted so far is in {args.audit}; "
                "run the same command again to finish (it completes the record and the erasure)"
            )
            return 130


def erase(args: argparse.Namespace, console: Console, operator: boto3.Session | None) -> int:
    report = JsonlReport(args.report, inputs=tuple(p for p in (args.references, args.audit) if p is not None))
    try:
        # Before anything is read or deleted: the report is no input and can be written.
        report.check_path()
        ready = prepare(args, operator)
    except (UsageError, ReportPathError, ReportWriteError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    journal = AuditJournal(args.audit, uuid.uuid4().hex, ready.actor)
    try:
        # The report's lock and the audit's are taken, and both proven writable, before the first
        # deletion: an erasure that could not record what it deletes deletes nothing.
        with report:
            if args.confirm:
                journal.open()
            return erase_selected(args, console, ready, journal, report)
    except (ReportBusyError, ReportPathError) as exc:
        console.print(f"[red]error:[/] {exc}; nothing was deleted")
        return 2
    except (AuditWriteError, ReportWriteError) as exc:
        console.print(
            f"[red]error:[/] {exc}; the erasure stopped. Every deletion is announced in the audit before it is "
            "sent: fix the disk and run the same command again, it confirms what was done and erases the rest"
        )
        return 2
    finally:
        journal.close()


def erase_selected(  # noqa: PLR0911 (one exit per documented outcome)
    args: argparse.Namespace, console: Console, ready: Prepared, journal: AuditJournal, report: JsonlReport
) -> int:
    outputs, plan = ready.outputs, ready.plan
    # A reference an earlier run erased (the audit confirms every one of its versions deleted)
    # matches nothing now: that is the erasure done, not a typo. A rerun after a kill converges.
    erased_before = journal.erased_before() if ready.unmatched else {}
    already = [r for r in ready.unmatched if outputs.key_of(r) in erased_before]
    unmatched = [r for r in ready.unmatched if outputs.key_of(r) not in erased_before]
    outcomes = (
        [{"reference": r, "outcome": "erased"} for r in plan.references]
        + [
            {"reference": r, "outcome": "already-erased", "run": erased_before[outputs.key_of(r) or ""]}
            for r in already
        ]
        + [{"reference": r, "outcome": "matched-nothing"} for r in unmatched]
    )
    selection: dict[str, Any] = (
        {"references_file": str(args.references)}
        if args.references
        else {
            **args.selector,
            **args.uploaded.describe(),
            "selected_in": "bucket scan" if args.scan else "learning_samples",
        }
    )
    audit = {
        "by": ready.actor,
        "bucket": outputs.bucket_name,
        "selection": selection,
        "objects": len(plan.references),
        "versions": len(plan.versions),
        "references": plan.references,
        "requested": outcomes,
    }
    if not announce(console, args, ready, already=already, unmatched=unmatched, selection=selection):
        return 1
    if not args.confirm:
        code = report_only(
            args,
            console,
            report,
            outputs,
            plan,
            status="would-delete",
            message="dry run: nothing deleted; add --confirm",
        )
        return 1 if unmatched else code
    if confirmed := reconcile(journal, ready.eraser):
        console.print(f"completed the record of an interrupted erasure: {confirmed} deleted versions confirmed")
    if len(plan.versions) > args.batch_threshold:
        manifests = write_batch_manifests(plan.versions, args.batch_manifest)
        journal.write(
            {"event": "erasure-planned", **audit, "action": "batch-manifest", "manifests": [str(p) for p in manifests]}
        )
        return report_only(
            args,
            console,
            report,
            outputs,
            plan,
            status="in-batch-manifest",
            message=f"{len(plan.versions)} versions exceed --batch-threshold {args.batch_threshold}: wrote "
            f"{', '.join(map(str, manifests))}; run one S3 Batch Operations job per manifest (docs/operating.md)",
        )
    journal.write({"event": "erasure-started", **audit})
    try:
        show_bar = console.is_terminal
        columns = [TextColumn("erasing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        ticker = Ticker("erasure", console.print, every=1000)
        with Progress(*columns, console=console, disable=not show_bar) as bar:
            task = bar.add_task("versions", total=len(plan.versions))

            def advanced() -> None:
                bar.advance(task)
                if not show_bar:
                    ticker.tick()

            failed = ready.eraser.delete(plan.versions, journal, args.workers, advanced)
        remaining = ready.eraser.remaining(plan.versions, args.workers)
    except (ClientError, BotoCoreError) as exc:
        journal.write({"event": "erasure-stopped", "error": str(exc)})
        console.print(f"[red]error:[/] erasure stopped: {exc}; run it again, it resumes from what remains")
        return 2
    for version in plan.versions:
        status = "failed" if version in failed else ("remaining" if version in remaining else "deleted")
        report.write({**version_row(outputs, version), "status": status, "error": failed.get(version)})
    report.commit()
    journal.write(
        {"event": "erasure-finished", **audit, "action": "erased", "failed": len(failed), "remaining": len(remaining)}
    )
    print_counts(console, "erasure", report.counts, ["deleted", "failed", "remaining"])
    if remaining:
        console.print(f"[red]{len(remaining)} versions still exist[/] (see {args.report})")
    if failed or remaining:
        return 1
    if ready.learning_store is not None and not mark_rows(console, ready, plan):
        return 1
    return 1 if unmatched else 0


def announce(
    console: Console,
    args: argparse.Namespace,
    ready: Prepared,
    *,
    already: list[str],
    unmatched: list[str],
    selection: dict[str, Any],
) -> bool:
    """Say what the selection found beyond the plan; False where a metadata selection matches nothing."""
    city = args.selector.get(contract.CITY_ID)
    known = {*ready.outputs.city_credentials, contract.PROBE_CITY_ID}
    if city and city not in known:
        console.print(
            f"[yellow]{city!r} is not a city of this stack[/] ({', '.join(sorted(known))}); "
            "erasing what its metadata names anyway (a city removed from cityIds keeps its objects)"
        )
    if already:
        console.print(f"{len(already)} references were erased by an earlier run (confirmed in {args.audit})")
    if unmatched:
        console.print(
            f"[yellow]{len(unmatched)} references match no object in this store:[/] "
            + ", ".join(unmatched[:10])
            + (" ..." if len(unmatched) > 10 else "")
        )
    if ready.gone:
        console.print(
            f"{len(ready.gone)} rows of learning_samples name objects the store no longer holds "
            f"({'marked erased' if args.confirm else 'a confirmed run marks them erased'}): "
            + ", ".join(ready.gone[:10])
            + (" ..." if len(ready.gone) > 10 else "")
        )
    if not args.references and not ready.plan.references and not ready.gone:
        where = (
            "no object's metadata"
            if args.scan
            else "no row of learning_samples not erased already (is the receiver registering this store? "
            "--scan reads the bucket instead)"
        )
        console.print(f"[yellow]the selection matches nothing:[/] {where} matches {selection}")
        return False
    return True


def mark_rows(console: Console, ready: Prepared, plan: Plan) -> bool:
    """Mark the erased objects' rows (and the rows of objects already gone) erased in the table."""
    from learning_images.registry.database import DatabaseError  # noqa: PLC0415 (the [registry] extra)
    from learning_images.registry.selection import mark_erased  # noqa: PLC0415

    try:
        references = [*plan.references, *ready.gone]
        marked = mark_erased(ready.learning_store, references, "learning-images-erase")
    except DatabaseError as exc:
        console.print(
            f"[red]error:[/] every selected object is erased, but {exc}: the receiver's deletion events or "
            "learning-images-reconcile mark the rows"
        )
        return False
    already = (
        f", {len(references) - marked} marked already (the receiver's deletion events)"
        if marked < len(references)
        else ""
    )
    console.print(f"learning_samples: {marked} rows marked erased{already}")
    return True


def version_row(outputs: StackOutputs, version: Version) -> dict[str, Any]:
    return {
        "bucket": version.bucket,
        "key": version.key,
        "version_id": version.version_id,
        "delete_marker": version.delete_marker,
        "image_reference": outputs.reference(version.key),
    }


def report_only(
    args: argparse.Namespace,
    console: Console,
    report: JsonlReport,
    outputs: StackOutputs,
    plan: Plan,
    *,
    status: str,
    message: str,
) -> int:
    for version in plan.versions:
        report.write({**version_row(outputs, version), "status": status, "error": None})
    report.commit()
    print_counts(console, "erasure", report.counts, [status])
    shown = plan.references[:DRY_RUN_SHOWN]
    for reference in shown:
        console.print(f"  {reference}")
    if len(plan.references) > len(shown):
        console.print(f"  ... and {len(plan.references) - len(shown)} more (every version is in {args.report})")
    console.print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
