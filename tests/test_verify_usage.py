"""How the verification script fails before it can probe: clear message, exit 2, no server needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import verify_contract
from scripts.render import render, stack_config
from scripts.sandbox import free_port


def outputs_file(tmp_path: Path, drop: str | None = None) -> Path:
    outputs = dict(render(stack_config("local"), stack="local").outputs)
    if drop:
        outputs.pop(drop)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_missing_output_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = verify_contract.main(["--outputs", str(outputs_file(tmp_path, drop="kms_key_arn"))])
    out = capsys.readouterr().out
    assert code == 2
    assert "kms_key_arn" in out and "pulumi stack output --json --show-secrets" in out, out


def test_outputs_file_that_does_not_exist_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_contract.main(["--outputs", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().out


def test_no_source_of_outputs_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        verify_contract.main([])
    assert exited.value.code == 2


def test_unreachable_endpoint_exits_2_saying_what_to_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    code = verify_contract.main(
        ["--outputs", str(outputs_file(tmp_path)), "--endpoint-url", closed, "--time-budget", "20"]
    )
    out = capsys.readouterr().out
    assert code == 2
    assert "cannot reach or authenticate to the endpoint" in out, out
