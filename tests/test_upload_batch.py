"""The batch uploader against the local S3: selection, idempotent create-only uploads, failures.

moto evaluates the city's grants and the create-only write (If-None-Match) faithfully; it does
not evaluate the bucket-policy guards (the local stack leaves them out), so what the guards
would refuse is proven by the verification script's rules on AWS, not here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from learning_images import contract
from learning_images.backends import BACKENDS
from learning_images.ops import upload_batch
from learning_images.sandbox.local import LocalStore, client, local_store
from learning_images.sandbox.r2 import local_r2_store
from learning_images.sandbox.sandbox import stand_in
from tests.support.ops import (
    CITY,
    as_r2,
    by_row,
    free_port,
    jpeg,
    operator_s3,
    read_report,
    sample,
    upload,
    versions,
    write_batch,
    write_csv,
    write_jsonl,
)


def mixed_batch(folder: Path) -> list[dict[str, Any]]:
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"):
        jpeg(folder / name)
    (folder / "not-a-jpeg.jpg").write_bytes(b"GIF89a....")
    return [
        sample("a.jpg", "correct"),  # 1 uploaded
        sample("b.jpg", "changed"),  # 2 uploaded
        sample("c.jpg", "unsure"),  # 3 excluded-unsure
        sample("d.jpg", "correct", quality=0.2),  # 4 excluded-quality
        sample("e.jpg", "maybe"),  # 5 invalid label
        sample("f.jpg", "correct", camera_id=""),  # 6 invalid camera_id
        sample("missing.jpg", "correct"),  # 7 invalid image
        sample("not-a-jpeg.jpg", "correct"),  # 8 invalid image
        sample("a.jpg", "correct", captured_at="yesterday"),  # 9 invalid captured_at
    ]


EXPECTED = {
    1: "uploaded",
    2: "uploaded",
    3: "excluded-unsure",
    4: "excluded-quality",
    5: "invalid",
    6: "invalid",
    7: "invalid",
    8: "invalid",
    9: "invalid",
}


def test_batch_ends_with_exactly_the_right_statuses_and_objects(local: LocalStore, tmp_path: Path) -> None:
    rows = mixed_batch(tmp_path)
    report = tmp_path / "report.jsonl"
    code = upload(local, tmp_path, write_csv(tmp_path / "m.csv", rows), report, "--min-quality", "0.5")
    got = by_row(read_report(report))
    assert {n: r["status"] for n, r in got.items()} == EXPECTED, "every manifest row ends in the report, rightly"
    assert code == 1, "the batch has invalid rows, so it exits 1 (a scheduler must see a bad batch)"
    assert got[5]["fields"] == ["label_status"] and got[6]["fields"] == ["camera_id"]
    assert got[7]["fields"] == ["image"] and "no such file" in got[7]["error"]
    assert got[8]["fields"] == ["image"] and "not a JPEG" in got[8]["error"]
    assert got[9]["fields"] == ["captured_at"]
    stored = {r["key"] for r in got.values() if r["status"] == "uploaded"}
    for key in stored:
        assert versions(local, prefix=key), f"{key}: an uploaded sample must be in the bucket"
    excluded_keys = {r["key"] for r in got.values() if r["status"] != "uploaded"}
    assert excluded_keys == {None}, "nothing but the uploaded samples gets a key (nothing else was sent)"


def test_upload_carries_metadata_tags_content_type_and_verified_checksum(local: LocalStore, tmp_path: Path) -> None:
    image = jpeg(tmp_path / "x.jpg")
    row = sample("x.jpg", "changed")
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, write_csv(tmp_path / "m.csv", [row]), report) == 0
    (done,) = read_report(report)
    s3 = operator_s3(local)
    head = s3.head_object(Bucket=local.outputs["bucket_name"], Key=done["key"], ChecksumMode="ENABLED")
    digest = hashlib.sha256(image.read_bytes())
    assert head["ContentType"] == "image/jpeg", f"{done['key']}: objects are image/jpeg"
    assert head["ChecksumSHA256"] == base64.b64encode(digest.digest()).decode(), (
        f"{done['key']}: the upload carries a SHA-256 checksum (AWS verifies it; moto only stores it)"
    )
    meta = head["Metadata"]
    assert meta["city-id"] == CITY and meta["camera-id"] == row["camera_id"] and meta["label-status"] == "changed"
    assert meta["content-sha256"] == digest.hexdigest() == done["content_sha256"], "the image's SHA-256 is metadata"
    assert meta["uploaded-at"] == done["uploaded_at"] and meta["captured-at"].startswith("2026-11-23T17:04:05")
    tags = {
        t["Key"]: t["Value"]
        for t in s3.get_object_tagging(Bucket=local.outputs["bucket_name"], Key=done["key"])["TagSet"]
    }
    assert set(tags) == set(contract.METADATA_FIELDS), f"{done['key']}: exactly the contract's fields as tags"
    assert tags["event_id"] == row["event_id"] and tags["city_id"] == CITY
    assert done["key"] == contract.sample_key(
        CITY, row["camera_id"], row["event_id"], row["label_status"], digest.hexdigest()
    )
    assert done["image_reference"] == f"s3://{local.outputs['bucket_name']}/{done['key']}"


def test_rerun_uploads_nothing_new(local: LocalStore, tmp_path: Path) -> None:
    rows = mixed_batch(tmp_path)
    manifest = write_csv(tmp_path / "m.csv", rows)
    # The mixed batch carries invalid rows: exit 1 both times, and nothing new the second time.
    assert upload(local, tmp_path, manifest, tmp_path / "first.jsonl", "--min-quality", "0.5") == 1
    first = by_row(read_report(tmp_path / "first.jsonl"))
    assert upload(local, tmp_path, manifest, tmp_path / "second.jsonl", "--min-quality", "0.5") == 1
    second = by_row(read_report(tmp_path / "second.jsonl"))
    for n, row in first.items():
        if row["status"] == "uploaded":
            assert second[n]["status"] == "already-present" and second[n]["key"] == row["key"], (
                f"row {n}: a rerun maps the sample to the same key and stores nothing new"
            )
            assert len(versions(local, prefix=row["key"])) == 1, f"{row['key']}: one version, no overwrite"
        else:
            assert second[n]["status"] == row["status"]


def test_interrupted_batch_rerun_ends_complete_with_no_duplicates(
    local: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [sample(f"{i}.jpg") for i in range(12)]
    for i in range(12):
        jpeg(tmp_path / f"{i}.jpg")
    manifest = write_jsonl(tmp_path / "m.jsonl", rows)
    real_put = upload_batch.Uploader.put
    calls = {"n": 0}

    def interrupted_half_way(self: upload_batch.Uploader, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] > 6:
            raise KeyboardInterrupt
        real_put(self, *args)

    monkeypatch.setattr(upload_batch.Uploader, "put", interrupted_half_way)
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, manifest, report, "--workers", "1") == 130, "an interrupt exits 130"
    assert not report.exists(), "an interrupted run never names its report as whole"
    partial = read_report(report.with_name(report.name + ".partial"))
    stored = [r for r in partial if r["status"] == "uploaded"]
    assert len(stored) == 6 and all(versions(local, prefix=r["key"]) for r in stored), (
        "the interrupted run's record holds every upload it finished, and each is stored"
    )
    monkeypatch.setattr(upload_batch.Uploader, "put", real_put)
    assert upload(local, tmp_path, manifest, report) == 0
    done = read_report(report)
    assert sorted(r["status"] for r in done) == ["already-present"] * 6 + ["uploaded"] * 6, (
        "the rerun finds the first half stored and uploads the rest"
    )
    for row in done:
        assert len(versions(local, prefix=row["key"])) == 1, f"{row['key']}: stored once"


def test_same_sample_in_two_batches_is_stored_once(local: LocalStore, tmp_path: Path) -> None:
    jpeg(tmp_path / "shared.jpg")
    jpeg(tmp_path / "other.jpg")
    shared = sample("shared.jpg")
    assert upload(local, tmp_path, write_csv(tmp_path / "monday.csv", [shared]), tmp_path / "monday.jsonl") == 0
    assert (
        upload(
            local, tmp_path, write_csv(tmp_path / "tuesday.csv", [shared, sample("other.jpg")]), tmp_path / "tue.jsonl"
        )
        == 0
    )
    (monday,) = read_report(tmp_path / "monday.jsonl")
    tuesday = by_row(read_report(tmp_path / "tue.jsonl"))
    assert tuesday[1]["status"] == "already-present" and tuesday[1]["key"] == monday["key"]
    assert tuesday[2]["status"] == "uploaded"
    assert len(versions(local, prefix=monday["key"])) == 1, "the shared sample is stored once"


def test_bad_credentials_exit_2_with_a_message_and_no_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def wrong_secret(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
        outputs["city_credentials"][CITY]["secret_access_key"] = "not-the-secret"

    with local_store(tamper=wrong_secret) as store:
        jpeg(tmp_path / "a.jpg")
        report = tmp_path / "r.jsonl"
        code = upload(store, tmp_path, write_csv(tmp_path / "m.csv", [sample("a.jpg")]), report)
    err = capsys.readouterr().err
    assert code == 2 and "refused the credentials" in err, err
    assert not report.exists() and not list(tmp_path.glob("*.partial")), "nothing half-written in the report"
    assert "not-the-secret" not in err, "a secret is never printed"


def test_unreachable_endpoint_exits_2_with_a_message_and_no_report(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jpeg(tmp_path / "a.jpg")
    report = tmp_path / "r.jsonl"
    manifest = write_csv(tmp_path / "m.csv", [sample("a.jpg")])
    code = upload_batch.main(
        [
            *("--outputs", str(local.outputs_file), "--endpoint-url", f"http://127.0.0.1:{free_port()}"),
            *("--city", CITY, "--images", str(tmp_path), "--manifest", str(manifest), "--report", str(report)),
            *("--quiet", "--max-attempts", "1", "--timeout", "2"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the store" in err, err
    assert not report.exists() and not list(tmp_path.glob("*.partial"))


NOT_MANIFESTS = {
    "m.csv": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x80\x81", "not UTF-8"),
    "m.tsv.csv": (b"name,size\nx.jpg,3\n", "lacks image, camera_id, event_id, label_status, captured_at"),
    "m.jsonl": (b"this is not json\n", "first line is not JSON"),
    "m.txt": (b"image\n", "unknown format '.txt'"),
}


@pytest.mark.parametrize("name", sorted(NOT_MANIFESTS))
def test_a_file_that_is_not_a_manifest_exits_2_before_any_upload(
    local: LocalStore, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    content, expected = NOT_MANIFESTS[name]
    (tmp_path / name).write_bytes(content)
    report = tmp_path / "r.jsonl"
    code = upload(local, tmp_path, tmp_path / name, report)
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and expected in err, err
    assert not report.exists() and not list(tmp_path.glob("*.partial"))


def test_failed_upload_is_reported_with_its_error_and_exits_1(
    local: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: upload_batch.Uploader, *args: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "PutObject")

    monkeypatch.setattr(upload_batch.Uploader, "put", refused)
    jpeg(tmp_path / "a.jpg")
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, write_csv(tmp_path / "m.csv", [sample("a.jpg")]), report) == 1
    (row,) = read_report(report)
    assert row["status"] == "failed" and row["error"] == "AccessDenied: denied" and row["key"]


def test_r2_store_gets_no_tags_and_large_files_go_multipart_create_only(tmp_path: Path) -> None:
    with local_store(tamper=as_r2) as store:
        jpeg(tmp_path / "big.jpg", size=300_000)
        jpeg(tmp_path / "small.jpg", size=1000)
        manifest = write_csv(tmp_path / "m.csv", [sample("big.jpg"), sample("small.jpg")])
        threshold = ("--multipart-threshold", "100000")
        assert upload(store, tmp_path, manifest, tmp_path / "r.jsonl", *threshold) == 0
        assert upload(store, tmp_path, manifest, tmp_path / "again.jsonl", *threshold) == 0
        first, again = by_row(read_report(tmp_path / "r.jsonl")), by_row(read_report(tmp_path / "again.jsonl"))
        s3 = operator_s3(store)
        big = s3.head_object(Bucket=store.outputs["bucket_name"], Key=first[1]["key"])
        assert big["ETag"].strip('"').endswith("-1"), "a file above the threshold is uploaded multipart on R2"
        assert first[1]["image_reference"].startswith("r2://"), "references use the backend's scheme"
        assert [again[1]["status"], again[2]["status"]] == ["already-present"] * 2, (
            "the multipart completion is create-only too: a rerun stores nothing new"
        )
        for row in first.values():
            tagging = s3.get_object_tagging(Bucket=store.outputs["bucket_name"], Key=row["key"])["TagSet"]
            assert tagging == [], f"{row['key']}: R2 has no tags, so the uploader sends none"
        assert not s3.list_multipart_uploads(Bucket=store.outputs["bucket_name"]).get("Uploads"), (
            "the refused completion's upload was aborted, not left billed"
        )


def test_aws_store_gets_one_put_per_image_and_refuses_images_above_the_single_put_limit(
    local: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The AWS bucket policy denies multipart (guards.deny_multipart_upload), so the uploader never
    tries it there: above the threshold an image is still one PUT, above 5 GiB it is invalid.
    The limit is lowered here so the test needs no 5 GiB file."""
    monkeypatch.setattr(contract, "MAX_SINGLE_PUT_BYTES", 200_000)
    jpeg(tmp_path / "medium.jpg", size=150_000)
    jpeg(tmp_path / "huge.jpg", size=300_000)
    manifest = write_csv(tmp_path / "m.csv", [sample("medium.jpg"), sample("huge.jpg")])
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, manifest, report, "--multipart-threshold", "100000") == 1, "one row is invalid"
    rows = by_row(read_report(report))
    medium = operator_s3(local).head_object(Bucket=local.outputs["bucket_name"], Key=rows[1]["key"])
    assert "-" not in medium["ETag"].strip('"'), "above the R2 multipart threshold an AWS upload is still one PUT"
    assert rows[2]["status"] == "invalid" and rows[2]["fields"] == ["image"], "above the single-PUT limit: invalid"
    assert "refuses multipart" in rows[2]["error"], f"the reason names the refused multipart: {rows[2]['error']}"
    assert not rows[2]["key"], "an invalid image is never uploaded"


def test_report_rows_are_json_with_every_field_the_command_centre_registers(local: LocalStore, tmp_path: Path) -> None:
    jpeg(tmp_path / "a.jpg")
    report = tmp_path / "r.jsonl"
    assert upload(local, tmp_path, write_csv(tmp_path / "m.csv", [sample("a.jpg")]), report) == 0
    (row,) = [json.loads(line) for line in report.read_text().splitlines()]
    for field in ("key", "image_reference", "status", "city_id", "camera_id", "event_id", "label_status"):
        assert row[field], f"report field {field} is what learning_samples registers"


def test_records_held_never_exceed_the_workers_whatever_the_batch_size() -> None:
    """Bounded memory: the batch is pulled lazily, one record per busy worker."""
    workers, size = 4, 200
    pulled = finished = most_held = 0
    lock = threading.Lock()

    def records() -> Iterator[Any]:
        nonlocal pulled, most_held
        for n in range(size):
            with lock:
                pulled += 1
                most_held = max(most_held, pulled - finished)
            yield n

    class Slow:
        stop = threading.Event()

        def process(self, record: Any) -> dict[str, Any]:
            nonlocal finished
            time.sleep(0.001)
            with lock:
                finished += 1
            return {"row": record, "status": "uploaded"}

    class Rows:
        def __init__(self) -> None:
            self.written: list[dict[str, Any]] = []

        def write(self, row: dict[str, Any]) -> None:
            self.written.append(row)

    report = Rows()
    upload_batch.run_batch(records(), Slow(), report, workers)  # type: ignore[arg-type]
    assert sorted(r["row"] for r in report.written) == list(range(size)), "every record ends in the report once"
    assert most_held <= workers, f"run_batch held {most_held} records at once with {workers} workers: memory unbounded"


def test_a_correction_of_a_stored_sample_is_stored_as_a_new_object(local: LocalStore, tmp_path: Path) -> None:
    """The same image, camera and event re-labelled `changed` is a new sample (the contract:
    corrections create new objects), not `already-present` under the old label."""
    jpeg(tmp_path / "a.jpg")
    first = sample("a.jpg", "correct")
    assert upload(local, tmp_path, write_csv(tmp_path / "m1.csv", [first]), tmp_path / "r1.jsonl") == 0
    corrected = {**first, "label_status": "changed"}
    assert upload(local, tmp_path, write_csv(tmp_path / "m2.csv", [corrected]), tmp_path / "r2.jsonl") == 0
    (before,), (after,) = read_report(tmp_path / "r1.jsonl"), read_report(tmp_path / "r2.jsonl")
    assert after["status"] == "uploaded" and after["key"] != before["key"], (before, after)
    head = operator_s3(local).head_object(Bucket=local.outputs["bucket_name"], Key=after["key"])
    assert head["Metadata"][contract.metadata_key(contract.LABEL_STATUS)] == "changed"


# --- through the R2 upload gateway ---------------------------------------------------------------


@pytest.fixture(scope="module")
def r2_gateway() -> Iterator[LocalStore]:
    """The r2 stack as shipped: its upload gateway (workerd) in front of the R2 stand-in."""
    with local_r2_store() as store:
        yield store


def test_a_city_batch_goes_through_the_r2_gateway_and_a_rerun_stores_nothing_new(
    r2_gateway: LocalStore, tmp_path: Path
) -> None:
    rows = [sample("a.jpg"), sample("b.jpg", "changed"), sample("c.jpg", "unsure")]
    manifest = write_batch(tmp_path, rows)
    assert upload(r2_gateway, tmp_path, manifest, tmp_path / "r.jsonl") == 0
    first = by_row(read_report(tmp_path / "r.jsonl"))
    assert [first[n]["status"] for n in (1, 2, 3)] == ["uploaded", "uploaded", "excluded-unsure"], first
    s3 = operator_s3(r2_gateway)
    stored = s3.head_object(Bucket=r2_gateway.outputs["bucket_name"], Key=first[1]["key"])
    assert stored["Metadata"][contract.metadata_key(contract.CITY_ID)] == CITY, "the gateway stores the city's fields"
    assert stored["ContentType"] == contract.OBJECT_CONTENT_TYPE
    assert upload(r2_gateway, tmp_path, manifest, tmp_path / "again.jsonl") == 0
    again = by_row(read_report(tmp_path / "again.jsonl"))
    assert [again[1]["status"], again[2]["status"]] == ["already-present"] * 2, "the gateway's 412 is already-present"


@pytest.mark.parametrize("stack", [name for name, row in BACKENDS.items() if row.gateway_only])
def test_a_city_batch_reaches_a_gateway_fronted_store_with_its_fields_and_a_rerun_stores_nothing_new(
    stack: str, tmp_path: Path
) -> None:
    """Spaces and B2: the uploader signs for the gateway (its region, not the store's) and the
    gateway writes through its S3 target; a second run finds every image already there (412)."""
    rows = [sample("a.jpg"), sample("b.jpg", "unsure")]
    manifest = write_batch(tmp_path, rows)
    with stand_in(stack).shipped_store() as store:
        assert upload(store, tmp_path, manifest, tmp_path / "r.jsonl") == 0
        first = by_row(read_report(tmp_path / "r.jsonl"))
        assert [first[1]["status"], first[2]["status"]] == ["uploaded", "excluded-unsure"], first
        stored = operator_s3(store).head_object(Bucket=store.outputs["bucket_name"], Key=first[1]["key"])
        assert stored["Metadata"][contract.metadata_key(contract.CITY_ID)] == CITY, f"{stack}: the city's fields"
        assert upload(store, tmp_path, manifest, tmp_path / "again.jsonl") == 0
        again = by_row(read_report(tmp_path / "again.jsonl"))
        assert again[1]["status"] == "already-present", f"{stack}: the gateway's 412 is already-present: {again}"


def test_a_city_key_of_the_r2_gateway_is_worth_nothing_at_the_store_itself(r2_gateway: LocalStore) -> None:
    """Cities hold no R2 credential: their gateway key does not open the bucket."""
    key = r2_gateway.outputs["city_credentials"][CITY]
    direct = client(
        r2_gateway.url, "s3", aws_access_key_id=key["access_key_id"], aws_secret_access_key=key["secret_access_key"]
    )
    with pytest.raises(ClientError) as refused:
        direct.list_objects_v2(Bucket=r2_gateway.outputs["bucket_name"])
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId", "a city must reach R2 only by the gateway"


def test_an_image_above_the_gateways_limit_is_invalid_and_never_sent(r2_gateway: LocalStore, tmp_path: Path) -> None:
    limit = r2_gateway.outputs["capabilities"]["upload_limit_bytes"]
    big = tmp_path / "big.jpg"
    with big.open("wb") as handle:  # sparse: the uploader judges the size before reading a byte
        handle.write(contract.JPEG_MAGIC)
        handle.truncate(limit + 1)
    manifest = write_csv(tmp_path / "m.csv", [sample("big.jpg")])
    assert upload(r2_gateway, tmp_path, manifest, tmp_path / "r.jsonl") == 1
    (row,) = read_report(tmp_path / "r.jsonl")
    assert row["status"] == "invalid" and "limit of this store's upload gateway" in row["error"], row


def test_a_city_without_the_outputs_uploads_through_the_r2_gateway_by_naming_it(
    r2_gateway: LocalStore, tmp_path: Path
) -> None:
    """A city machine with only its own key and the gateway's address, no stack outputs."""
    key = r2_gateway.outputs["city_credentials"][CITY]
    manifest = write_batch(tmp_path, [sample("a.jpg")])
    argv = [
        *("--backend", "r2", "--upload-gateway", "--endpoint-url", r2_gateway.outputs["city_endpoint_url"]),
        *("--bucket", r2_gateway.outputs["bucket_name"], "--city", CITY, "--credential-chain"),
        *("--images", str(tmp_path), "--manifest", str(manifest), "--report", str(tmp_path / "r.jsonl"), "--quiet"),
    ]
    env = {"AWS_ACCESS_KEY_ID": key["access_key_id"], "AWS_SECRET_ACCESS_KEY": key["secret_access_key"]}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert upload_batch.main(argv) == 0
    (row,) = read_report(tmp_path / "r.jsonl")
    assert row["status"] == "uploaded" and row["image_reference"].startswith("r2://"), row


def test_upload_gateway_without_r2_and_its_endpoint_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        upload_batch.main(["--upload-gateway", "--bucket", "b", "--region", "eu-west-1", "--city", "paris",
                           "--images", ".", "--manifest", "m.csv", "--report", "r.jsonl"])  # fmt: skip
    assert stopped.value.code == 2
    assert "--upload-gateway goes with --backend r2" in capsys.readouterr().err
