"""Read the newest S3 Inventory report of the learning bucket (declared by
``learning_images_infra.aws.inventory``).

S3 writes ``<prefix><YYYY-MM-DDTHH-MMZ>/manifest.json`` once a day; the manifest names the
gzipped CSV files and their column order (``fileSchema``). Keys in the CSV are URL-encoded.
The inventory is up to a day old: erasure re-lists each matched key before deleting, so a
version written since is not missed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

MANIFEST = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z/manifest\.json$")


class InventoryError(Exception):
    """No usable inventory: the message says where it looked."""


@dataclass(frozen=True)
class InventoryEntry:
    key: str
    version_id: str | None
    is_delete_marker: bool
    last_modified: str | None


def latest_manifest_key(s3: Any, bucket: str, prefix: str) -> str:
    # The prefix holds a few hundred keys at most: the log bucket's lifecycle expires old reports.
    manifests: list[str] = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
        if MANIFEST.match(o["Key"][len(prefix) :])
    ]
    if not manifests:
        raise InventoryError(
            f"no inventory under s3://{bucket}/{prefix} yet (S3 delivers the first one within 48 hours of "
            "the stack's deployment); run without --inventory to list the bucket instead"
        )
    # The dated folder names (YYYY-MM-DDTHH-MMZ) sort chronologically.
    return max(manifests)


def read_inventory(s3: Any, bucket: str, prefix: str) -> Iterator[InventoryEntry]:
    """Every row of the newest inventory, streamed file by file."""
    manifest_key = latest_manifest_key(s3, bucket, prefix)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    if manifest.get("fileFormat") != "CSV":
        raise InventoryError(f"s3://{bucket}/{manifest_key}: format {manifest.get('fileFormat')}, expected CSV")
    columns = [c.strip() for c in manifest["fileSchema"].split(",")]
    for file in manifest["files"]:
        body = s3.get_object(Bucket=bucket, Key=file["key"])["Body"]
        with gzip.GzipFile(fileobj=body) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            for values in csv.reader(text):
                row = dict(zip(columns, values, strict=False))
                yield InventoryEntry(
                    key=unquote_plus(row["Key"]),
                    version_id=row.get("VersionId") or None,
                    is_delete_marker=row.get("IsDeleteMarker", "false").lower() == "true",
                    last_modified=row.get("LastModifiedDate"),
                )
