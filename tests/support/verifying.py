"""Helpers of the verifier's sandbox tests: one run of the sandbox flow, its report, what it left."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from learning_images.ops.clients import new_session
from learning_images.sandbox.local import REGION, LocalStore, client
from learning_images.sandbox.sandbox import sandbox, verifier_args
from learning_images.verify import cli


def leftover_objects(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> list[str]:
    s3 = client(url, "s3", **operator)
    listing = s3.list_object_versions(Bucket=outputs["bucket_name"])
    return [f"{v['Key']}@{v['VersionId']}" for v in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]]


def run_sandbox(tmp_path: Path, **hooks: Any) -> tuple[int, dict[str, Any], list[str]]:
    """Run the sandbox flow; return the exit code, the JSON report and what was left behind."""
    left: list[str] = []
    report = tmp_path / "report.json"

    def after(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        left.extend(leftover_objects(url, outputs, operator))

    code = sandbox(
        ["--json", str(report), "--junit", str(tmp_path / "report.xml")], engine="applier", after=after, **hooks
    )
    return code, json.loads(report.read_text()) if report.exists() else {}, left


def run_verifier(store: LocalStore, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], list[str]]:
    """The verifier alone against a store that is already up (as the sandbox runs it, without the
    receiver: registration checks then say they have no learning store); the exit code, the JSON
    report and what was left behind."""
    report = tmp_path / "report.json"
    args = [*verifier_args(store, tmp_path / "state"), "--json", str(report), *extra]
    code = cli.main(args, operator=new_session(region_name=REGION, **store.operator))
    left = leftover_objects(store.url, store.outputs, store.operator)
    return code, json.loads(report.read_text()) if report.exists() else {}, left


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {r["rule"]: r["status"] for r in report["results"]}
