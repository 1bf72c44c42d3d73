"""A city is handed its own kit, never the stack's outputs (which carry every tier's keys)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from learning_images.ops import city_kit
from learning_images.outputs import read_outputs_file
from learning_images.sandbox.local import LocalStore
from tests.support.ops import CITY, jpeg, read_report, sample, write_csv


def test_a_city_kit_holds_that_citys_key_and_no_other_tiers_secret(local: LocalStore, tmp_path: Path) -> None:
    full = read_outputs_file(local.outputs_file)
    assert full.foreign_secrets(CITY), "the sandbox's outputs hold other tiers' keys (the premise)"
    folder = tmp_path / "kit"
    assert city_kit.main(["--outputs", str(local.outputs_file), "--city", CITY, "--out", str(folder)]) == 0
    kit = read_outputs_file(folder / city_kit.OUTPUTS_FILE)
    assert kit.foreign_secrets(CITY) == [], f"{folder}: the kit carries {kit.foreign_secrets(CITY)}"
    assert set(kit.city_credentials) == {CITY}
    secret = full.city_credentials[CITY].secret_access_key.get_secret_value()
    assert kit.city_credentials[CITY].secret_access_key.get_secret_value() == secret
    text = (folder / city_kit.OUTPUTS_FILE).read_text()
    for other in (full.command_centre_credentials, full.training_credentials, full.probe_credentials):
        if other is not None:
            assert other.secret_access_key.get_secret_value() not in text, "another tier's secret is in the kit"
    for name in ("command_centre_role_arn", "training_role_arn", "kms_key_arn", "replica"):
        assert json.loads(text)[name] is None, f"{name}: the kit names nothing but what uploading needs"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path}: a kit file must be readable by its owner only"


def test_a_city_uploads_with_its_kit_alone(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from learning_images.ops import upload_batch  # noqa: PLC0415

    folder = tmp_path / "kit"
    city_kit.main(["--outputs", str(local.outputs_file), "--city", CITY, "--out", str(folder)])
    jpeg(tmp_path / "a.jpg")
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    code = upload_batch.main(
        [
            *("--outputs", str(folder / city_kit.OUTPUTS_FILE), "--endpoint-url", local.url, "--city", CITY),
            *("--images", str(tmp_path), "--manifest", str(manifest), "--report", str(tmp_path / "r.jsonl")),
            "--quiet",
        ]
    )
    assert code == 0 and read_report(tmp_path / "r.jsonl")[0]["status"] == "uploaded"
    assert "carry credentials" not in capsys.readouterr().err, "a kit is no cause for a warning"


def test_a_kit_for_a_city_the_stack_does_not_have_is_refused(local: LocalStore, tmp_path: Path) -> None:
    assert (
        city_kit.main(["--outputs", str(local.outputs_file), "--city", "atlantis", "--out", str(tmp_path / "k")]) == 2
    )
    assert not (tmp_path / "k").exists(), "nothing is written for a refused kit"
