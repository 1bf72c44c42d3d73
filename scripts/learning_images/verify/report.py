"""The verification report: the table on the console, JSON and JUnit XML."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from rich.console import Console
from rich.table import Table

from learning_images import rules
from learning_images.verify.probes import Result, Status


def summary(results: list[Result]) -> str:
    count = {status: sum(r.status is status for r in results) for status in Status}
    gaps = f", {count[Status.GAP]} backend gap{'s' if count[Status.GAP] != 1 else ''}" if count[Status.GAP] else ""
    by_gateway = sum(r.status is Status.PASS and r.enforcement == rules.Enforcement.GATEWAY for r in results)
    held = f" ({by_gateway} of them enforced by the gateway)" if by_gateway else ""
    return f"{count[Status.PASS]} rules passed{held}, {count[Status.FAIL]} failed, {count[Status.SKIP]} skipped{gaps}"


def print_table(results: list[Result], console: Console) -> None:
    table = Table(title="Storage contract verification", show_lines=False)
    # Status and rule ids are never broken: a reader greps for `refuse.overwrite`, not `refuse.ove`.
    table.add_column("status", no_wrap=True)
    table.add_column("rule", no_wrap=True, min_width=max((len(r.rule) for r in results), default=4))
    for column in ("what", "enforced by", "evidence / reason"):
        table.add_column(column, overflow="fold")
    colours = {Status.PASS: "green", Status.FAIL: "red", Status.SKIP: "yellow", Status.GAP: "magenta"}
    for r in results:
        detail = " | ".join(part for part in (r.evidence, r.reason) if part)
        held = r.enforcement.removeprefix("enforced by the ")
        table.add_row(f"[{colours[r.status]}]{r.status.value}[/]", r.rule, r.title, held, detail)
    console.print(table)
    console.print(summary(results))


def write_json(results: list[Result], path: Path) -> None:
    path.write_text(
        json.dumps(
            {"summary": summary(results), "results": [r.__dict__ | {"status": r.status.value} for r in results]},
            indent=2,
        )
    )


def write_junit(results: list[Result], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="storage-contract",
        tests=str(len(results)),
        failures=str(sum(r.status is Status.FAIL for r in results)),
        skipped=str(sum(r.status in {Status.SKIP, Status.GAP} for r in results)),
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=r.rule.split(".")[0], name=r.rule)
        if r.status is Status.FAIL:
            ET.SubElement(case, "failure", message=r.reason or r.title).text = r.evidence
        elif r.status in {Status.SKIP, Status.GAP}:
            ET.SubElement(case, "skipped", message=f"{r.status.value}: {r.reason}")
        ET.SubElement(case, "system-out").text = f"{r.title}: {r.evidence}"
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
