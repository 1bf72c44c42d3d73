"""A city's access key is rotated with no failed upload: a second key beside the first, handed out
in the outputs, then the first removed (``cityKeyGenerations``). One rule per test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from learning_images.sandbox.local import client, local_store
from learning_images.sandbox.render import Graph, render, stack_config
from learning_images_infra.settings import PROJECT, SettingsError, parse_settings
from tests.support.ops import CITY, read_report, sample, upload, write_batch

KEY = "aws:iam/accessKey:AccessKey"
DEV_CITY = "dev-city-a"


def rotated(generations: list[int]) -> Graph:
    config = stack_config("dev") | {f"{PROJECT}:cityKeyGenerations": json.dumps({DEV_CITY: generations})}
    return render(config, stack="dev")


def keys_of(graph: Graph, city: str) -> dict[str, str]:
    """Logical name -> key id of ``city``'s access keys."""
    return {r.name: r.id for r in graph.of_type(KEY) if r.name.startswith(f"city-{city}-key")}


def test_a_city_has_one_key_until_its_key_is_rotated() -> None:
    graph = render(stack_config("dev"), stack="dev")
    assert list(keys_of(graph, DEV_CITY)) == [f"city-{DEV_CITY}-key"]


def test_during_a_rotation_both_keys_exist_and_the_outputs_hand_out_the_new_one() -> None:
    graph = rotated([1, 2])
    keys = keys_of(graph, DEV_CITY)
    assert set(keys) == {f"city-{DEV_CITY}-key", f"city-{DEV_CITY}-key-2"}, "the old key must keep working"
    handed_out = graph.outputs["city_credentials"][DEV_CITY]["access_key_id"]
    assert handed_out == keys[f"city-{DEV_CITY}-key-2"], "the outputs hand out the newest key"


def test_retiring_the_old_key_removes_only_it() -> None:
    keys = keys_of(rotated([2]), DEV_CITY)
    assert list(keys) == [f"city-{DEV_CITY}-key-2"], "the new key keeps its name (no replacement), the old is gone"


@pytest.mark.parametrize(
    ("generations", "problem"),
    [
        ('{"dev-city-a": [1, 2, 3]}', "is not one or two increasing generations"),
        ('{"dev-city-a": [2, 1]}', "is not one or two increasing generations"),
        ('{"dev-city-a": []}', "is not one or two increasing generations"),
        ('{"atlantis": [1, 2]}', "'atlantis' is not in `cityIds`"),
    ],
)
def test_key_generations_are_checked_against_iam_and_the_cities(generations: str, problem: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings(stack_config("dev") | {f"{PROJECT}:cityKeyGenerations": generations})
    assert f"{PROJECT}:cityKeyGenerations: " in str(raised.value) and problem in str(raised.value), raised.value


def test_the_rotation_procedure_loses_no_upload_in_the_enforcing_sandbox(tmp_path: Path) -> None:
    """What `pulumi up` does at each step, done to the city's user in the enforcing local S3:
    a second key (both upload), then the first deleted (only the second uploads)."""
    with local_store() as store:
        iam = client(store.url, "iam", **store.operator)
        old = store.outputs["city_credentials"][CITY]
        user = next(u["UserName"] for u in iam.list_users()["Users"] if u["UserName"].startswith(f"city-{CITY}"))
        created = iam.create_access_key(UserName=user)["AccessKey"]
        new = {
            "city_id": CITY,
            "access_key_id": created["AccessKeyId"],
            "secret_access_key": created["SecretAccessKey"],
        }

        def batch_with(key: dict[str, Any], name: str) -> str:
            store.outputs["city_credentials"][CITY] = key
            store.outputs_file.write_text(json.dumps(store.outputs))
            folder = tmp_path / name
            manifest = write_batch(folder, [sample(f"{name}.jpg")])
            upload(store, folder, manifest, folder / "r.jsonl")
            return str(read_report(folder / "r.jsonl")[0].get("status", "")) if (folder / "r.jsonl").exists() else ""

        assert batch_with(old, "old-during-overlap") == "uploaded", "the old key works while both exist"
        assert batch_with(new, "new-during-overlap") == "uploaded", "the new key works at once"
        iam.delete_access_key(UserName=user, AccessKeyId=old["access_key_id"])
        assert batch_with(old, "old-after-retirement") == "", "the retired key is refused before any upload"
        assert batch_with(new, "new-after-retirement") == "uploaded"
