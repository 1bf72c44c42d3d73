"""Metadata-driven retention: the contract's lifecycle, evaluated from the objects' labels.

    python -m learning_images.ops.retention --stack r2 --report retention.jsonl            # dry run
    python -m learning_images.ops.retention --stack r2 --report retention.jsonl --confirm  # expire what is due

By default the rows due are selected in ``learning_samples`` (one indexed query per expiring
rule: label and age), so the job costs what is due, not what the bucket holds. Where the
backend's lifecycle cannot read labels (R2, Cloud Storage) each due object is deleted with the
Command Centre's credential and its row marked erased. On AWS, whose lifecycle expires by the
same labels, nothing is deleted: a row is ``covered-by-lifecycle`` while S3 may still be queueing
it, and ``overdue`` once its rule should have removed it ``LIFECYCLE_GRACE_DAYS`` ago (drift: exit
1). ``--scan`` reads every object's metadata instead (a store without registration):

For storage whose lifecycle cannot filter by metadata (R2: by age and prefix only) and for
objects whose tags disagree with their metadata (S3 lifecycle reads tags). Every current object
is evaluated with ``contract.due_action`` over the stack's own periods: ``unsure`` expires after
``unsureExpiryDays``, ``correct`` after ``correctRetentionDays``, ``changed`` never; probe
objects after a day. Archiving is left to the backend's lifecycle (R2 archives every object by
age; S3 by tag), so it is reported, never done here: an in-place copy would be an overwrite.

On AWS an object whose tags agree with its metadata is S3 lifecycle's to expire: it is reported
``covered-by-lifecycle`` and never deleted here. One whose tags disagree is ``drift``: what its
metadata says is due is applied (with ``--confirm``), and the disagreement is in the report.

Statuses: keep, covered-by-lifecycle, overdue, drift, would-expire, expired, failed. Exit codes: 0
done (or dry run); 1 an expiry failed, or rows overdue on AWS; 2 usage, credentials, endpoint or
the learning store (no report is written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from learning_images import contract
from learning_images.concurrency import Ticker, bounded_map
from learning_images.ops import arguments
from learning_images.ops.clients import Endpoint, command_centre_session, interrupts_as_exceptions
from learning_images.ops.reports import JsonlReport, ReportBusyError, ReportPathError, ReportWriteError, print_counts
from learning_images.outputs import OutputsError, StackOutputs, add_outputs_arguments, outputs_from_args

STATUS_ORDER = ["keep", "covered-by-lifecycle", "overdue", "drift", "would-expire", "expired", "failed"]
#: Days S3 lifecycle may take beyond a rule's age: it evaluates once a day and queues expirations
#: (S3 User Guide, "Lifecycle configuration": a delay between eligibility and removal).
LIFECYCLE_GRACE_DAYS = 2
#: The fields lifecycle rules filter on; a disagreement elsewhere does not change what is due.
FILTERED_FIELDS = tuple(
    sorted({rule.tag[0] for rule in contract.lifecycle_rules(contract.CONTRACT_PERIODS, "archive") if rule.tag})
)


class Retention:
    def __init__(self, outputs: StackOutputs, s3: Any, as_of: datetime, *, confirm: bool) -> None:
        self.outputs = outputs
        self.s3 = s3
        self.as_of = as_of
        self.confirm = confirm
        self.rules = outputs.lifecycle.rules()

    @property
    def tags_enforced(self) -> bool:
        return self.outputs.capabilities.lifecycle_reads_labels

    def objects(self) -> Iterator[dict[str, Any]]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.outputs.bucket_name):
            yield from page.get("Contents", [])

    def fields(self, key: str) -> tuple[dict[str, str], dict[str, str] | None]:
        """The object's contract fields from its metadata, and (AWS) from its tags."""
        head = self.s3.head_object(Bucket=self.outputs.bucket_name, Key=key)
        meta = head.get("Metadata", {})
        fields = {
            f: meta[contract.metadata_key(f)] for f in contract.METADATA_FIELDS if contract.metadata_key(f) in meta
        }
        if not self.tags_enforced:
            return fields, None
        tag_set = self.s3.get_object_tagging(Bucket=self.outputs.bucket_name, Key=key)["TagSet"]
        return fields, {t["Key"]: t["Value"] for t in tag_set}

    def evaluate(self, item: dict[str, Any]) -> dict[str, Any]:
        key = item["Key"]
        age = (self.as_of - item["LastModified"]).total_seconds() / 86400
        row: dict[str, Any] = {
            "key": key,
            "image_reference": self.outputs.reference(key),
            "age_days": round(age, 2),
            "storage_class": item.get("StorageClass"),
            "error": None,
        }
        try:
            fields, tags = self.fields(key)
        except ClientError as exc:
            return {**row, "status": "failed", "error": f"cannot read metadata: {exc.response['Error'].get('Code')}"}
        action, rule = contract.due_action(self.rules, fields, age)
        row.update(label_status=fields.get(contract.LABEL_STATUS), action=action.value, rule=rule.id if rule else None)
        drift = tags is not None and {f: tags.get(f) for f in FILTERED_FIELDS} != {
            f: fields.get(f) for f in FILTERED_FIELDS
        }
        if drift:
            row["drift"] = {
                "metadata": {f: fields.get(f) for f in FILTERED_FIELDS},
                "tags": {f: (tags or {}).get(f) for f in FILTERED_FIELDS},
            }
        elif tags is not None:
            # S3 lifecycle reads these same tags: it archives and expires this object itself.
            return {**row, "status": "covered-by-lifecycle" if action is not contract.LifecycleAction.KEEP else "keep"}
        if action is contract.LifecycleAction.EXPIRE:
            return {**row, **self.expire(key)}
        if action is contract.LifecycleAction.ARCHIVE:
            # R2 archives every object by age; on S3 a drifted object needs its tags fixed.
            return {**row, "status": "drift" if drift else "covered-by-lifecycle"}
        return {**row, "status": "drift" if drift else "keep"}

    def evaluate_row(self, due: tuple[str, str, datetime]) -> dict[str, Any]:
        """A row the table says is due (its label and age): expired here, or lifecycle's on AWS."""
        key, label, stored_at = due
        stored_at = stored_at if stored_at.tzinfo else stored_at.replace(tzinfo=UTC)
        age = (self.as_of - stored_at).total_seconds() / 86400
        action, rule = contract.due_action(self.rules, {contract.LABEL_STATUS: label}, age)
        row: dict[str, Any] = {
            "key": key,
            "image_reference": self.outputs.reference(key, any_key=True),
            "age_days": round(age, 2),
            "label_status": label,
            "action": action.value,
            "rule": rule.id if rule else None,
            "error": None,
        }
        if action is not contract.LifecycleAction.EXPIRE or rule is None:
            return {**row, "status": "keep"}
        if self.tags_enforced:
            overdue = age >= (rule.expiration_days or 0) + LIFECYCLE_GRACE_DAYS
            return {**row, "status": "overdue" if overdue else "covered-by-lifecycle"}
        return {**row, **self.expire(key)}

    def expire(self, key: str) -> dict[str, Any]:
        if not self.confirm:
            return {"status": "would-expire"}
        try:
            self.s3.delete_object(Bucket=self.outputs.bucket_name, Key=key)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            # An R2 bucket lock refuses deletion until the object is old enough: reported, retried next run.
            return {"status": "failed", "error": f"{error.get('Code')}: {error.get('Message')}"}
        return {"status": "expired"}


def record_note(report: JsonlReport) -> str:
    done = sum(report.counts.values())
    return f"the {done} objects done so far are in {report.partial}" if done else "nothing was recorded"


def parse_args(argv: list[str] | None, now: datetime) -> argparse.Namespace:
    parser = arguments.parser("retention", "Apply the contract's lifecycle from metadata.")
    add_outputs_arguments(parser)
    parser.add_argument("--endpoint-url", help="S3/STS endpoint (default: the stack's, else the SDK's own)")
    arguments.add_timeout(parser)
    parser.add_argument("--report", type=Path, required=True, help="where to write the JSONL report")
    parser.add_argument("--confirm", action="store_true", help="expire what is due (without it: a dry run)")
    parser.add_argument(
        "--workers", type=arguments.positive_int, default=16, help="objects evaluated at once (default: 16)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")
    arguments.add_database_arguments(parser)
    parser.add_argument(
        "--scan",
        action="store_true",
        help="evaluate every object's metadata instead of selecting in learning_samples: for a store without "
        "registration (costs what the bucket holds)",
    )
    parser.add_argument(
        "--as-of",
        type=datetime.fromisoformat,
        help="evaluate ages at this ISO 8601 time instead of now (a preview: what will be due by then)",
    )
    args = parser.parse_args(argv)
    if args.as_of is not None and args.as_of.tzinfo is None:
        parser.error(f"--as-of {args.as_of.isoformat()} needs a time zone, e.g. 2027-01-01T00:00:00Z")
    if args.confirm and args.as_of is not None and args.as_of > now:
        parser.error("--as-of in the future is a preview: it cannot be combined with --confirm")
    return args


def main(  # noqa: PLR0911 (one exit per documented code)
    argv: list[str] | None = None, *, operator: boto3.Session | None = None, now: datetime | None = None
) -> int:
    """``now`` is the job's clock (tests move it; a run uses the real time)."""
    now = now or datetime.now(UTC)
    args = parse_args(argv, now)
    # soft_wrap: outside a terminal a message stays one line (grep in logs finds it whole).
    console = Console(stderr=True, soft_wrap=True)
    report = JsonlReport(args.report, inputs=tuple(p for p in (args.outputs,) if p is not None))
    try:
        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
        # Before the first request: a report that cannot be written would leave expiries unrecorded.
        report.check_path()
    except (OutputsError, ReportPathError, ReportWriteError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    endpoint = Endpoint(args.endpoint_url or outputs.endpoint_url, outputs.region, timeout=args.timeout)
    try:
        with interrupts_as_exceptions():
            s3 = endpoint.client(command_centre_session(outputs, operator, endpoint, "retention"), "s3")
            job = Retention(outputs, s3, args.as_of or now, confirm=args.confirm)
            show_bar = not args.quiet and console.is_terminal
            columns = [TextColumn("retention"), MofNCompleteColumn(), TimeElapsedColumn()]
            ticker = Ticker("retention", console.print, every=1000)
            table = None if args.scan else learning_store(args)
            with report, Progress(*columns, console=console, disable=not show_bar) as progress:
                task = progress.add_task("objects", total=None)
                # One HeadObject (and on AWS one GetObjectTagging) per object scanned, one deletion
                # per row due: run them concurrently, bounded; rows are written as they finish.
                rows = (
                    bounded_map(job.evaluate, job.objects(), args.workers)
                    if table is None
                    else bounded_map(job.evaluate_row, table.due(outputs, job), args.workers)
                )
                for row in rows:
                    report.write(row)
                    if table is not None and row["status"] == "expired":
                        table.expired(row["image_reference"])
                    progress.advance(task)
                    if not show_bar and not args.quiet:
                        ticker.tick()
                if table is not None:
                    table.flush()
                report.commit()
    except (ReportBusyError, ReportPathError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except LearningStoreError as exc:
        console.print(f"[red]error:[/] {exc}; {record_note(report)}")
        return 2
    except ReportWriteError as exc:
        console.print(
            f"[red]error:[/] {exc}; retention stopped. The objects being expired when the write failed may be "
            "deleted without a row (at most --workers of them); free the disk and run it again for the rest"
        )
        return 2
    except (ClientError, BotoCoreError, ValueError) as exc:
        console.print(f"[red]error:[/] retention stopped: {exc}; {record_note(report)}")
        return 2
    except KeyboardInterrupt:
        console.print(f"[red]interrupted:[/] {record_note(report)}; run it again to finish")
        return 130
    print_counts(console, "retention" + ("" if args.confirm else " (dry run)"), report.counts, STATUS_ORDER)
    if report.counts.get("overdue"):
        console.print(
            f"[yellow]{report.counts['overdue']} rows are overdue:[/] S3 lifecycle should have expired them "
            f"{LIFECYCLE_GRACE_DAYS} days ago; are their tags the contract's? (the report names them)"
        )
    return 1 if report.counts.get("failed") or report.counts.get("overdue") else 0


class LearningStoreError(Exception):
    """The learning store cannot be used; the message says which and why (nothing was deleted)."""


class LearningStore:
    """Retention's side of learning_samples: the rows due, and marking expired ones erased in
    batches (a kill between a deletion and its mark is mended by the rerun: the row is due again,
    its deletion is a no-op, and it is marked then)."""

    BATCH = 100

    def __init__(self, engine: Any, describe: str) -> None:
        self.engine, self.describe, self.pending = engine, describe, list[str]()

    def due(self, outputs: StackOutputs, job: Retention) -> list[tuple[str, str, datetime]]:
        from learning_images.registry.database import DatabaseError  # noqa: PLC0415
        from learning_images.registry.selection import due_rows  # noqa: PLC0415

        try:
            return due_rows(self.engine, outputs.bucket_name, job.rules, job.as_of)
        except DatabaseError as exc:
            raise LearningStoreError(f"{exc} at {self.describe}") from None

    def expired(self, reference: str) -> None:
        self.pending.append(reference)
        if len(self.pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        from learning_images.registry.database import DatabaseError  # noqa: PLC0415
        from learning_images.registry.selection import mark_erased  # noqa: PLC0415

        try:
            mark_erased(self.engine, self.pending, "learning-images-retention")
        except DatabaseError as exc:
            raise LearningStoreError(
                f"the objects are expired, but {exc} at {self.describe}: the receiver's deletion events or "
                "learning-images-reconcile mark the rows"
            ) from None
        self.pending = []


def learning_store(args: argparse.Namespace) -> LearningStore:
    try:
        from learning_images.registry.database import DatabaseError, database_url, describe, opened  # noqa: PLC0415
    except ImportError:
        raise LearningStoreError(
            "selecting the rows due reads learning_samples: install the [registry] extra, or add --scan"
        ) from None
    url = database_url(args)
    try:
        engine = opened(url)
    except DatabaseError as exc:
        raise LearningStoreError(f"{exc} at {describe(url)}; nothing was deleted") from None
    return LearningStore(engine, describe(url))


if __name__ == "__main__":
    sys.exit(main())
