"""``learning-images-ingest-report``: the Command Centre's daily view of what the cities sent, from
``learning_samples``: per city and upload day, registered by label, quarantined by the rule broken,
erased, and duplicates (rows whose bytes an earlier row holds).

    learning-images-ingest-report --since 2026-12-01                 # a table in the terminal
    learning-images-ingest-report --since 2026-12-01 --json day.json # and the same as JSON

Exit codes: 0 the report; 1 nothing was registered in the range; 2 usage or the learning store.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from learning_images import contract
from learning_images.ops import arguments


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser("ingest-report", "What the cities sent, per city and day, from learning_samples.")
    arguments.add_database_arguments(parser)
    parser.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="first upload day (UTC)")
    parser.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="last upload day (UTC)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(soft_wrap=True)
    errors = Console(stderr=True, soft_wrap=True)
    try:
        from learning_images.registry.database import DatabaseError, database_url, describe, opened  # noqa: PLC0415
        from learning_images.registry.ingest import ingest_report, totals  # noqa: PLC0415
    except ImportError:
        errors.print("[red]error:[/] learning-images-ingest-report needs the [registry] extra")
        return 2
    url = database_url(args)
    days = contract.UploadDays(args.since, args.until)
    try:
        engine = opened(url)
        report = ingest_report(engine, days)
    except DatabaseError as exc:
        errors.print(f"[red]error:[/] {exc} at {describe(url)}")
        return 2
    labels = sorted({label for day in report for label in day.registered})
    table = Table(title=f"ingest {days.describe() or 'all days'}")
    for column in ("city", "day", *labels, "quarantined (rule: n)", "erased", "duplicates"):
        table.add_column(column, justify="left" if column in ("city", "day", "quarantined (rule: n)") else "right")
    for day in report:
        quarantined = ", ".join(f"{rule}: {n}" for rule, n in sorted(day.quarantined.items()))
        table.add_row(
            day.city_id,
            day.day,
            *(str(day.registered.get(label, 0)) for label in labels),
            quarantined or "-",
            str(day.erased),
            str(day.duplicates),
        )
    console.print(table)
    summed = dict(totals(report))
    console.print(", ".join(f"{n} {what}" for what, n in summed.items()))
    if args.json:
        document = {"range": days.describe(), "days": [day.as_dict() for day in report], "totals": summed}
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0 if report else 1


if __name__ == "__main__":
    sys.exit(main())
