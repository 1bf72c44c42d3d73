"""The uploader under faults, bad input and concurrency: each case reproduces one reported failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from learning_images.ops import upload_batch
from learning_images.sandbox.local import LocalStore
from tests.support.ops import (
    CITY,
    by_row,
    free_port,
    jpeg,
    read_report,
    sample,
    upload,
    versions,
    write_batch,
    write_csv,
    write_jsonl,
)


def test_a_csv_quote_that_never_closes_is_refused_before_any_upload(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """12 data lines, the second with an unclosed quote: before, 10 valid samples were neither
    uploaded nor reported and the batch exited 0."""
    manifest = write_batch(tmp_path, [sample(f"{i}.jpg") for i in range(12)])
    lines = manifest.read_text().splitlines()
    lines[2] = lines[2].replace(",cam-", ',"cam-', 1)
    manifest.write_text("\n".join(lines) + "\n")
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, manifest, report) == 2
    assert "a quote that never closes" in " ".join(capsys.readouterr().err.split())
    assert not report.exists(), "a refused manifest writes no report"


@pytest.mark.parametrize("kind", ["unreadable", "symlink-loop", "nul-byte", "fifo"])
def test_an_image_that_cannot_be_read_is_one_invalid_row_not_a_crashed_batch(
    local: LocalStore, tmp_path: Path, kind: str
) -> None:
    good = sample("good.jpg")
    jpeg(tmp_path / "good.jpg")
    bad = sample(f"bad-{kind}.jpg")
    path = tmp_path / bad["image"]
    if kind == "unreadable":
        jpeg(path).chmod(0)
    elif kind == "symlink-loop":
        path.symlink_to(path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        bad["image"] = "bad\x00.jpg"
    manifest = write_jsonl(tmp_path / "m.jsonl", [good, bad])
    report = tmp_path / "r.jsonl"
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode")
    assert upload(local, tmp_path, manifest, report) == 1, "an invalid row makes the batch exit 1"
    rows = by_row(read_report(report))
    assert rows[1]["status"] == "uploaded" and rows[2]["status"] == "invalid", rows


def test_a_mistyped_images_folder_is_refused_before_any_upload(local: LocalStore, tmp_path: Path) -> None:
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path / "no-such-folder", manifest, report) == 2
    assert not report.exists()


@pytest.mark.parametrize("export", ["bom", "semicolons"])
def test_spreadsheet_exports_are_read(local: LocalStore, tmp_path: Path, export: str) -> None:
    jpeg(tmp_path / "a.jpg")
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    text = manifest.read_text()
    if export == "bom":
        manifest.write_text("\ufeff" + text, encoding="utf-8")
    else:
        manifest.write_text(text.replace(",", ";"))
    assert upload(local, tmp_path, manifest, tmp_path / "r.jsonl") == 0
    (row,) = read_report(tmp_path / "r.jsonl")
    assert row["status"] == "uploaded", row


def test_two_uploaders_cannot_write_one_report(local: LocalStore, tmp_path: Path) -> None:
    """The second is refused at once (exit 2) instead of crashing on the rename or interleaving
    unparseable lines into the first one's report."""
    from learning_images.ops.reports import JsonlReport  # noqa: PLC0415

    jpeg(tmp_path / "a.jpg")
    report = tmp_path / "r.jsonl"
    with JsonlReport(report):
        assert upload(local, tmp_path, write_csv(tmp_path / "m.csv", [sample("a.jpg")]), report) == 2
    assert not report.exists()


def patched_uploader(
    folder: Path, patches: str, manifest: Path, report: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """The uploader as its own process, as a scheduler runs it, with ``patches`` (Python lines run
    after ``from learning_images.ops import upload_batch``) and its pre-flight off."""
    script = folder / "patched.py"
    script.write_text(
        "import os, signal, sys, time\n"
        "from learning_images.ops import upload_batch\n"
        f"{patches}"
        "upload_batch.preflight = lambda s3, target: None\n"
        "sys.exit(upload_batch.main(sys.argv[1:]))\n"
    )
    return subprocess.run(  # noqa: S603 (the uploader, as a scheduler runs it)
        [
            sys.executable,
            str(script),
            *("--bucket", "b", "--region", "eu-west-1", "--endpoint-url", f"http://127.0.0.1:{free_port()}"),
            *("--city", CITY, "--images", str(folder), "--manifest", str(manifest), "--report", str(report)),
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
    )


def uploader_signalled(tmp_path: Path, signals: list[float]) -> subprocess.CompletedProcess[str]:
    """The uploader sending itself SIGTERM from its first upload, once after each delay in
    ``signals``, then hanging, as a scheduler stopping a slow batch would see it."""
    sends = "".join(f"    time.sleep({delay})\n    os.kill(os.getpid(), signal.SIGTERM)\n" for delay in signals)
    jpeg(tmp_path / "a.jpg")
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    patches = f"def put(self, *args):\n{sends}    time.sleep(1)\nupload_batch.Uploader.put = put\n"
    return patched_uploader(tmp_path, patches, manifest, tmp_path / "r")


def test_sigterm_ends_the_batch_with_a_record_and_exit_130(tmp_path: Path) -> None:
    """What cron, systemd and Kubernetes send: the uploader stops like Ctrl-C, says where the
    record of what it did is, and exits 130, without a traceback."""
    result = uploader_signalled(tmp_path, [0])
    assert result.returncode == 130, result.stderr
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_quality_threshold_outside_zero_to_one_is_refused(tmp_path: Path) -> None:
    """`--min-quality 7` was accepted and excluded everything."""
    with pytest.raises(SystemExit) as refused:
        upload_batch.parse_args(
            [
                *("--bucket", "b", "--region", "eu-west-1", "--city", CITY, "--images", str(tmp_path)),
                *("--manifest", "m.csv", "--report", "r.jsonl", "--min-quality", "7"),
            ]
        )
    assert refused.value.code == 2


def bad_manifest(kind: str, tmp_path: Path) -> Path:
    """One kind of file that is not a usable manifest."""
    header = "image,camera_id,event_id,label_status,captured_at,quality\n"
    row = "a.jpg,cam-1,evt-1,correct,2026-11-24T17:04:05Z,0.9\n"
    path = tmp_path / "m.csv"
    contents = {
        "empty-header": "\n" + row,
        "missing-column": "image,camera_id,label_status,captured_at\n" + "a.jpg,cam-1,correct,2026-11-24T17:04:05Z\n",
        "binary": None,
        "latin-1": header + "a.jpg,cam-é,evt-1,correct,2026-11-24T17:04:05Z,0.9\n",
        "unclosed-quote": header + 'a.jpg,"cam-1,evt-1,correct,2026-11-24T17:04:05Z,0.9\n' + row,
        "huge-field": header + "a.jpg," + "x" * 200_000 + ",evt-1,correct,2026-11-24T17:04:05Z,0.9\n",
        "json-not-lines": None,
        "unknown-extension": None,
        "folder": None,
    }[kind]
    if kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    elif kind == "latin-1":
        path.write_bytes(contents.encode("latin-1"))  # type: ignore[union-attr]
    elif kind == "json-not-lines":
        path = tmp_path / "m.jsonl"
        path.write_text('[{"image": "a.jpg"}]\n')
    elif kind == "unknown-extension":
        path = tmp_path / "m.xlsx"
        path.write_text(header + row)
    elif kind == "folder":
        path = tmp_path / "folder.csv"
        path.mkdir()
    else:
        path.write_text(contents or "")
    return path


@pytest.mark.parametrize(
    "kind",
    [
        "empty-header",
        "missing-column",
        "binary",
        "latin-1",
        "unclosed-quote",
        "huge-field",
        "json-not-lines",
        "unknown-extension",
        "folder",
    ],
)
def test_a_file_that_is_not_a_usable_manifest_exits_2_with_no_upload_and_no_report(
    local: LocalStore, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    jpeg(tmp_path / "a.jpg")
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, bad_manifest(kind, tmp_path), report) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err, err
    assert not report.exists() and not list(tmp_path.glob("*.partial")), "nothing recorded: nothing was done"


def test_a_wrong_bucket_stops_the_batch_before_any_upload(local: LocalStore, tmp_path: Path) -> None:
    """Before, every image came back `failed` (exit 1): a city's scheduler could not tell a
    misconfigured batch from a bad one."""
    jpeg(tmp_path / "a.jpg")
    outputs = {**local.outputs, "bucket_name": "no-such-bucket-here"}
    wrong = tmp_path / "outputs.json"
    wrong.write_text(json.dumps(outputs))
    report = tmp_path / "r.jsonl"
    code = upload_batch.main(
        [
            *("--outputs", str(wrong), "--endpoint-url", local.url, "--city", CITY, "--images", str(tmp_path)),
            *("--manifest", str(write_csv(tmp_path / "m.csv", [sample("a.jpg")])), "--report", str(report), "--quiet"),
        ]
    )
    assert code == 2 and not report.exists()


def test_two_uploaders_on_one_batch_at_once_store_each_sample_once(local: LocalStore, tmp_path: Path) -> None:
    manifest = write_batch(tmp_path, [sample(f"{i}.jpg") for i in range(20)])
    command = [
        sys.executable,
        "-m",
        "learning_images.ops.upload_batch",
        *("--outputs", str(local.outputs_file), "--endpoint-url", local.url, "--city", CITY),
        *("--images", str(tmp_path), "--manifest", str(manifest), "--quiet"),
    ]
    first = subprocess.Popen([*command, "--report", str(tmp_path / "a.jsonl")], stderr=subprocess.PIPE)  # noqa: S603
    second = subprocess.Popen([*command, "--report", str(tmp_path / "b.jsonl")], stderr=subprocess.PIPE)  # noqa: S603
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
    a, b = by_row(read_report(tmp_path / "a.jsonl")), by_row(read_report(tmp_path / "b.jsonl"))
    for number in a:
        statuses = {a[number]["status"], b[number]["status"]}
        assert statuses <= {"uploaded", "already-present"} and a[number]["key"] == b[number]["key"], (a, b)
        assert len(versions(local, prefix=a[number]["key"])) == 1, f"{a[number]['key']}: stored exactly once"


def test_a_second_sigterm_stops_at_once_without_a_traceback(tmp_path: Path) -> None:
    result = uploader_signalled(tmp_path, [0, 0.3])
    assert result.returncode == 130, result.stderr
    assert "stopped at once" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_messages_stay_on_one_line_outside_a_terminal(tmp_path: Path) -> None:
    """Outside a terminal (cron, CI logs) a message was hard-wrapped at 80 columns, which broke
    grep in logs: the long error must come back as one line."""
    deep = tmp_path / ("a-long-folder-name-" * 6) / "images-that-are-not-here"
    result = subprocess.run(  # noqa: S603 (the uploader, as a scheduler runs it)
        [
            sys.executable,
            "-m",
            "learning_images.ops.upload_batch",
            *("--bucket", "b", "--region", "eu-west-1", "--city", CITY, "--images", str(deep)),
            *("--manifest", str(write_csv(tmp_path / "m.csv", [sample("a.jpg")])), "--report", str(tmp_path / "r")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if "is not a folder" in line]
    assert str(deep) in line and len(line) > 120, f"the message was wrapped: {result.stderr!r}"


# --- the report never eats an input or another batch's record ------------------------------------


def test_a_report_path_that_is_the_manifest_is_refused_and_the_manifest_kept(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--report` equal to `--manifest` replaced the manifest with the JSONL report and exited 1."""
    jpeg(tmp_path / "a.jpg")
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    before = manifest.read_bytes()
    assert upload(local, tmp_path, manifest, manifest) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert manifest.read_bytes() == before, f"{manifest}: the manifest must be kept whole"


def test_another_batchs_report_is_never_overwritten_and_a_rerun_of_the_same_batch_is(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jpeg(tmp_path / "a.jpg")
    yesterday = write_csv(tmp_path / "yesterday.csv", [sample("a.jpg", camera_id="cam-yesterday")])
    today = write_csv(tmp_path / "today.csv", [sample("a.jpg", camera_id="cam-today")])
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, yesterday, report) == 0
    kept = report.read_bytes()
    assert upload(local, tmp_path, today, report) == 2
    assert "is not the record of this run" in " ".join(capsys.readouterr().err.split())
    assert report.read_bytes() == kept, f"{report}: yesterday's record must be kept"
    assert upload(local, tmp_path, yesterday, report) == 0, "a rerun of the same batch replaces its own report"
    assert read_report(report)[0]["status"] == "already-present"


class FullDisk:
    """A report file whose disk fills after ``rows`` lines (ENOSPC), as a real full disk answers."""

    def __init__(self, handle: Any, rows: int) -> None:
        self.handle, self.rows = handle, rows

    def write(self, text: str) -> int:
        if self.rows <= 0:
            raise OSError(28, "No space left on device")
        self.rows -= 1
        return int(self.handle.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def test_a_disk_that_fills_mid_batch_stops_it_with_exit_2_and_a_rerun_records_everything(
    local: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """54 images were stored and 51 recorded, with a traceback and exit 1."""
    from learning_images.ops.reports import JsonlReport  # noqa: PLC0415

    rows = [sample(f"full-{i}.jpg") for i in range(12)]
    manifest = write_batch(tmp_path, rows)
    report = tmp_path / "r.jsonl"
    enter = JsonlReport.__enter__

    def filling(self: JsonlReport) -> JsonlReport:
        entered = enter(self)
        self._handle = FullDisk(self._handle, 4)  # type: ignore[assignment]
        return entered

    monkeypatch.setattr(JsonlReport, "__enter__", filling)
    assert upload(local, tmp_path, manifest, report, "--workers", "2") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "No space left on device" in err and "already-present" in err and "Traceback" not in err, err
    monkeypatch.setattr(JsonlReport, "__enter__", enter)
    assert upload(local, tmp_path, manifest, report) == 0
    statuses = {r["status"] for r in read_report(report)}
    assert statuses <= {"uploaded", "already-present"} and len(read_report(report)) == len(rows), statuses


def test_sigterm_mid_batch_leaves_every_stored_image_in_the_partial_report(tmp_path: Path) -> None:
    """2 of 3 runs at 20 rows lost a stored image's row: an interrupt inside Thread.join() marked a
    worker stopped (CPython issue 90882) and the report was closed while it still wrote. Five
    runs: the old wait lost a row in 2 of 6 (measured), so five catch it nine times in ten."""
    for attempt in range(5):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        stored = folder / "stored.txt"
        patches = (
            "count = iter(range(10**6))\n"
            "def put(self, key, *args):\n"
            "    time.sleep(0.02)\n"
            f"    with open({str(stored)!r}, 'a') as out: out.write(key + '\\n')\n"
            "    if next(count) == 6: os.kill(os.getpid(), signal.SIGTERM)\n"
            "upload_batch.Uploader.put = put\n"
        )
        manifest = write_batch(folder, [sample(f"{i}.jpg") for i in range(20)])
        report = folder / "r.jsonl"
        result = patched_uploader(folder, patches, manifest, report, "--workers", "4")
        assert result.returncode == 130, result.stderr
        recorded = {row["key"] for row in read_report(report.with_name(report.name + ".partial"))}
        missing = set(stored.read_text().split()) - recorded
        assert not missing, f"run {attempt}: stored but not in the .partial report: {missing}"


def test_a_wrong_ca_bundle_stops_the_batch_with_exit_2_and_a_hint(
    local: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An 83-line SSLError traceback and exit 1, where the docs promise exit 2."""
    jpeg(tmp_path / "a.jpg")
    wrong = tmp_path / "wrong-ca.pem"
    wrong.write_text(Path(__import__("certifi").where()).read_text())
    monkeypatch.setenv("AWS_CA_BUNDLE", str(wrong))
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    code = upload_batch.main(
        [
            *("--outputs", str(local.outputs_file), "--endpoint-url", local.url, "--city", CITY),
            *("--images", str(tmp_path), "--manifest", str(manifest), "--report", str(tmp_path / "r.jsonl"), "--quiet"),
        ]
    )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert "cannot reach or authenticate to the endpoint" in err and "AWS_CA_BUNDLE" in err, err
    assert "Traceback" not in err


def test_a_clock_two_hours_off_stops_the_batch_before_any_row_and_says_so() -> None:
    """20 `failed` rows (RequestTimeTooSkewed) and exit 1: the pre-flight must name the clock."""
    import email.utils  # noqa: PLC0415
    import time  # noqa: PLC0415

    import boto3  # noqa: PLC0415
    from botocore.stub import Stubber  # noqa: PLC0415

    from learning_images.backends import profile_for  # noqa: PLC0415
    from learning_images.ops.clients import Endpoint  # noqa: PLC0415

    s3 = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    server_time = email.utils.formatdate(time.time() - 2 * 3600, usegmt=True)
    with Stubber(s3) as stub:
        stub.add_client_error(
            "head_bucket", "403", http_status_code=403, response_meta={"HTTPHeaders": {"date": server_time}}
        )
        target = upload_batch.Target("b", profile_for("aws"), Endpoint(None, "eu-west-1", 5.0))
        with pytest.raises(upload_batch.FatalError, match=r"clock is ahead of the store's by about 2 h"):
            upload_batch.preflight(s3, target)


def test_each_row_that_was_not_stored_is_printed_in_manifest_order(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary said "2 rows were not stored (see the report)"."""
    jpeg(tmp_path / "ok.jpg")
    rows = [sample("ok.jpg"), sample("missing.jpg"), sample("ok.jpg", label="maybe")]
    assert upload(local, tmp_path, write_csv(tmp_path / "m.csv", rows), tmp_path / "r.jsonl") == 1
    err = " ".join(capsys.readouterr().err.split())
    second, third = err.find("row 2 (missing.jpg): invalid: image:"), err.find("row 3 (ok.jpg): invalid: label_status:")
    assert 0 <= second < third, err


def test_outputs_carrying_other_tiers_keys_are_warned_about(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jpeg(tmp_path / "a.jpg")
    assert upload(local, tmp_path, write_csv(tmp_path / "m.csv", [sample("a.jpg")]), tmp_path / "r.jsonl") == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "carry credentials that are not city" in err and "learning-images-city-kit" in err, err


@pytest.mark.parametrize("captured_at", ["1764000000", "20261123", "2026-11-23T17:04:05"])
def test_captured_at_that_is_not_iso_8601_with_a_zone_is_an_invalid_row(
    local: LocalStore, tmp_path: Path, captured_at: str
) -> None:
    """An epoch number and `20261123` were accepted (as seconds since 1970)."""
    jpeg(tmp_path / "a.jpg")
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg", captured_at=captured_at)])
    assert upload(local, tmp_path, manifest, tmp_path / "r.jsonl") == 1
    (row,) = read_report(tmp_path / "r.jsonl")
    assert row["status"] == "invalid" and "captured_at" in row["error"], row


def test_a_manifest_with_a_column_twice_is_refused_before_any_upload(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two `image` columns: every row uploaded the last column's file and the batch exited 0."""
    jpeg(tmp_path / "a.jpg")
    jpeg(tmp_path / "b.jpg")
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "image,camera_id,event_id,label_status,captured_at,image\n"
        "a.jpg,cam-1,evt-twice,correct,2026-11-23T17:04:05Z,b.jpg\n"
    )
    assert upload(local, tmp_path, manifest, tmp_path / "r.jsonl") == 2
    assert "has the column image more than once" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "r.jsonl").exists()


def test_a_manifest_that_is_not_utf8_is_refused_naming_the_line(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg"), sample("b.jpg")])
    lines = manifest.read_bytes().splitlines()
    lines[2] = lines[2].replace(b"b.jpg", b"b\xe9.jpg")
    manifest.write_bytes(b"\n".join(lines) + b"\n")
    assert upload(local, tmp_path, manifest, tmp_path / "r.jsonl") == 2
    assert "is not UTF-8 text: line 3" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("flag", ["--workers", "--timeout"])
def test_zero_workers_or_a_zero_timeout_is_a_usage_error(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--timeout 0` and `--workers 0` ended in tracebacks."""
    with pytest.raises(SystemExit) as refused:
        upload_batch.parse_args(
            [
                *("--bucket", "b", "--region", "eu-west-1", "--city", CITY, "--images", "."),
                *("--manifest", "m.csv", "--report", "r.jsonl", flag, "0"),
            ]
        )
    assert refused.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err


def test_a_row_reports_every_problem_it_has_not_the_first(local: LocalStore, tmp_path: Path) -> None:
    rows = [sample("missing.jpg", label="maybe")]
    assert upload(local, tmp_path, write_csv(tmp_path / "m.csv", rows), tmp_path / "r.jsonl") == 1
    (row,) = read_report(tmp_path / "r.jsonl")
    assert row["fields"] == ["image", "label_status"], f"both the label and the missing image: {row}"


def test_a_report_that_cannot_be_written_stops_the_batch_before_any_upload(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only or full disk for the report gave a traceback and exit 1 after the uploads."""
    jpeg(tmp_path / "a.jpg")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the report's folder should be")
    code = upload(local, tmp_path, write_csv(tmp_path / "m.csv", [sample("a.jpg")]), blocked / "r.jsonl")
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "cannot write the report" in err and "Traceback" not in err, err


def test_a_signal_while_the_manifest_is_checked_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """SIGINT or SIGTERM while the manifest was checked gave a traceback or exit 143 with no message."""
    patches = (
        "def check(path):\n"
        "    os.kill(os.getpid(), signal.SIGTERM); time.sleep(5)\n"
        "upload_batch.check_manifest = check\n"
    )
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    result = patched_uploader(tmp_path, patches, manifest, tmp_path / "r.jsonl")
    assert result.returncode == 130 and "interrupted" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
