"""Requests to the upload gateway as a city sends them, and its TLS, for the gateway's tests
(tests/test_gateway.py, tests/test_gateway_s3_target.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import trustme
from botocore.config import Config
from botocore.exceptions import ClientError

from learning_images import contract
from learning_images.ops.clients import without_expect_continue
from learning_images.sandbox.gateway import CityKey

BUCKET = "learning-images-test"


def tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A certificate for 127.0.0.1 from a fresh authority: (certificate, key, authority)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(folder / "key.pem")
    cert.cert_chain_pems[0].write_to_path(folder / "cert.pem")
    ca.cert_pem.write_to_path(folder / "ca.pem")
    return folder / "cert.pem", folder / "key.pem", folder / "ca.pem"


def city_client(url: str, key: CityKey, ca: Path) -> Any:
    """A city's S3 client of the gateway, as the uploader makes it (one attempt: a refusal is seen)."""
    return without_expect_continue(
        boto3.client(
            "s3",
            endpoint_url=url,
            region_name="auto",
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_access_key,
            verify=str(ca),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
    )


def image(size: int = 2048) -> bytes:
    return contract.JPEG_MAGIC + b"\xe0" + os.urandom(size - 6) + b"\xff\xd9"


def fields(city: str = "paris", **overrides: str) -> dict[str, str]:
    base = {
        contract.CITY_ID: city,
        contract.CAMERA_ID: "cam-1",
        contract.EVENT_ID: f"evt-{uuid.uuid4().hex[:8]}",
        contract.LABEL_STATUS: contract.Label.CORRECT.value,
        contract.UPLOADED_AT: "2026-11-27T12:00:00Z",
    }
    return {contract.metadata_key(k): v for k, v in {**base, **overrides}.items()}


def new_key() -> str:
    return f"{uuid.uuid4()}.jpg"


def put(s3: Any, *, key: str | None = None, body: bytes | None = None, **overrides: Any) -> dict[str, Any]:
    """A compliant upload, as the uploader sends it, with ``overrides`` (None removes an argument)."""
    body = image() if body is None else body
    args: dict[str, Any] = {
        "Bucket": BUCKET,
        "Key": key or new_key(),
        "Body": body,
        "ContentType": contract.OBJECT_CONTENT_TYPE,
        "Metadata": fields(),
        "IfNoneMatch": "*",
        "ChecksumAlgorithm": "SHA256",
        "ChecksumSHA256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }
    args.update(overrides)
    response: dict[str, Any] = s3.put_object(**{k: v for k, v in args.items() if v is not None})
    return response


def refused(call: Callable[[], object]) -> tuple[int, str]:
    """(HTTP status, S3 error code) of a refused call; fails if it was accepted."""
    try:
        call()
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"], str(exc.response["Error"]["Code"])
    pytest.fail("the gateway accepted a request the contract refuses")
