"""Helpers for the operational scripts' tests: images, manifests, runs, and the operator's view."""

from __future__ import annotations

import csv
import functools
import json
import os
import uuid
from pathlib import Path
from typing import Any

from learning_images.ops import upload_batch
from learning_images.sandbox.render import render, stack_config
from learning_images.sandbox.sandbox import LocalStore, client

CITY = "sandbox-city"
COLUMNS = ["image", "camera_id", "event_id", "label_status", "captured_at", "quality"]


def jpeg(path: Path, size: int = 2048) -> Path:
    """Bytes that start like a JPEG; unique content, so each sample gets its own key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(max(0, size - 6)) + b"\xff\xd9")
    return path


def sample(image: str, label: str = "correct", **fields: Any) -> dict[str, Any]:
    return {
        "image": image,
        "camera_id": f"cam-{uuid.uuid4().hex[:8]}",
        "event_id": f"evt-{uuid.uuid4().hex[:8]}",
        "label_status": label,
        "captured_at": "2026-11-23T17:04:05Z",
        "quality": 0.9,
        **fields,
    }


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def upload(store: LocalStore, folder: Path, manifest: Path, report: Path, *extra: str) -> int:
    return upload_batch.main(
        [
            "--outputs",
            str(store.outputs_file),
            "--endpoint-url",
            store.url,
            "--city",
            CITY,
            "--images",
            str(folder),
            "--manifest",
            str(manifest),
            "--report",
            str(report),
            "--quiet",
            *extra,
        ]
    )


def read_report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_row(report: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["row"]: r for r in report}


def operator_s3(store: LocalStore, **overrides: Any) -> Any:
    return client(store.url, "s3", **store.operator)


def versions(store: LocalStore, bucket: str | None = None, prefix: str = "") -> list[dict[str, Any]]:
    """Every version and delete marker in a bucket (the primary unless named)."""
    s3 = operator_s3(store)
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket or store.outputs["bucket_name"], Prefix=prefix
    ):
        found += page.get("Versions", []) + page.get("DeleteMarkers", [])
    return found


@functools.cache
def _rendered_r2_outputs() -> str:
    return json.dumps(render(stack_config("r2"), stack="r2").outputs)


def as_r2(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
    """A ``local_store`` tamper hook: the real rendered ``r2`` stack's outputs drive the clients.

    Only what a local stand-in must supply is replaced: the bucket (moto's), the endpoint and
    the credentials. IAM users stand in for the R2 tokens: the Command Centre's and training's
    get their role's policies; the city's (an "Object Read & Write" token) may also abort its
    multipart uploads. Everything else (backend, capabilities, lifecycle, lock days) is what
    the R2 program exports.
    """
    real = json.loads(_rendered_r2_outputs())
    iam = client(url, "iam", **operator)
    for tier in ("command-centre", "training"):
        (role,) = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{tier}-role")]
        iam.create_user(UserName=f"{tier}-token")
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            text = document if isinstance(document, str) else json.dumps(document)
            iam.put_user_policy(UserName=f"{tier}-token", PolicyName=name, PolicyDocument=text)
        key = iam.create_access_key(UserName=f"{tier}-token")["AccessKey"]
        real[f"{tier.replace('-', '_')}_credentials"] = {
            "city_id": tier,
            "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"],
        }
    (group,) = [g["GroupName"] for g in iam.list_groups()["Groups"] if g["GroupName"].startswith("city")]
    abort = {"Effect": "Allow", "Action": "s3:AbortMultipartUpload", "Resource": "*"}
    iam.put_group_policy(
        GroupName=group,
        PolicyName="r2-token-abort",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [abort]}),
    )
    real.update(
        bucket_name=outputs["bucket_name"],
        endpoint_url=url,
        # The endpoint is the local emulator, not R2: the verifier must know what it is talking to.
        emulator=True,
        city_credentials=outputs["city_credentials"],
        probe_credentials=outputs["probe_credentials"],
    )
    outputs.clear()
    outputs.update(real)
