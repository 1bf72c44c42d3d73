"""GDPR erasure against the local S3, with a replica bucket standing in for replication.

moto does not replicate, so each test copies its objects into the replica the way replication
would (same key, its own version); and it does not enforce Object Lock here (the local stack
has none), so the GOVERNANCE bypass is exercised on AWS only.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from learning_images.ops import erase, inventory
from learning_images.ops.clients import new_session
from learning_images.sandbox.local import REGION, LocalStore, client, local_store
from learning_images.sandbox.r2 import local_r2_store
from learning_images_infra.aws import iam as iam_documents
from learning_images_infra.aws.inventory import INVENTORY_ID
from tests.support.ops import (
    command_centre_s3,
    jpeg,
    operator_s3,
    read_report,
    sample,
    upload,
    versions,
    write_batch,
    write_csv,
)

REPLICA = "learning-images-replica"
LOGS = "access-logs"


def add_replica_and_log_bucket(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
    s3 = client(url, "s3", **operator)
    for bucket in (REPLICA, LOGS):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=REPLICA, VersioningConfiguration={"Status": "Enabled"})
    iam = client(url, "iam", **operator)
    role = outputs["command_centre_role_arn"].rsplit("/", 1)[1]
    # What the program grants the Command Centre on a replica (iam.command_centre_policy) and on
    # the inventory (iam.inventory_read_policy), built by the program's own builders.
    primary = iam_documents.StoreTarget(f"arn:aws:s3:::{outputs['bucket_name']}", outputs["kms_key_arn"], REGION)
    replica = iam_documents.StoreTarget(f"arn:aws:s3:::{REPLICA}", "arn:aws:kms:eu-west-1:123456789012:key/r", REGION)
    replica_grants = [
        st
        for st in iam_documents.command_centre_policy(primary, replica)["Statement"]
        if st["Sid"].startswith("Replica") and not st["Sid"].endswith("KeyThroughS3")
    ]
    inventory = iam_documents.inventory_read_policy(f"arn:aws:s3:::{LOGS}", "inventory")["Statement"]
    grants = [*replica_grants, *inventory]
    iam.put_role_policy(
        RoleName=role, PolicyName="replica", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": grants})
    )
    outputs["replica"] = {
        "bucket_name": REPLICA,
        "bucket_arn": f"arn:aws:s3:::{REPLICA}",
        "region": REGION,
        "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/replica",
        "replication_role_arn": "arn:aws:iam::123456789012:role/replication",
    }
    outputs["inventory"] = {"bucket_name": LOGS, "prefix": f"inventory/{outputs['bucket_name']}/{INVENTORY_ID}/"}


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_store(tamper=add_replica_and_log_bucket) as found:
        yield found


def stored(store: LocalStore, tmp_path: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Upload the samples as the city, then replicate them and add a delete marker, as S3 would."""
    assert upload(store, tmp_path, write_batch(tmp_path, rows), tmp_path / "up.jsonl") == 0
    done = sorted(read_report(tmp_path / "up.jsonl"), key=lambda r: r["row"])  # rows in manifest order
    s3 = operator_s3(store)
    for row in done:
        # As S3 replication copies it: the bytes and the tags (which carry the contract's fields).
        body = s3.get_object(Bucket=store.outputs["bucket_name"], Key=row["key"])["Body"].read()
        tags = s3.get_object_tagging(Bucket=store.outputs["bucket_name"], Key=row["key"])["TagSet"]
        s3.put_object(
            Bucket=REPLICA, Key=row["key"], Body=body, Tagging=urlencode({t["Key"]: t["Value"] for t in tags})
        )
    # A delete marker too, as the Command Centre (the only tier that may delete).
    command_centre_s3(store).delete_object(Bucket=store.outputs["bucket_name"], Key=done[0]["key"])
    return done


def audit_records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def run(store: LocalStore, tmp_path: Path, *args: str) -> int:
    """The erasure command; a metadata selection by scanning the bucket (these are the scan's
    tests: tests/test_erase_by_sql.py selects in learning_samples)."""
    operator = new_session(region_name=REGION, **store.operator)
    scan = ["--scan"] if any(a in args for a in ("--city-id", "--camera-id", "--event-id")) else []
    common = ["--outputs", str(store.outputs_file), "--endpoint-url", store.url, *scan]
    paths = ["--report", str(tmp_path / "erase.jsonl"), "--audit", str(tmp_path / "audit.jsonl")]
    return erase.main([*common, *paths, *args], operator=operator)


def everywhere(store: LocalStore, key: str) -> int:
    return len(versions(store, prefix=key)) + len(versions(store, REPLICA, prefix=key))


def test_erasure_dry_run_deletes_nothing(store: LocalStore, tmp_path: Path) -> None:
    rows = [sample("a.jpg"), sample("b.jpg")]
    done = stored(store, tmp_path, rows)
    before = {r["key"]: everywhere(store, r["key"]) for r in done}
    assert run(store, tmp_path, "--camera-id", rows[0]["camera_id"]) == 0
    report = read_report(tmp_path / "erase.jsonl")
    assert {r["status"] for r in report} == {"would-delete"}
    assert {r["key"] for r in report} == {done[0]["key"]}, "only the selected camera's object is listed"
    assert len(report) == before[done[0]["key"]] == 3, (
        "the version and the delete marker in the primary, the replica's copy"
    )
    assert {r["key"]: everywhere(store, r["key"]) for r in done} == before, "a dry run deletes nothing"
    assert not (tmp_path / "audit.jsonl").exists(), "nothing erased, nothing to audit"


def test_erasure_removes_every_version_in_primary_and_replica(store: LocalStore, tmp_path: Path) -> None:
    camera = "cam-erase-me"
    rows = [sample("a.jpg", camera_id=camera), sample("b.jpg", camera_id=camera, label="changed"), sample("c.jpg")]
    done = stored(store, tmp_path, rows)
    assert run(store, tmp_path, "--city-id", "sandbox-city", "--camera-id", camera, "--confirm") == 0
    for row in done[:2]:
        assert everywhere(store, row["key"]) == 0, f"{row['key']}: every version and marker gone, primary and replica"
    assert everywhere(store, done[2]["key"]) == 2, "an object outside the selection is untouched"
    report = read_report(tmp_path / "erase.jsonl")
    assert {r["status"] for r in report} == {"deleted"} and {r["bucket"] for r in report} == {
        store.outputs["bucket_name"],
        REPLICA,
    }
    records = audit_records(tmp_path)
    (audit,) = [r for r in records if r["event"] == "erasure-finished"]
    assert audit["action"] == "erased" and audit["remaining"] == 0 and audit["failed"] == 0
    assert audit["by"]["operator"].endswith("user/sandbox-operator"), "the audit names the person behind the run"
    assert "assumed-role" in audit["by"]["acting_as"], "and the tier session it acted as"
    deleted = [r for r in records if r["event"] == "version-deleted"]
    assert len(deleted) == len(report) and {r["run"] for r in records} == {audit["run"]}, "every version, one run"
    assert audit["at"] and audit["selection"] == {
        "city_id": "sandbox-city",
        "camera_id": camera,
        "selected_in": "bucket scan",
    }
    assert sorted(audit["references"]) == sorted(r["image_reference"] for r in done[:2]), "the audit says what"
    assert "\\xff\\xd8" not in json.dumps(audit) and set(audit) >= {"at", "by", "references"}


def test_erasure_by_reference_removes_only_the_referenced_objects(store: LocalStore, tmp_path: Path) -> None:
    done = stored(store, tmp_path, [sample("a.jpg"), sample("b.jpg")])
    refs = tmp_path / "refs.txt"
    refs.write_text(f"# from learning_samples\n{done[1]['image_reference']}\n")
    assert run(store, tmp_path, "--references", str(refs), "--confirm") == 0
    assert everywhere(store, done[1]["key"]) == 0 and everywhere(store, done[0]["key"]) == 3


def test_malformed_references_exit_2_naming_every_bad_line(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = tmp_path / "refs.txt"
    refs.write_text("s3://other-bucket/0f8fad5b-d9cb-469f-a165-70867728950e.jpg\ns3://learning-images/paris/x.jpg\n")
    assert run(store, tmp_path, "--references", str(refs), "--confirm") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "line 1" in err and "line 2" in err and "not a '<uuid>.jpg' key" in err, err
    assert not (tmp_path / "erase.jsonl").exists()


def write_inventory(store: LocalStore, keys: list[str]) -> None:
    """An inventory as S3 delivers it: a dated manifest.json naming a gzipped CSV."""
    s3 = operator_s3(store)
    prefix = store.outputs["inventory"]["prefix"]
    rows = io.StringIO()
    for key in keys:
        for v in versions(store, prefix=key):
            csv.writer(rows).writerow([store.outputs["bucket_name"], key, v["VersionId"], "true", "false"])
    s3.put_object(Bucket=LOGS, Key=f"{prefix}data/part-0.csv.gz", Body=gzip.compress(rows.getvalue().encode()))
    manifest = {
        "sourceBucket": store.outputs["bucket_name"],
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker",
        "files": [{"key": f"{prefix}data/part-0.csv.gz"}],
    }
    s3.put_object(Bucket=LOGS, Key=f"{prefix}2026-11-23T01-00Z/manifest.json", Body=json.dumps(manifest).encode())


def test_inventory_replaces_the_listing(store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's server rejects the signature of any query value containing '/' (ListObjectsV2 with
    # Prefix="a/b" fails SignatureDoesNotMatch), so the manifest is located here as S3 would
    # find it; reading the manifest and the gzipped CSV goes through the store with auth on.
    dated = f"{store.outputs['inventory']['prefix']}2026-11-23T01-00Z/manifest.json"
    monkeypatch.setattr(inventory, "latest_manifest_key", lambda s3, bucket, prefix: dated)
    camera = "cam-inventory"
    done = stored(store, tmp_path, [sample("a.jpg", camera_id=camera), sample("b.jpg", camera_id=camera)])
    write_inventory(store, [done[1]["key"]])  # yesterday's inventory knows only the second object
    assert run(store, tmp_path, "--camera-id", camera, "--inventory") == 0
    report = read_report(tmp_path / "erase.jsonl")
    assert {r["key"] for r in report} == {done[1]["key"]}, (
        "with --inventory the candidates come from the inventory, not from listing the bucket"
    )


def test_large_erasure_writes_batch_operations_manifests_instead_of_deleting(store: LocalStore, tmp_path: Path) -> None:
    camera = "cam-batch"
    done = stored(store, tmp_path, [sample("a.jpg", camera_id=camera)])
    base = tmp_path / "batch.csv"
    code = run(
        store, tmp_path, "--camera-id", camera, "--confirm", "--batch-threshold", "1", "--batch-manifest", str(base)
    )
    assert code == 0
    primary = list(csv.reader((tmp_path / f"batch-{store.outputs['bucket_name']}.csv").open()))
    replica = list(csv.reader((tmp_path / f"batch-{REPLICA}.csv").open()))
    assert {(r[0], r[1]) for r in primary} == {(store.outputs["bucket_name"], done[0]["key"])} and len(primary) == 2
    assert len(replica) == 1 and all(r[2] for r in primary + replica), "every manifest line names its version"
    assert everywhere(store, done[0]["key"]) == 3, "a Batch Operations erasure deletes nothing itself"
    (audit,) = audit_records(tmp_path)
    assert audit["action"] == "batch-manifest"


def test_selection_must_be_metadata_or_references(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as neither:
        run(store, tmp_path)
    assert neither.value.code == 2


class Listing:
    """ListObjectsV2 pages, for the manifest lookup (a fake: only the paginator is used)."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def get_paginator(self, name: str) -> Listing:
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [{"Contents": [{"Key": k} for k in self.keys if k.startswith(kwargs["Prefix"])]}]


def test_the_newest_inventory_manifest_is_read() -> None:
    prefix = "inventory/learning-images/all-versions-daily/"
    keys = [
        f"{prefix}2026-11-22T01-00Z/manifest.json",
        f"{prefix}2026-11-23T01-00Z/manifest.json",
        f"{prefix}2026-11-23T01-00Z/manifest.checksum",
        f"{prefix}data/9f1c.csv.gz",
    ]
    assert inventory.latest_manifest_key(Listing(keys), "logs", prefix) == keys[1]
    with pytest.raises(inventory.InventoryError, match="no inventory under"):
        inventory.latest_manifest_key(Listing([]), "logs", prefix)


def test_erasure_runs_on_the_real_r2_outputs_by_reference_and_by_metadata(tmp_path: Path) -> None:
    """The rendered r2 stack's outputs (no versions, r2:// references, a token for the Command
    Centre) drive erasure end to end, as they drive the uploader, retention and the verifier."""
    with local_r2_store() as r2:
        for name in ("a.jpg", "b.jpg"):
            jpeg(tmp_path / name)
        rows = [sample("a.jpg", camera_id="cam-r2-erase"), sample("b.jpg")]
        assert upload(r2, tmp_path, write_csv(tmp_path / "m.csv", rows), tmp_path / "up.jsonl") == 0
        done = sorted(read_report(tmp_path / "up.jsonl"), key=lambda r: r["row"])
        assert all(r["image_reference"].startswith("r2://") for r in done), done
        refs = tmp_path / "refs.txt"
        refs.write_text(done[1]["image_reference"] + "\n")
        assert run(r2, tmp_path, "--references", str(refs), "--confirm") == 0
        assert run(r2, tmp_path, "--camera-id", "cam-r2-erase", "--confirm") == 0
        s3 = operator_s3(r2)
        left = s3.list_objects_v2(Bucket=r2.outputs["bucket_name"]).get("Contents", [])
        assert not {o["Key"] for o in left} & {r["key"] for r in done}, "both erased, the one selection each"
        (audit, *_) = [r for r in audit_records(tmp_path) if r["event"] == "erasure-finished"]
        assert audit["by"]["acting_as"].startswith("r2-token:"), "on R2 the audit names the token (no STS there)"


def test_an_erasure_killed_half_way_is_on_record_and_a_rerun_converges(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill after some deletions (here: after the primary's, before the replica's): every
    version deleted is in the audit, and a rerun by the same metadata finds the copies left only
    in the replica, removes them, and completes the record."""
    camera = "cam-killed-half-way"
    done = stored(store, tmp_path, [sample("a.jpg", camera_id=camera), sample("b.jpg", camera_id=camera)])
    real = erase.Eraser.delete

    def killed_half_way(self: erase.Eraser, versions: list[erase.Version], *args: Any) -> Any:
        real(self, [v for v in versions if v.bucket != REPLICA], *args)
        raise KeyboardInterrupt  # as SIGINT or SIGTERM would, mid-run

    monkeypatch.setattr(erase.Eraser, "delete", killed_half_way)
    assert run(store, tmp_path, "--camera-id", camera, "--confirm") == 130
    records = audit_records(tmp_path)
    deleted = {(r["bucket"], r["key"], r["version_id"]) for r in records if r["event"] == "version-deleted"}
    assert deleted and all(bucket == store.outputs["bucket_name"] for bucket, _, _ in deleted), records
    assert not [v for row in done for v in versions(store, prefix=row["key"])], "the primary is erased"
    assert all(everywhere(store, row["key"]) for row in done), "the replica still holds the copies"

    monkeypatch.setattr(erase.Eraser, "delete", real)
    assert run(store, tmp_path, "--camera-id", camera, "--confirm") == 0, "the rerun finds replica-only copies"
    assert not any(everywhere(store, row["key"]) for row in done), "nothing left anywhere"
    finished = [r for r in audit_records(tmp_path) if r["event"] == "erasure-finished"]
    assert finished and finished[-1]["remaining"] == 0


def test_a_deletion_announced_by_a_killed_run_is_confirmed_by_the_next(store: LocalStore, tmp_path: Path) -> None:
    """A kill between S3's answer and the audit line: the intent is on record; the next run
    sees the version gone and records it deleted, so the audit misses no deleted version."""
    (row,) = stored(store, tmp_path, [sample("a.jpg", camera_id="cam-intent")])
    (version,) = [v for v in versions(store, REPLICA, prefix=row["key"])]
    journal = erase.AuditJournal(tmp_path / "audit.jsonl", "killed-run", {"operator": "test"})
    lost = erase.Version(REPLICA, row["key"], version["VersionId"])
    journal.write({"event": "version-deleting", **erase.version_fields(lost)})
    command_centre_s3(store).delete_object(Bucket=REPLICA, Key=row["key"], VersionId=version["VersionId"])
    assert run(store, tmp_path, "--camera-id", "cam-intent", "--confirm") == 0
    confirmed = [r for r in audit_records(tmp_path) if r["event"] == "version-deleted" and r["run"] == "killed-run"]
    assert len(confirmed) == 1 and confirmed[0]["version_id"] == version["VersionId"], audit_records(tmp_path)


def test_a_reference_that_matches_nothing_is_named_and_exits_1(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = store.outputs["bucket_name"]
    refs = tmp_path / "refs.txt"
    refs.write_text(f"s3://{missing}/00000000-0000-4000-8000-000000000000.jpg\n")
    assert run(store, tmp_path, "--references", str(refs), "--confirm") == 1
    assert "match no object in this store" in " ".join(capsys.readouterr().err.split())


def test_a_dry_run_lists_what_it_would_erase_and_names_an_unknown_city(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (row,) = stored(store, tmp_path, [sample("a.jpg", camera_id="cam-dry-listing")])
    assert run(store, tmp_path, "--camera-id", "cam-dry-listing") == 0
    err = " ".join(capsys.readouterr().err.split())
    assert row["image_reference"] in err, "a dry run shows what it would erase, not counts only"
    assert run(store, tmp_path, "--city-id", "atlantis") == 1, "a selection that matches nothing is exit 1"
    assert "'atlantis' is not a city of this stack" in " ".join(capsys.readouterr().err.split())


def test_an_erasure_by_reference_killed_and_rerun_converges_and_records_every_reference(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the primary's deletions, then rerun with the same references: exit 1, since
    the references the killed run erased "matched nothing". The audit also left out a requested
    reference that matched nothing (3 of 4 recorded)."""
    done = stored(store, tmp_path, [sample(f"{i}.jpg", camera_id="cam-ref-rerun") for i in range(3)])
    nothing = f"s3://{store.outputs['bucket_name']}/00000000-0000-4000-8000-00000000abcd.jpg"
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(row["image_reference"] + "\n" for row in done) + nothing + "\n")
    real = erase.Eraser.delete

    def killed(self: erase.Eraser, versions: list[erase.Version], *args: Any) -> Any:
        real(self, versions, *args)
        raise KeyboardInterrupt  # after every deletion, before the record of the run's end

    monkeypatch.setattr(erase.Eraser, "delete", killed)
    assert run(store, tmp_path, "--references", str(refs), "--confirm") == 130
    monkeypatch.setattr(erase.Eraser, "delete", real)
    refs.write_text("".join(row["image_reference"] + "\n" for row in done))
    assert run(store, tmp_path, "--references", str(refs), "--confirm") == 0, "the rerun must see the erasure done"
    (finished,) = [r for r in audit_records(tmp_path) if r["event"] == "erasure-finished"]
    outcomes = {o["reference"]: o["outcome"] for o in finished["requested"]}
    assert outcomes == {row["image_reference"]: "already-erased" for row in done}, finished["requested"]
    refs.write_text(nothing + "\n")
    assert run(store, tmp_path, "--references", str(refs), "--confirm") == 1
    last = [r for r in audit_records(tmp_path) if r["event"] == "erasure-finished"][-1]
    assert last["requested"] == [{"reference": nothing, "outcome": "matched-nothing"}], "every request is on record"


def test_a_references_file_with_a_byte_order_mark_is_read(store: LocalStore, tmp_path: Path) -> None:
    (row,) = stored(store, tmp_path, [sample("a.jpg", camera_id="cam-bom")])
    refs = tmp_path / "refs.txt"
    refs.write_text("\ufeff" + row["image_reference"] + "\n", encoding="utf-8")
    assert run(store, tmp_path, "--references", str(refs)) == 0, "a BOM is no part of the first reference"


def test_a_references_file_that_is_not_utf8_is_refused_naming_the_line(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = tmp_path / "refs.txt"
    refs.write_bytes(b"# references\ns3://b/\xe9.jpg\n")
    assert run(store, tmp_path, "--references", str(refs)) == 2
    assert "is not UTF-8 text: line 2" in " ".join(capsys.readouterr().err.split())


def test_an_erasure_whose_report_is_in_use_deletes_nothing(
    store: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With its report in use by another run, erasure deleted every version, then failed with a
    traceback, and the audit had no erasure-finished."""
    from learning_images.ops.reports import JsonlReport  # noqa: PLC0415

    (row,) = stored(store, tmp_path, [sample("a.jpg", camera_id="cam-report-busy")])
    before = everywhere(store, row["key"])
    with JsonlReport(tmp_path / "erase.jsonl"):
        assert run(store, tmp_path, "--camera-id", "cam-report-busy", "--confirm") == 2
    assert "nothing was deleted" in " ".join(capsys.readouterr().err.split())
    assert everywhere(store, row["key"]) == before, f"{row['key']}: deleted although the report could not be written"


def test_an_erasure_whose_audit_cannot_be_written_deletes_nothing(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (row,) = stored(store, tmp_path, [sample("a.jpg", camera_id="cam-audit-full")])
    before = everywhere(store, row["key"])

    def full(self: erase.AuditJournal, record: dict[str, Any]) -> None:
        raise erase.AuditWriteError(f"writing the audit {self.path} failed (No space left on device)")

    monkeypatch.setattr(erase.AuditJournal, "write", full)
    assert run(store, tmp_path, "--camera-id", "cam-audit-full", "--confirm") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "No space left on device" in err and "Traceback" not in err, err
    assert everywhere(store, row["key"]) == before, f"{row['key']}: deleted although nothing could be recorded"


def test_reconcile_reads_the_inventory_instead_of_listing(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """learning-images-reconcile --inventory: the objects it compares come from the newest S3
    Inventory report (as erasure's do), not from a listing of the bucket."""
    from learning_images.ops import reconcile  # noqa: PLC0415

    dated = f"{store.outputs['inventory']['prefix']}2026-11-23T01-00Z/manifest.json"
    monkeypatch.setattr(inventory, "latest_manifest_key", lambda s3, bucket, prefix: dated)
    done = stored(store, tmp_path, [sample("a.jpg", camera_id="cam-reconcile"), sample("b.jpg")])
    write_inventory(store, [done[1]["key"]])
    (tmp_path / "url").write_text(f"sqlite:///{tmp_path / 'ls.db'}")
    argv = [
        "--outputs",
        str(store.outputs_file),
        "--endpoint-url",
        store.url,
        "--database-url-file",
        str(tmp_path / "url"),
    ]
    operator = new_session(region_name=REGION, **store.operator)
    assert reconcile.main([*argv, "--inventory", "--dry-run"], operator=operator) == 1
    out = capsys.readouterr().out
    assert f"not registered: s3://{store.outputs['bucket_name']}/{done[1]['key']}" in out, out
    assert done[0]["key"] not in out, "with --inventory the objects come from the inventory, not a listing"
