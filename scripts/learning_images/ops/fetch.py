"""``learning-images-fetch``: the training images a job wants, as files, from ``learning_samples``.

    learning-images-fetch --stack prod --city-id paris --label correct --out ./train
    learning-images-fetch --stack prod --as-of 2026-12-01T00:00:00Z --cache ~/.cache/learning-images --out ./epoch

The contract's query pattern: the trainable rows the filters name (never quarantined, erased or
the verifier's probe; registered before ``--as-of``, so a rerun sees the same set), then each
image fetched with the training tier's read-only credential and checked against its row (size,
SHA-256, metadata) before it is written as ``<out>/<key>``. An image that differs is named and
skipped, never written. With ``--cache``, images are kept by content, so a second run downloads
nothing. Each file is written beside its place and renamed into it: a kill never leaves a
half-written image, and a rerun fetches what is missing.

Exit codes: 0 every selected image written; 1 some skipped (named), or the filters match nothing;
2 usage, credentials, the learning store, the cache or the output directory unusable; 130
Ctrl-C or SIGTERM (what is written is whole: rerun to finish).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from learning_images import contract
from learning_images.concurrency import Ticker
from learning_images.ops import arguments
from learning_images.ops.clients import Endpoint, interrupts_as_exceptions, training_session
from learning_images.outputs import OutputsError, add_outputs_arguments, outputs_from_args

SESSION_NAME = "training-fetch"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser("fetch", "Fetch verified training images selected in learning_samples.")
    add_outputs_arguments(parser)
    arguments.add_database_arguments(parser)
    parser.add_argument("--endpoint-url", help="S3/STS endpoint (default: the backend's own)")
    for name, what in (("city-id", "city"), ("camera-id", "camera"), ("event-id", "event")):
        parser.add_argument(f"--{name}", action="append", default=[], help=f"only this {what} (repeat for several)")
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        choices=[label.value for label in contract.UPLOAD_LABELS],
        help="only this label_status (repeat for several; default: every trainable label)",
    )
    parser.add_argument("--uploaded-from", type=date.fromisoformat, metavar="YYYY-MM-DD", help="uploaded on or after")
    parser.add_argument("--uploaded-until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="uploaded on or before")
    parser.add_argument(
        "--as-of",
        type=lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
        metavar="TIME",
        help="only rows registered by this ISO 8601 time: an epoch's fixed set (default: now)",
    )
    parser.add_argument("--out", type=Path, required=True, help="where each image is written, as <out>/<key>")
    parser.add_argument("--cache", type=Path, help="a content-addressed cache shared by runs (default: none)")
    parser.add_argument(
        "--workers", type=arguments.positive_int, default=16, help="reads in flight at once (default: 16)"
    )
    arguments.add_timeout(parser)
    return parser.parse_args(argv)


def _write(path: Path, data: bytes) -> None:
    """``data`` at ``path`` whole, or nothing there (written beside it, renamed after an fsync)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def main(argv: list[str] | None = None, *, operator: boto3.Session | None = None) -> int:  # noqa: PLR0911 (one exit per documented code)
    args = parse_args(argv)
    console = Console(stderr=True, soft_wrap=True)
    try:
        from learning_images.registry.database import DatabaseError, database_url, describe, opened  # noqa: PLC0415
        from learning_images.training.cache import Cache, CacheError  # noqa: PLC0415
        from learning_images.training.reader import Reader  # noqa: PLC0415
        from learning_images.training.selection import Selection, samples  # noqa: PLC0415
    except ImportError:
        console.print("[red]error:[/] learning-images-fetch needs the [registry] extra (SQLAlchemy, Alembic, psycopg)")
        return 2
    url = database_url(args)
    try:
        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
        args.out.mkdir(parents=True, exist_ok=True)
        cache = Cache(args.cache) if args.cache else None
        engine = opened(url)
        selection = Selection(
            city_ids=args.city_id,
            camera_ids=args.camera_id,
            event_ids=args.event_id,
            labels=args.label,
            uploaded=contract.UploadDays(args.uploaded_from, args.uploaded_until),
            snapshot=args.as_of,
        )
        selected = samples(engine, outputs.bucket_name, selection)
    except (OutputsError, CacheError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except OSError as exc:
        console.print(f"[red]error:[/] the output directory {args.out} cannot be used: {exc.strerror or exc}")
        return 2
    except DatabaseError as exc:
        console.print(f"[red]error:[/] {exc} at {describe(url)}")
        return 2
    if not selected:
        console.print(f"[yellow]the selection matches no trainable row:[/] {selection.describe() or 'every row'}")
        return 1
    endpoint = Endpoint(args.endpoint_url or outputs.endpoint_url, outputs.region, timeout=args.timeout)
    reader = Reader(
        outputs,
        engine,
        lambda: endpoint.client(training_session(outputs, operator, endpoint, SESSION_NAME), "s3"),
        cache,
        workers=args.workers,
    )
    for stale in args.out.glob(".*.jpg-*"):  # a killed run's unfinished files (never at an image's name)
        stale.unlink(missing_ok=True)
    wanted = [s for s in selected if not (args.out / s.object_key).exists()]
    ticker = Ticker("fetch", console.print, every=500)
    with interrupts_as_exceptions():
        try:
            for sample, data in reader.read_all(wanted, ticker.tick):
                _write(args.out / sample.object_key, data)
        except KeyboardInterrupt:
            console.print(f"[red]interrupted:[/] every file in {args.out} is whole; run the same command to finish")
            return 130
        except (CacheError, DatabaseError) as exc:
            console.print(f"[red]error:[/] {exc}; every file in {args.out} is whole")
            return 2
        except (ClientError, BotoCoreError, ValueError) as exc:
            console.print(f"[red]error:[/] cannot read as the training tier: {exc}")
            return 2
        except OSError as exc:
            console.print(
                f"[red]error:[/] cannot write into {args.out}: {exc.strerror or exc}; every file there is whole"
            )
            return 2
    counts = reader.counts
    for why in counts.skipped:
        console.print(f"[yellow]skipped[/] {why}")
    console.print(
        f"fetch: {len(selected)} selected, {len(selected) - len(wanted)} already in {args.out}, "
        f"{counts.downloaded} downloaded, {counts.cached} from the cache, {len(counts.skipped)} skipped"
    )
    return 1 if counts.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
