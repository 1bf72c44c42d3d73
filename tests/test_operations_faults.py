"""The Command Centre's commands under faults: a store that accepts connections and never answers
(erase, retention and verify took 123-125 s; a SIGTERM then took 124 s to stop erasure, past
systemd's 90 s before SIGKILL), a report that cannot be written, a session that outlives its
credentials. Each stops with exit 2 and a message, within its request timeout's bound."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from learning_images.ops import erase, retention
from learning_images.ops.clients import new_session
from learning_images.sandbox.local import REGION, LocalStore, local_store
from learning_images.verify import cli
from tests.support.ops import silent_endpoint


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_store() as found:
        yield found


@pytest.fixture
def hung() -> Iterator[str]:
    with silent_endpoint() as url:
        yield url


def operator(store: LocalStore) -> boto3.Session:
    return new_session(region_name=REGION, **store.operator)


def test_erasure_against_a_hung_store_exits_2_having_deleted_nothing(
    store: LocalStore, hung: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        *("--outputs", str(store.outputs_file), "--endpoint-url", hung, "--timeout", "0.5"),
        *("--camera-id", "cam-hung", "--scan", "--confirm"),
        *("--report", str(tmp_path / "erase.jsonl"), "--audit", str(tmp_path / "audit.jsonl")),
    ]
    assert erase.main(argv, operator=operator(store)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot read the store" in err and "Traceback" not in err, err


def test_retention_against_a_hung_store_exits_2(
    store: LocalStore, hung: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        *("--outputs", str(store.outputs_file), "--endpoint-url", hung, "--timeout", "0.5"),
        *("--report", str(tmp_path / "retention.jsonl"), "--scan"),
    ]
    assert retention.main(argv, operator=operator(store)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "retention stopped" in err and "Traceback" not in err, err


def test_the_verifier_of_a_keyed_stack_against_a_hung_store_stops_at_its_pre_flight(
    hung: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--time-budget 30` against an endpoint that accepts and never answers took 126 s: with the
    tiers' keys in the outputs (r2: no STS call first), every probe waited its retries in turn."""
    import json  # noqa: PLC0415

    from learning_images.sandbox.render import render, stack_config  # noqa: PLC0415

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(render(stack_config("r2"), stack="r2").outputs))
    argv = ["--outputs", str(outputs), "--endpoint-url", hung, "--state-dir", str(tmp_path), "--time-budget", "10"]
    assert cli.main(argv) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "(pre-flight): cannot reach the endpoint" in out, out


def test_a_tier_session_assumes_its_role_again_before_it_expires(store: LocalStore) -> None:
    """The Command Centre's assumed-role session (900 s) was never refreshed: a run longer than it
    failed with ExpiredToken midway."""
    from botocore.credentials import RefreshableCredentials  # noqa: PLC0415

    from learning_images.ops.clients import Endpoint, assume  # noqa: PLC0415

    endpoint = Endpoint(store.url, REGION, 5.0)
    session = assume(operator(store), str(store.outputs["command_centre_role_arn"]), endpoint)
    credentials = session.get_credentials()
    assert isinstance(credentials, RefreshableCredentials), "a tier session must refresh itself"
    first = credentials.get_frozen_credentials().access_key
    credentials._expiry_time = credentials._expiry_time.replace(year=2000)
    assert credentials.get_frozen_credentials().access_key != first, "an expired session must assume the role again"
    assert session.client("sts", endpoint_url=store.url).get_caller_identity()["Arn"], "and keep working"


def test_a_tier_session_assumes_its_role_once_not_before_every_request(store: LocalStore) -> None:
    """A 900 s session sat inside botocore's 15-minute advisory refresh from its first second, so
    every request assumed the role again first: twice the requests, and STS's rate limit."""
    from learning_images.ops.clients import Endpoint, assume  # noqa: PLC0415

    calls: list[str] = []
    caller = operator(store)
    caller.events.register("before-call.sts.AssumeRole", lambda **_: calls.append("AssumeRole"))
    session = assume(caller, str(store.outputs["command_centre_role_arn"]), Endpoint(store.url, REGION, 5.0))
    sts = session.client("sts", endpoint_url=store.url)
    for _ in range(3):
        sts.get_caller_identity()
    assert calls == ["AssumeRole"], f"command_centre_role_arn: {len(calls)} AssumeRole calls for 3 requests"


def test_retention_whose_report_cannot_be_written_stops_before_any_request(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only or full disk for the report gave a traceback and exit 1."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the report's folder should be")
    argv = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--report", str(blocked / "r.jsonl")]
    assert retention.main(argv, operator=operator(store)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot write the report" in err and "Traceback" not in err, err
