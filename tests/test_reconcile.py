"""learning-images-reconcile in the enforcing sandbox: what the events missed is repaired from the
bucket, and a drift is exit 1 for the scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from learning_images.ops import reconcile, register
from learning_images.ops.clients import new_session
from learning_images.registry.models import LearningSample
from learning_images.sandbox.local import REGION, LocalStore, client, local_store
from tests.support.ops import command_centre_s3, read_report, sample, upload, write_batch
from tests.support.registry import store_argv


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_store() as made:
        yield made


@pytest.fixture
def database(tmp_path: Path) -> Path:
    (tmp_path / "url").write_text(f"sqlite:///{tmp_path / 'learning_samples.db'}")
    return tmp_path / "url"


def lose_events(store: LocalStore) -> None:
    """What a notification turned off, or a purged queue, does: the events never arrive."""
    client(store.url, "sqs", **store.operator).purge_queue(QueueUrl=store.outputs["registration"]["queue_url"])


argv = store_argv


def run(store: LocalStore, database: Path, *extra: str) -> int:
    return reconcile.main(argv(store, database, *extra), operator=new_session(region_name=REGION, **store.operator))


def states(database: Path) -> dict[str, str]:
    engine = create_engine(database.read_text())
    with engine.connect() as connection:
        found = connection.execute(select(LearningSample.image_reference, LearningSample.erased_at)).all()
    engine.dispose()
    return {reference: "erased" if erased else "live" for reference, erased in found}


def stored(store: LocalStore, folder: Path, count: int) -> list[str]:
    manifest = write_batch(folder, [sample(f"image-{n}.jpg") for n in range(count)])
    assert upload(store, folder, manifest, folder / "report.jsonl") == 0
    return [r["image_reference"] for r in read_report(folder / "report.jsonl") if r.get("image_reference")]


def test_objects_whose_events_were_lost_are_registered_and_the_drift_exits_1(
    store: LocalStore, database: Path, tmp_path: Path
) -> None:
    references = stored(store, tmp_path / "batch", 4)
    lose_events(store)
    assert run(store, database) == 1, "a drift is exit 1"
    assert {ref: states(database).get(ref) for ref in references} == dict.fromkeys(references, "live")
    assert run(store, database) == 0, "a second run finds no drift"


def test_a_row_whose_object_is_gone_is_marked_erased(store: LocalStore, database: Path, tmp_path: Path) -> None:
    (reference,) = stored(store, tmp_path / "batch", 1)
    operator = new_session(region_name=REGION, **store.operator)
    regs = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--database-url-file", str(database)]
    assert register.main([*regs, "--once", "--wait", "1"], operator=operator) == 0
    key = reference.rsplit("/", 1)[1]
    s3 = command_centre_s3(store)
    for version in s3.list_object_versions(Bucket=store.outputs["bucket_name"], Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=store.outputs["bucket_name"], Key=key, VersionId=version["VersionId"])
    lose_events(store)
    assert run(store, database) == 1
    assert states(database)[reference] == "erased", "learning_samples: a row still points at an erased object"


def test_a_dry_run_says_what_drifted_and_changes_nothing(
    store: LocalStore, database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    references = stored(store, tmp_path / "batch", 2)
    lose_events(store)
    assert run(store, database, "--dry-run") == 1
    out = capsys.readouterr().out
    assert all(f"not registered: {ref}" in out for ref in references), out
    assert not set(references) & set(states(database)), "a dry run registered rows"


def test_on_r2_without_its_gateway_reconcile_quarantines_what_the_store_could_not_refuse(tmp_path: Path) -> None:
    """R2 tokens cannot hold the upload rules: reconcile (here without the receiver: the bare
    stand-in has no event source) keeps the table, and an object that breaks the contract is
    quarantined, never trainable."""
    from learning_images import contract  # noqa: PLC0415
    from learning_images.sandbox.r2 import local_r2_store  # noqa: PLC0415

    with local_r2_store(gateway=False) as r2:
        good = stored(r2, tmp_path / "batch", 1)
        unsure = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b.jpg"
        fields = {f: "x" for f in contract.METADATA_FIELDS} | {
            contract.CITY_ID: "sandbox-city",
            contract.LABEL_STATUS: contract.Label.UNSURE.value,
            contract.UPLOADED_AT: "2026-12-01T10:00:00Z",
        }
        city = r2.outputs["city_credentials"]["sandbox-city"]
        s3 = client(
            r2.url, "s3", aws_access_key_id=city["access_key_id"], aws_secret_access_key=city["secret_access_key"]
        )
        s3.put_object(
            Bucket=r2.outputs["bucket_name"],
            Key=unsure,
            Body=contract.JPEG_MAGIC + b"unsure",
            Metadata={contract.metadata_key(k): v for k, v in fields.items()},
        )
        (tmp_path / "url").write_text(f"sqlite:///{tmp_path / 'r2.db'}")
        assert run(r2, tmp_path / "url") == 1
    engine = create_engine((tmp_path / "url").read_text())
    with engine.connect() as connection:
        found = {
            key: rule
            for key, rule in connection.execute(select(LearningSample.object_key, LearningSample.quarantined_rule))
        }
    assert found.get(unsure) == "refuse.unsure-label", f"learning_samples: {found}"
    assert all(found.get(ref.rsplit("/", 1)[1]) is None for ref in good), "a compliant object was quarantined"
