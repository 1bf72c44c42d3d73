"""The verification script against the local sandbox: what it proves, and how it fails.

The clean run is one whole sandbox (scripts/learning_images/sandbox/sandbox.py) for the module; each
mutation weakens one guard of a local store the module shares, runs the verifier against it and
puts the guard back.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from learning_images.rules import Sid
from learning_images.sandbox.local import Hook, LocalStore, client, local_store
from tests.support.verifying import run_sandbox, run_verifier, statuses


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_store() as made:
        yield made


#: Every rule the enforcing local S3 can judge must PASS in the sandbox (the stack's own bucket,
#: identity and key policies evaluated under IAM semantics) ...
PASS_LOCALLY = {
    "registration.registered",
    "registration.erased",
    "config.bucket-policy-guards",
    "refuse.without-if-none-match",
    "refuse.unsure-label",
    "refuse.missing-tag",
    "refuse.blank-metadata",
    "refuse.lock-headers",
    "refuse.tag-rewrite",
    "refuse.other-city",
    "refuse.key-with-slash",
    "refuse.key-not-uuid",
    "access.anonymous-list-refused",
    "access.plain-http-refused",
    "config.public-access-block",
    "config.default-encryption",
    "config.versioning",
    "config.lifecycle",
    "upload.accepted",
    "upload.read-back",
    "upload.encrypted",
    "upload.reference",
    "refuse.overwrite",
    "tier.city.GetObject",
    "tier.city.ListObjectsV2",
    "tier.city.GetObjectTagging",
    "tier.city.DeleteObject",
    "tier.training.GetObject",
    "tier.training.GetObjectTagging",
    "tier.training.ListObjectsV2",
    "tier.training.ListObjectVersions",
    "tier.training.PutObject",
    "tier.training.DeleteObject",
    "tier.command-centre.GetObject",
    "tier.command-centre.GetObjectTagging",
    "tier.command-centre.ListObjectsV2",
    "tier.command-centre.ListObjectVersions",
    "tier.command-centre.PutObject",
    "tier.command-centre.DeleteObjectVersion",
    "access.anonymous-read-refused",
}
#: ... and only what a cloud alone proves is SKIP, never PASS: every rule that rests on an IAM
#: condition gets a verdict from the enforcing local S3.
SKIP_LOCALLY = {
    "config.replication",
    "config.object-lock",
    "replication.arrives",
}
#: What S3 cannot hold at all, so the local AWS stack reports it as a gap.
GAP_LOCALLY = {"refuse.not-jpeg"}


@dataclass(frozen=True)
class CleanRun:
    """One sandbox run of the untouched local stack: what several rules are checked against."""

    code: int
    report: dict[str, Any]
    left: list[str]
    printed: str
    secrets: list[str]
    junit: Path


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    tmp_path = tmp_path_factory.mktemp("clean-run")
    secrets: list[str] = []

    def remember(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        secrets.append(outputs["probe_credentials"]["secret_access_key"])
        secrets.extend(c["secret_access_key"] for c in outputs["city_credentials"].values())

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code, report, left = run_sandbox(tmp_path, tamper=remember)
    return CleanRun(code, report, left, printed.getvalue(), secrets, tmp_path / "report.xml")


def test_sandbox_passes_every_rule_it_can_judge_and_skips_only_what_a_cloud_proves(clean_run: CleanRun) -> None:
    got = statuses(clean_run.report)
    assert {rule for rule, status in got.items() if status == "PASS"} == PASS_LOCALLY, got
    assert {rule for rule, status in got.items() if status == "SKIP"} == SKIP_LOCALLY, got
    assert {rule for rule, status in got.items() if status == "GAP"} == GAP_LOCALLY, got
    assert clean_run.code == 0, f"nothing failed, so the exit code must be 0: {clean_run.report['summary']}"
    assert not clean_run.left, f"probe objects left behind: {clean_run.left}"


def test_skips_say_why(clean_run: CleanRun) -> None:
    for result in clean_run.report["results"]:
        if result["status"] == "SKIP":
            assert result["reason"], f"{result['rule']}: a SKIP must give its reason"


def test_junit_report_counts_failures_and_skips(clean_run: CleanRun) -> None:
    suite = ET.parse(clean_run.junit).getroot()
    assert suite.get("failures") == "0" and suite.get("skipped") == str(len(SKIP_LOCALLY | GAP_LOCALLY))
    assert int(suite.get("tests", "0")) == len(PASS_LOCALLY | SKIP_LOCALLY | GAP_LOCALLY)


def test_secrets_are_never_printed(clean_run: CleanRun) -> None:
    printed = clean_run.printed + json.dumps(clean_run.report)
    assert clean_run.code == 0 and clean_run.secrets
    assert not [s for s in clean_run.secrets if s in printed], "a secret access key was printed"


def weaken(sid: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Hook:
    """A tamper hook that rewrites one guard of the provisioned bucket policy (None drops it)."""

    def tamper(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        s3 = client(url, "s3", **operator)
        policy = json.loads(s3.get_bucket_policy(Bucket=outputs["bucket_name"])["Policy"])
        kept = []
        for statement in policy["Statement"]:
            changed = change(statement) if statement["Sid"] == sid else statement
            if changed is not None:
                kept.append(changed)
        s3.put_bucket_policy(Bucket=outputs["bucket_name"], Policy=json.dumps({**policy, "Statement": kept}))

    return tamper


def narrow_to_unsure(statement: dict[str, Any]) -> dict[str, Any]:
    """The retag guard's ``Null`` (any stored object) becomes ``StringEquals unsure`` (only objects
    labelled unsure): a careless edit that leaves every correct object retaggable."""
    return {**statement, "Condition": {"StringEquals": {"s3:ExistingObjectTag/label_status": "unsure"}}}


@pytest.mark.parametrize(
    ("sid", "change", "expected"),
    [
        # A dropped Sid is also missing from the deployed policy (config.bucket-policy-guards).
        (Sid.INSECURE_TRANSPORT, lambda s: None, {"access.plain-http-refused", "config.bucket-policy-guards"}),
        (Sid.RETAG_STORED_OBJECT, narrow_to_unsure, {"refuse.tag-rewrite"}),
    ],
    ids=["drop-a-sid", "narrow-a-condition"],
)
def test_a_weakened_guard_fails_exactly_its_rule(
    store: LocalStore,
    tmp_path: Path,
    sid: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
    expected: set[str],
) -> None:
    """Mutation: the same local stack with one guard weakened (a guard backed by nothing else);
    the verifier against the enforcing local S3 must report exactly that rule FAIL, and exit 1."""
    s3 = client(store.url, "s3", **store.operator)
    deployed = s3.get_bucket_policy(Bucket=store.outputs["bucket_name"])["Policy"]
    weaken(sid, change)(store.url, store.outputs, store.operator)
    try:
        code, report, left = run_verifier(store, tmp_path)
    finally:
        s3.put_bucket_policy(Bucket=store.outputs["bucket_name"], Policy=deployed)
    failed = {r for r, status in statuses(report).items() if status == "FAIL"}
    assert failed == expected, f"weakening {sid} must fail exactly {sorted(expected)}, failed {sorted(failed)}"
    assert code == 1
    assert not left, f"probe objects left behind: {left}"


def test_the_docs_state_the_sandbox_report_the_sandbox_gives(clean_run: CleanRun) -> None:
    """Stale numbers in the docs are a wish: the README and docs/verifying.md quote this run."""
    from pathlib import Path  # noqa: PLC0415

    got = statuses(clean_run.report)
    count = {s: sum(v == s for v in got.values()) for s in ("PASS", "FAIL", "SKIP", "GAP")}
    root = Path(__file__).resolve().parents[1]
    readme = " ".join((root / "README.md").read_text().split())
    said = (
        f"({count['PASS']} PASS, {count['FAIL']} FAIL, {count['SKIP']} SKIP for what only a cloud proves, "
        f"{count['GAP']} GAP"
    )
    assert said in readme, f"README.md must quote the sandbox's report: {said}"
    assert clean_run.report["summary"] in (root / "docs" / "verifying.md").read_text(), (
        f"docs/verifying.md must quote the sandbox's summary: {clean_run.report['summary']}"
    )
