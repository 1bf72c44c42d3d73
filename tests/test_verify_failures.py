"""The verification script when things go wrong: bad credentials, a probe breaking half-way, an
interrupt, an exhausted time budget, a run killed before its cleanup. Exit 2, a message that says
what to fix, and no probe object left behind.

The tests that leave the store as they found it run the verifier against one local store of the
module; the one that revokes a key runs a sandbox of its own."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from learning_images.sandbox.local import LocalStore, client, local_store
from learning_images.sandbox.sandbox import sandbox
from learning_images.verify import cli, journal
from learning_images.verify.verifier import Verifier
from tests.support.verifying import leftover_objects, run_sandbox, run_verifier


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_store() as made:
        yield made


def test_bad_credentials_exit_2_with_a_message_and_leave_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def revoke_probe_key(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        iam = client(url, "iam", **operator)
        user = next(u["UserName"] for u in iam.list_users()["Users"] if u["UserName"].startswith("city-contract-probe"))
        iam.delete_access_key(UserName=user, AccessKeyId=outputs["probe_credentials"]["access_key_id"])

    code, _, left = run_sandbox(tmp_path, tamper=revoke_probe_key)
    out = capsys.readouterr().out
    assert code == 2
    assert "the credentials were refused" in out and "check the stack outputs" in out, out
    assert not left, f"probe objects left behind: {left}"


def test_probe_failing_half_way_exits_2_and_leaves_nothing(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: Verifier) -> None:
        self.put("command-centre")  # one more object, then the probe breaks
        raise RuntimeError("probe broke")

    monkeypatch.setattr(Verifier, "check_tiers", broken)
    code, _, left = run_verifier(store, tmp_path)
    assert code == 2
    assert (
        "stopped on an unexpected RuntimeError: probe broke; every probe object was removed" in capsys.readouterr().out
    )
    assert not left, f"probe objects left behind: {left}"


def test_interrupted_run_exits_2_and_leaves_nothing(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Verifier) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Verifier, "check_refusals", interrupted)
    code, _, left = run_verifier(store, tmp_path)
    assert code == 2
    assert not left, f"probe objects left behind: {left}"


def test_exhausted_time_budget_exits_2(store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, left = run_verifier(store, tmp_path, "--time-budget", "0.001")
    assert code == 2 and not left, f"probe objects left behind: {left}"
    assert "the time budget ran out" in capsys.readouterr().out


def test_probe_objects_a_killed_run_left_are_removed_by_the_next(store: LocalStore, tmp_path: Path) -> None:
    """A verifier killed (SIGKILL) before its cleanup leaves its probe objects; its journal names
    them, and the next run removes them first and says so."""
    state = tmp_path / "state"
    leftover = "0f8fad5b-d9cb-469f-a165-70867728950e.jpg"
    probe = store.outputs["probe_credentials"]
    s3 = client(
        store.url, "s3", aws_access_key_id=probe["access_key_id"], aws_secret_access_key=probe["secret_access_key"]
    )
    fields = {
        "city_id": "contract-probe",
        "camera_id": "probe-camera",
        "event_id": "probe-killed",
        "label_status": "correct",
        "uploaded_at": "2026-11-25T00:00:00Z",
    }
    tags = "&".join(f"{k}={v}" for k, v in fields.items())
    s3.put_object(
        Bucket=store.outputs["bucket_name"], Key=leftover, Body=b"\xff\xd8\xff", Tagging=tags, IfNoneMatch="*"
    )
    state.mkdir()
    (state / f"probes-{journal.store_name(store.outputs['bucket_name'], store.url)}.txt").write_text(leftover + "\n")

    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        code, _, left = run_verifier(store, tmp_path)
    assert code == 0
    assert not left, f"probe objects left behind: {left}"
    assert f"removed the probe objects a stopped run left behind: {leftover}" in printed.getvalue()
    assert not list(state.glob("probes-*")), "a run that cleaned up keeps no journal"


def test_a_second_verifier_on_the_same_store_and_state_directory_is_refused(
    tmp_path: Path, dev: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two verifiers on one state directory interfered: one reported 5 FAILs that were not the store's.
    The second is refused before it makes a request (the dev stack's rendered outputs, no store)."""
    import json  # noqa: PLC0415

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dev.outputs))
    state = tmp_path / "state"
    store = journal.store_name(dev.outputs["bucket_name"], dev.outputs.get("endpoint_url"))
    with journal.state_lock(state, store):
        code = cli.main(["--outputs", str(outputs), "--state-dir", str(state)])
    assert code == 2
    assert "another verification of this store is running" in capsys.readouterr().out


def test_an_interrupt_during_the_clean_up_says_exactly_what_is_left_and_where_the_journal_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed "probe objects were removed" while probe versions were still in the bucket.
    (A sandbox of its own: the probe objects it leaves would be the next test's.)"""
    state = tmp_path / "state"

    def interrupted(self: Verifier) -> list[str]:
        raise KeyboardInterrupt  # SIGINT or SIGTERM while the clean-up deletes

    monkeypatch.setattr(Verifier, "_clean_up", interrupted)
    left: list[str] = []
    code = sandbox(
        ["--state-dir", str(state)],
        engine="applier",
        after=lambda url, outputs, operator: left.extend(leftover_objects(url, outputs, operator)),
    )
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2 and left, "the premise: the clean-up was cut short"
    assert "probe objects remain" in out and "every probe object was removed" not in out, out
    (journal,) = state.glob("probes-*.txt")
    assert str(journal) in out, f"the message must name the journal {journal}: {out}"


def test_a_second_signal_exits_2_at_once_as_documented(tmp_path: Path) -> None:
    """A second SIGINT or SIGTERM gave exit -2 or -15, not the documented 2."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    script = tmp_path / "twice.py"
    script.write_text(
        "import os, signal, sys, time\n"
        "from learning_images.verify import cli\n"
        "def verify(*args):\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM); time.sleep(2)\n"
        "    finally:\n"
        "        os.kill(os.getpid(), signal.SIGINT); time.sleep(2)\n"
        "cli.verify = verify\n"
        f"sys.exit(cli.main(['--outputs', 'o.json', '--state-dir', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run(  # noqa: S603 (the verifier, as CI cancels it)
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert "stopped at once" in result.stderr and "next run removes them" in result.stderr, result.stderr
