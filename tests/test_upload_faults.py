"""The uploader under faults, bad input and concurrency: each case reproduces one reported failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from learning_images.ops import upload_batch
from learning_images.sandbox.sandbox import LocalStore
from tests.ops import (
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


def uploader_signalled(tmp_path: Path, signals: list[float]) -> subprocess.CompletedProcess[str]:
    """The uploader as its own process, sending itself SIGTERM from its first upload, once after
    each delay in ``signals``, then hanging, as a scheduler stopping a slow batch would see it."""
    script = tmp_path / "signalled.py"
    sends = "".join(f"    time.sleep({delay})\n    os.kill(os.getpid(), signal.SIGTERM)\n" for delay in signals)
    script.write_text(
        "import os, signal, sys, time\n"
        "from learning_images.ops import upload_batch\n"
        "def put(self, *args):\n"
        f"{sends}"
        "    time.sleep(1)\n"
        "upload_batch.Uploader.put = put\n"
        "upload_batch.preflight = lambda s3, target: None\n"
        "sys.exit(upload_batch.main(sys.argv[1:]))\n"
    )
    jpeg(tmp_path / "a.jpg")
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    return subprocess.run(  # noqa: S603 (the uploader, as a scheduler runs it)
        [
            sys.executable,
            str(script),
            *("--bucket", "b", "--region", "eu-west-1", "--endpoint-url", f"http://127.0.0.1:{free_port()}"),
            *("--city", CITY, "--images", str(tmp_path), "--manifest", str(manifest), "--report", str(tmp_path / "r")),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
    )


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
