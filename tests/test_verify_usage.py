"""How the verification script fails before it can probe: clear message, exit 2, no server needed."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from learning_images.ops.clients import Endpoint, new_session
from learning_images.sandbox.render import render, stack_config
from learning_images.verify import cli
from tests.support.ops import free_port

#: Credentials that let botocore sign and send a request; whoever answers decides on them.
OPERATOR = new_session(aws_access_key_id="operator", aws_secret_access_key="operator", region_name="eu-west-1")


def outputs_file(tmp_path: Path, drop: str | None = None) -> Path:
    outputs = dict(render(stack_config("local"), stack="local").outputs)
    if drop:
        outputs.pop(drop)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_missing_output_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--outputs", str(outputs_file(tmp_path, drop="bucket_name"))])
    out = capsys.readouterr().out
    assert code == 2
    assert "bucket_name" in out and "pulumi stack output --json --show-secrets" in out, out


def test_outputs_file_that_does_not_exist_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--outputs", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().out


def test_no_source_of_outputs_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2


def test_unreachable_endpoint_exits_2_saying_what_to_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    args = ["--outputs", str(outputs_file(tmp_path)), "--endpoint-url", closed, "--time-budget", "20"]
    code = cli.main(args, operator=OPERATOR)
    out = capsys.readouterr().out
    assert code == 2
    assert "cannot reach or authenticate to the endpoint: Could not connect to the endpoint URL" in out, out


def test_silent_endpoint_times_out_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        args = ["--outputs", str(outputs_file(tmp_path)), "--endpoint-url", url, "--time-budget", "10"]
        code = cli.main(args, operator=OPERATOR)
    out = capsys.readouterr().out
    assert code == 2
    assert "cannot reach or authenticate to the endpoint: Read timeout" in out, out


def test_replica_clients_use_the_replica_region() -> None:
    endpoint = Endpoint(url=None, region="eu-west-1", timeout=5)
    session = new_session(aws_access_key_id="id", aws_secret_access_key="secret")
    s3 = endpoint.client(session, "s3", region_name="eu-central-1")
    assert s3.meta.region_name == "eu-central-1", "replica cleanup and replication checks talk to the replica's region"
    assert endpoint.client(session, "s3").meta.region_name == "eu-west-1"


def test_missing_operator_credentials_exit_2_saying_how_to_provide_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    closed = f"http://127.0.0.1:{free_port()}"
    code = cli.main(["--outputs", str(outputs_file(tmp_path)), "--endpoint-url", closed])
    out = capsys.readouterr().out
    assert code == 2
    assert "no AWS credentials for the operator: set AWS_PROFILE" in out, out


def test_rule_ids_stay_whole_in_an_80_column_report() -> None:
    """The verification report broke rule ids mid-word at 80 columns."""
    import io  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415

    from learning_images.verify.probes import Result, Status  # noqa: PLC0415
    from learning_images.verify.report import print_table  # noqa: PLC0415

    rule = "registration.quarantined-metadata-mismatch"
    out = io.StringIO()
    print_table(
        [Result(rule, "a long title " * 6, Status.PASS, "evidence " * 20, "", "enforced by the storage")],
        Console(file=out, width=80),
    )
    assert rule in out.getvalue(), f"the rule id was broken across lines:\n{out.getvalue()}"


@pytest.mark.parametrize(
    ("command", "module"),
    [
        ("upload", "learning_images.ops.upload_batch"),
        ("erase", "learning_images.ops.erase"),
        ("retention", "learning_images.ops.retention"),
        ("verify", "learning_images.verify.cli"),
        ("city-kit", "learning_images.ops.city_kit"),
    ],
)
def test_every_command_is_named_as_installed_and_tells_its_version(
    command: str, module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`usage: upload_batch` named an internal module, and no command had --version."""
    import importlib  # noqa: PLC0415

    main = importlib.import_module(module).main
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith(f"usage: learning-images-{command} "), f"{command}: usage names a module"
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith(f"learning-images-{command} ")


def test_the_uploaders_help_lists_the_manifests_columns_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    from learning_images.ops import upload_batch  # noqa: PLC0415
    from learning_images.ops.manifest import OPTIONAL_COLUMNS, REQUIRED_COLUMNS  # noqa: PLC0415

    with pytest.raises(SystemExit):
        upload_batch.main(["--help"])
    help_text = capsys.readouterr().out
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        assert f"\n  {column}" in help_text, f"--help must list the manifest column {column}"
    assert "example manifest.csv:" in help_text and "learning-images-upload --outputs" in help_text
