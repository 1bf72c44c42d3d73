"""The upload gateway in front of another backend's S3-compatible bucket, in the Workers runtime.

The Worker is the deployed one (``dist/worker.js``) with S3_* bindings instead of an R2 binding:
it signs its writes with the credential only it holds (``src/s3-bucket.js``) into a local S3
(moto, in this process). A city holds only its gateway key, and every rule of the gateway holds
unchanged; create-only rests on the store's conditional write, which moto honours as S3 does.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from learning_images import contract, gateway
from learning_images.sandbox.gateway import (
    CityKey,
    GatewayUnavailableError,
    LocalGateway,
    city_keys,
    local_gateway,
    s3_bucket,
)
from tests.support.gateway import BUCKET, city_client, fields, image, new_key, put, refused, tls_files
from tests.support.ops import free_port

SECRET = secrets.token_hex(32)
REGION = "us-east-1"
#: The credential the gateway holds (the Command Centre's, at the store); cities never see it.
STORE_KEY = {"access_key_id": "gateway-writer", "secret_access_key": secrets.token_hex(20)}


@dataclass(frozen=True)
class Running:
    gateway: LocalGateway
    keys: dict[str, CityKey]
    ca: Path
    store: Any  # boto3 S3 client of the bucket behind the gateway

    def city(self, name: str) -> Any:
        return city_client(self.gateway.url, self.keys[name], self.ca)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    store = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=STORE_KEY["access_key_id"],
        aws_secret_access_key=STORE_KEY["secret_access_key"],
    )
    store.create_bucket(Bucket=BUCKET)
    cert, key, ca = tls_files(tmp_path_factory.mktemp("gateway-s3"))
    keys = city_keys(SECRET, ["paris", "rome"])
    try:
        with local_gateway(
            contract=gateway.worker_contract(BUCKET, max_object_bytes=64 * 1024),
            gateway_secret=SECRET,
            cities={k.access_key_id: k.city_id for k in keys.values()},
            tls_cert=cert,
            tls_key=key,
            bucket=s3_bucket(endpoint, REGION, BUCKET, deployed=True, **STORE_KEY),
        ) as found:
            yield Running(found, keys, ca, store)
    except GatewayUnavailableError as exc:
        pytest.fail(f"the gateway cannot run in the Workers runtime here: {exc}")
    finally:
        server.stop()


def test_a_compliant_upload_lands_in_the_s3_compatible_bucket_with_its_metadata(running: Running) -> None:
    key, body = new_key(), image()
    sent = fields()
    assert put(running.city("paris"), key=key, body=body, Metadata=sent)["ResponseMetadata"]["HTTPStatusCode"] == 200
    stored = running.store.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == body, f"{BUCKET}/{key}: the gateway stored the image byte for byte"
    assert stored["Metadata"] == sent, f"{BUCKET}/{key}: city identity and labels are the object's metadata"
    # The gateway verified the SHA-256 before writing and sends it on (x-amz-checksum-sha256);
    # moto does not keep a checksum sent without the SDK's algorithm header, so it is not read back.
    assert stored["ContentType"] == contract.OBJECT_CONTENT_TYPE


def test_a_key_already_stored_is_refused_and_the_object_stays_as_it_was(running: Running) -> None:
    key, first = new_key(), image()
    put(running.city("paris"), key=key, body=first)
    status, code = refused(lambda: put(running.city("rome"), key=key, Metadata=fields("rome")))
    assert (status, code) == (412, "PreconditionFailed"), f"{BUCKET}/{key}: objects are immutable (create-only)"
    assert running.store.get_object(Bucket=BUCKET, Key=key)["Body"].read() == first, f"{BUCKET}/{key}: unchanged"


@pytest.mark.parametrize(
    ("rule", "overrides"),
    [
        ("unsure is never uploaded", {"Metadata": fields(label_status=contract.Label.UNSURE.value)}),
        ("a city uploads only as itself", {"Metadata": fields("rome")}),
        ("uploads are create-only", {"IfNoneMatch": None}),
    ],
)
def test_an_upload_breaking_a_rule_is_refused_and_nothing_reaches_the_bucket(
    running: Running, rule: str, overrides: dict[str, Any]
) -> None:
    key = new_key()
    status, _ = refused(lambda: put(running.city("paris"), key=key, **overrides))
    assert status in (400, 403), f"{BUCKET}/{key}: {rule}"
    listed = running.store.list_objects_v2(Bucket=BUCKET, Prefix=key)
    assert listed.get("KeyCount", 0) == 0, f"{BUCKET}/{key}: {rule}, and nothing was written"


def test_a_city_reads_nothing_through_the_gateway(running: Running) -> None:
    key = new_key()
    put(running.city("paris"), key=key)
    status, _ = refused(lambda: running.city("paris").get_object(Bucket=BUCKET, Key=key))
    assert status == 403, f"{running.gateway.url}: the city tier is upload-only in front of any bucket"
