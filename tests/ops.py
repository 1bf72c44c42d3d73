"""Helpers for the operational scripts' tests: images, manifests, runs, and the operator's view."""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.r2 import access as r2_access
from learning_images import contract
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


def write_batch(folder: Path, rows: list[dict[str, Any]], manifest: str = "m.csv", *, size: int = 2048) -> Path:
    """A city's batch in ``folder``: an image of ``size`` bytes for each row, and the manifest."""
    for row in rows:
        jpeg(folder / row["image"], size=size)
    return write_csv(folder / manifest, rows)


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


def command_centre_s3(store: LocalStore) -> Any:
    """The Command Centre tier (the role, assumed by the operator): the one that may delete."""
    sts = client(store.url, "sts", **store.operator)
    found = sts.assume_role(RoleArn=store.outputs["command_centre_role_arn"], RoleSessionName="test")["Credentials"]
    return client(
        store.url,
        "s3",
        aws_access_key_id=found["AccessKeyId"],
        aws_secret_access_key=found["SecretAccessKey"],
        aws_session_token=found["SessionToken"],
    )


@contextlib.contextmanager
def without_guards(store: LocalStore) -> Iterator[Any]:
    """The operator's S3 client with the bucket policy lifted for the block, then restored:
    for objects the guards would refuse (written before the guards, or by a bypass), which
    retention and erasure must still handle."""
    s3 = operator_s3(store)
    bucket = store.outputs["bucket_name"]
    try:
        policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucketPolicy":  # an R2 stand-in has none
            raise
        yield s3
        return
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        yield s3
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)


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


#: What an R2 bucket-scoped token's permission groups allow, as the S3 actions of the stand-in
#: (R2 docs, "API tokens": Object Read reads and lists, Object Read & Write also writes and deletes).
R2_GROUP_ACTIONS = {
    r2_access.ITEM_READ: ["s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
    r2_access.ITEM_WRITE: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
}


def r2_token_policy(tier: contract.Tier, bucket: str) -> str:
    """The stand-in IAM policy of an R2 token of ``tier`` (the R2 program's own permission groups)."""
    actions = [a for group in r2_access.permission_groups(tier) for a in R2_GROUP_ACTIONS[group]]
    statement = {
        "Effect": "Allow",
        "Action": actions,
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def as_r2(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
    """A ``local_store`` tamper hook: the real rendered ``r2`` stack's outputs drive the clients.

    Only what a local stand-in must supply is replaced: the bucket (moto's), the endpoint and
    the credentials. IAM users stand in for the R2 tokens, with what each token's permission
    groups allow and nothing conditional (R2 tokens have no conditions); the bucket carries no
    bucket policy (R2 has none). Everything else (backend, capabilities, lifecycle, lock days)
    is what the R2 program exports.
    """
    real = json.loads(_rendered_r2_outputs())
    bucket = outputs["bucket_name"]
    iam = client(url, "iam", **operator)
    for tier in (contract.COMMAND_CENTRE, contract.TRAINING):
        user = f"{tier.name}-token"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="r2-token", PolicyDocument=r2_token_policy(tier, bucket))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        real[f"{tier.name.replace('-', '_')}_credentials"] = {
            "city_id": tier.name,
            "access_key_id": key["AccessKeyId"],
            "secret_access_key": key["SecretAccessKey"],
        }
    s3 = client(url, "s3", **operator)
    s3.delete_bucket_policy(Bucket=bucket)
    # R2 encrypts with keys Cloudflare manages: no customer key for a token to be granted.
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    (group,) = [g["GroupName"] for g in iam.list_groups()["Groups"] if g["GroupName"].startswith("city")]
    for name in iam.list_group_policies(GroupName=group)["PolicyNames"]:
        iam.delete_group_policy(GroupName=group, PolicyName=name)
    iam.put_group_policy(GroupName=group, PolicyName="r2-token", PolicyDocument=r2_token_policy(contract.CITY, bucket))
    real.update(
        bucket_name=bucket,
        endpoint_url=url,
        # The endpoint is the local emulator, not R2: the verifier must know what it is talking to.
        emulator=True,
        city_credentials=outputs["city_credentials"],
        probe_credentials=outputs["probe_credentials"],
    )
    outputs.clear()
    outputs.update(real)


def free_port() -> int:
    """A loopback port nothing listens on (a refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
