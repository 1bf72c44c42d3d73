"""``learning-images-reconcile``: compare ``learning_samples`` with the bucket, and repair the drift.

    learning-images-reconcile --stack prod               # list the bucket (or --inventory on AWS)
    learning-images-reconcile --stack prod --dry-run     # say what drifted, change nothing

Events can be lost (a notification turned off for a while, a queue purged, a message older than
the queue keeps): an object the bucket holds without a row is read and registered as the receiver
would; a row whose object the bucket no longer holds (confirmed by HeadObject, so an upload made
during the listing is not taken for a loss) is marked erased. On a backend with no event source
this is how the table is kept. The listing costs one request per thousand objects; ``--inventory``
reads the newest S3 Inventory report instead, where the stack keeps one.

Exit codes: 0 no drift; 1 drift found (repaired unless ``--dry-run``); 2 usage, credentials, the
store or the database unavailable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from learning_images.ops import arguments
from learning_images.ops.clients import Endpoint, command_centre_session
from learning_images.outputs import OutputsError, StackOutputs, add_outputs_arguments, outputs_from_args

SESSION_NAME = "reconcile"
#: Objects read and written per transaction.
CHUNK = 200


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser("reconcile", "Compare learning_samples with the bucket and repair the drift.")
    add_outputs_arguments(parser)
    arguments.add_database_arguments(parser)
    parser.add_argument("--endpoint-url", help="S3/STS endpoint (default: the backend's own)")
    parser.add_argument(
        "--inventory", action="store_true", help="read the newest S3 Inventory report instead of listing (AWS)"
    )
    parser.add_argument("--dry-run", action="store_true", help="say what drifted; change nothing")
    return parser.parse_args(argv)


def stored_keys(s3: Any, outputs: StackOutputs, *, inventory: bool) -> set[str]:
    """The keys the bucket holds a current object under."""
    if inventory:
        from learning_images.ops.inventory import read_inventory  # noqa: PLC0415

        if outputs.inventory is None:
            raise OutputsError("this stack keeps no S3 Inventory (access logging off, or not AWS): list instead")
        entries = read_inventory(s3, outputs.inventory.bucket_name, outputs.inventory.prefix)
        return {e.key for e in entries if not e.is_delete_marker}
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=outputs.bucket_name):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def main(argv: list[str] | None = None, *, operator: boto3.Session | None = None) -> int:  # noqa: PLR0911 (one exit per documented code)
    args = parse_args(argv)
    try:
        from learning_images.registry.database import DatabaseError, connect, database_url, describe, upgrade  # noqa: PLC0415
        from learning_images.registry.events import CREATED, ObjectEvent  # noqa: PLC0415
        from learning_images.registry.registrar import Registrar  # noqa: PLC0415
    except ImportError:
        print(
            "error: learning-images-reconcile needs the [registry] extra (SQLAlchemy, Alembic, psycopg)",
            file=sys.stderr,
        )
        return 2
    try:
        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
        url = database_url(args)
    except (OutputsError, DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    endpoint = Endpoint(url=args.endpoint_url or outputs.endpoint_url, region=outputs.region, timeout=30.0)
    try:
        engine = connect(url)
        upgrade(engine)
        s3 = endpoint.client(command_centre_session(outputs, operator, endpoint, SESSION_NAME), "s3")
        keys = stored_keys(s3, outputs, inventory=args.inventory)
        rows = live_rows(engine, outputs.bucket_name)
    except DatabaseError as exc:
        print(f"error: {exc} at {describe(url)}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError, OutputsError, ValueError) as exc:
        print(f"error: cannot read the bucket as the Command Centre: {exc}", file=sys.stderr)
        return 2
    registrar = Registrar(engine, outputs, s3)
    missing = sorted(k for k in keys if outputs.reference(k, any_key=True) not in rows)
    gone = sorted(ref for ref in rows if (outputs.key_of(ref) or "") not in keys)
    print(f"reconcile: {len(keys)} objects in {outputs.bucket_name}, {len(rows)} live rows in learning_samples")
    for key in missing:
        print(f"  not registered: {outputs.reference(key, any_key=True)}")
    for reference in gone:
        print(f"  row without its object: {reference}")
    if args.dry_run or not (missing or gone):
        print(
            f"reconcile: {len(missing)} to register, {len(gone)} to mark erased"
            + (" (dry run)" if args.dry_run else "")
        )
        return 1 if missing or gone else 0
    now = datetime.now(UTC)
    try:
        registered = erased = 0
        for start in range(0, len(missing), CHUNK):
            events = [
                ObjectEvent(CREATED, "reconcile:registered", outputs.bucket_name, k, now)
                for k in missing[start : start + CHUNK]
            ]
            registered += registrar.register(events).registered
        # Gone from the listing: removal events of reconcile's own, which the registrar confirms
        # (HeadObject) before marking, so an object uploaded during the listing stays.
        removals = [
            ObjectEvent("removed", "reconcile:gone", outputs.bucket_name, outputs.key_of(ref) or "", now)
            for ref in gone
        ]
        for start in range(0, len(removals), CHUNK):
            erased += registrar.register(removals[start : start + CHUNK]).erased
    except DatabaseError as exc:
        print(f"error: {exc} at {describe(url)}; what was committed before stays", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"error: cannot read an object: {exc}; what was committed before stays", file=sys.stderr)
        return 2
    print(f"reconcile: registered {registered} of {len(missing)}, marked {erased} of {len(gone)} erased")
    return 1


def live_rows(engine: Any, bucket: str) -> set[str]:
    """The references of the bucket's rows not marked erased."""
    from sqlalchemy import select  # noqa: PLC0415

    from learning_images.registry.models import LearningSample  # noqa: PLC0415

    with engine.connect() as connection:
        found = connection.execute(
            select(LearningSample.image_reference).where(
                LearningSample.bucket == bucket, LearningSample.erased_at.is_(None)
            )
        )
        return set(found.scalars())


if __name__ == "__main__":
    sys.exit(main())
