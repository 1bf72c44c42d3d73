"""The R2 upload gateway, in the real Workers runtime (workerd through Miniflare), one rule per test.

The Worker is ``infra/learning_images_infra/r2/gateway/dist/worker.js``, the file the stack deploys, bound to the
``CONTRACT`` document the stack binds (``learning_images.gateway.worker_contract``) and to
Miniflare's local R2. Every request is a real boto3 client's, signed with a city's gateway key,
so what passes here is what the project's uploader and verifier send.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from learning_images import contract, gateway
from learning_images.ops.clients import without_expect_continue
from learning_images.sandbox.gateway import (
    GATEWAY,
    CityKey,
    GatewayFailedError,
    GatewayUnavailableError,
    LocalGateway,
    city_keys,
    local_gateway,
)
from tests.support.gateway import BUCKET, city_client, fields, image, new_key, put, refused, tls_files

#: Small, so the size rule is proven without sending 32 MiB.
MAX_BYTES = 64 * 1024
SECRET = secrets.token_hex(32)


@dataclass(frozen=True)
class Running:
    gateway: LocalGateway
    keys: dict[str, CityKey]
    ca: Path

    def s3(self, key: CityKey) -> Any:
        return city_client(self.gateway.url, key, self.ca)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    cert, key, ca = tls_files(tmp_path_factory.mktemp("gateway"))
    keys = city_keys(SECRET, ["paris", "rome"])
    try:
        with local_gateway(
            contract=gateway.worker_contract(BUCKET, max_object_bytes=MAX_BYTES),
            gateway_secret=SECRET,
            cities={key.access_key_id: key.city_id for key in keys.values()},
            tls_cert=cert,
            tls_key=key,
        ) as found:
            yield Running(found, keys, ca)
    except GatewayUnavailableError as exc:
        pytest.fail(f"the gateway cannot run in the Workers runtime here: {exc}")


def paris(running: Running) -> Any:
    return running.s3(running.keys["paris"])


# --- what a city may do ----------------------------------------------------------------------


def test_a_city_uploads_a_compliant_image_through_the_gateway(running: Running) -> None:
    key, body = new_key(), image()
    answer = put(paris(running), key=key, body=body)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200, f"{running.gateway.url}: compliant upload refused"
    stored = running.gateway.stored(key)
    assert stored is not None, f"{running.gateway.url}: {key} accepted but not in the bucket"
    assert stored["metadata"] == fields() | {contract.metadata_key(contract.EVENT_ID): stored["metadata"]["event-id"]}
    assert stored["content_type"] == contract.OBJECT_CONTENT_TYPE
    assert stored["sha256"] == hashlib.sha256(body).hexdigest(), "R2 must hold the checksum the gateway verified"
    assert stored["size"] == len(body)


def test_optional_contract_metadata_is_accepted(running: Running) -> None:
    body = image()
    extra = {
        contract.metadata_key(contract.CAPTURED_AT): "2026-11-26T08:00:00Z",
        contract.metadata_key(contract.QUALITY): "0.93",
        contract.metadata_key(contract.CONTENT_SHA256): hashlib.sha256(body).hexdigest(),
    }
    answer = put(paris(running), body=body, Metadata=fields() | extra)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


# --- the city tier is upload-only ---------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        "GetObject",
        "HeadObject",
        "ListObjectsV2",
        "DeleteObject",
        "DeleteObjects",
        "CopyObject",
        "CreateMultipartUpload",
        "PutObjectTagging",
        "PutObjectAcl",
        "GetBucketPolicy",
    ],
)
def test_city_tier_cannot_do_anything_but_upload(running: Running, operation: str) -> None:
    s3, key = paris(running), new_key()
    put(s3, key=key)
    calls: dict[str, Callable[[], object]] = {
        "GetObject": lambda: s3.get_object(Bucket=BUCKET, Key=key),
        "HeadObject": lambda: s3.head_object(Bucket=BUCKET, Key=key),
        "ListObjectsV2": lambda: s3.list_objects_v2(Bucket=BUCKET),
        "DeleteObject": lambda: s3.delete_object(Bucket=BUCKET, Key=key),
        "DeleteObjects": lambda: s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}]}),
        "CopyObject": lambda: s3.copy_object(Bucket=BUCKET, Key=new_key(), CopySource=f"{BUCKET}/{key}"),
        "CreateMultipartUpload": lambda: s3.create_multipart_upload(Bucket=BUCKET, Key=new_key()),
        "PutObjectTagging": lambda: s3.put_object_tagging(
            Bucket=BUCKET, Key=key, Tagging={"TagSet": [{"Key": "label_status", "Value": "changed"}]}
        ),
        "PutObjectAcl": lambda: s3.put_object_acl(Bucket=BUCKET, Key=key, ACL="public-read"),
        "GetBucketPolicy": lambda: s3.get_bucket_policy(Bucket=BUCKET),
    }
    status, _ = refused(calls[operation])
    assert status == 403, f"{running.gateway.url}: a city key must not {operation} (city tier is upload-only)"
    assert running.gateway.stored(key) is not None, f"{running.gateway.url}: {operation} changed {key}"


def test_another_bucket_does_not_exist_behind_the_gateway(running: Running) -> None:
    s3 = paris(running)
    assert refused(lambda: s3.put_object(Bucket="another-bucket", Key=new_key(), Body=image()))[1] == "NoSuchBucket"


# --- who uploads ----------------------------------------------------------------------------------


def test_a_city_cannot_upload_as_another_city(running: Running) -> None:
    status, code = refused(lambda: put(paris(running), Metadata=fields(city="rome")))
    assert (status, code) == (403, "AccessDenied"), f"{running.gateway.url}: paris's key uploaded as rome"


def test_each_city_uploads_as_itself(running: Running) -> None:
    rome = running.s3(running.keys["rome"])
    assert put(rome, Metadata=fields(city="rome"))["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_anonymous_uploads_are_refused(running: Running) -> None:
    anonymous = boto3.client(
        "s3",
        endpoint_url=running.gateway.url,
        region_name="auto",
        verify=str(running.ca),
        config=Config(signature_version=botocore_unsigned(), s3={"addressing_style": "path"}),
    )
    assert refused(lambda: put(anonymous))[0] == 403


def botocore_unsigned() -> Any:
    from botocore import UNSIGNED  # noqa: PLC0415

    return UNSIGNED


def test_an_unknown_access_key_is_refused(running: Running) -> None:
    stranger = CityKey("paris", gateway.access_key_id(secrets.token_hex(8)), "not-a-secret")
    assert refused(lambda: put(running.s3(stranger)))[1] == "InvalidAccessKeyId"


def test_a_key_signed_with_the_wrong_secret_is_refused(running: Running) -> None:
    real = running.keys["paris"]
    forged = CityKey("paris", real.access_key_id, gateway.city_secret("another-gateway-secret", real.access_key_id))
    assert refused(lambda: put(running.s3(forged)))[1] == "SignatureDoesNotMatch"


def test_a_signed_header_changed_in_transit_is_refused(running: Running) -> None:
    s3 = paris(running)

    def retarget(request: Any, **_: Any) -> None:
        request.headers["x-amz-meta-city-id"] = "rome"

    s3.meta.events.register_first("before-send.s3.PutObject", retarget)
    assert refused(lambda: put(s3, Metadata=fields(city="paris")))[1] == "SignatureDoesNotMatch"


def test_an_unsigned_header_is_refused(running: Running) -> None:
    s3 = paris(running)

    def smuggle(request: Any, **_: Any) -> None:
        request.headers["x-amz-meta-quality"] = "1.0"

    s3.meta.events.register_first("before-send.s3.PutObject", smuggle)
    assert refused(lambda: put(s3)) == (403, "AccessDenied")


def test_a_city_onboarded_while_the_gateway_runs_can_upload_at_once(running: Running) -> None:
    (berlin,) = city_keys(SECRET, ["berlin"]).values()
    running.gateway.onboard(berlin)
    answer = put(running.s3(berlin), Metadata=fields(city="berlin"))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200, "onboarding is a KV entry, with no redeploy"


def test_a_revoked_city_key_is_refused_without_redeploying(running: Running) -> None:
    (vienna,) = city_keys(SECRET, ["vienna"]).values()
    running.gateway.onboard(vienna)
    put(running.s3(vienna), Metadata=fields(city="vienna"))
    running.gateway.revoke(vienna.access_key_id)
    assert refused(lambda: put(running.s3(vienna), Metadata=fields(city="vienna")))[1] == "InvalidAccessKeyId"


def test_plain_http_requests_are_refused(running: Running) -> None:
    status, body = running.gateway.over_plain_http("PUT", f"{BUCKET}/{new_key()}", {"content-type": "image/jpeg"})
    assert status == 403 and "HTTPS" in body, f"{running.gateway.url}: a plain-HTTP upload got {status}: {body}"


# --- what an upload must be -----------------------------------------------------------------------


@pytest.mark.parametrize("field", contract.METADATA_FIELDS)
def test_an_upload_missing_a_required_metadata_field_is_refused(running: Running, field: str) -> None:
    metadata = fields()
    del metadata[contract.metadata_key(field)]
    assert refused(lambda: put(paris(running), Metadata=metadata)) == (403, "AccessDenied"), field


@pytest.mark.parametrize("field", contract.METADATA_FIELDS)
def test_an_upload_with_a_blank_required_metadata_field_is_refused(running: Running, field: str) -> None:
    metadata = fields() | {contract.metadata_key(field): " "}
    assert refused(lambda: put(paris(running), Metadata=metadata)) == (403, "AccessDenied"), field


def test_metadata_outside_the_contract_is_refused(running: Running) -> None:
    metadata = fields() | {"licence-plate": "AB-123-CD"}
    assert refused(lambda: put(paris(running), Metadata=metadata)) == (403, "AccessDenied")


@pytest.mark.parametrize("label", ["unsure", "Correct", "CHANGED", "deleted"])
def test_only_correct_and_changed_labels_are_uploaded(running: Running, label: str) -> None:
    metadata = fields(label_status=label)
    assert refused(lambda: put(paris(running), Metadata=metadata)) == (403, "AccessDenied"), label


def test_a_changed_label_is_uploaded(running: Running) -> None:
    answer = put(paris(running), Metadata=fields(label_status=contract.Label.CHANGED.value))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize(
    "key",
    [
        "paris/0f8a2c34-5b6d-4e7f-8a9b-0c1d2e3f4a5b.jpg",  # a city folder
        "0F8A2C34-5B6D-4E7F-8A9B-0C1D2E3F4A5B.jpg",  # uppercase hex: IAM cannot refuse it, the gateway does
        "0f8a2c34-5b6d-4e7f-8a9b-0c1d2e3f4a5b.png",
        "0f8a2c34-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
        "image-0001.jpg",
    ],
)
def test_keys_other_than_a_lowercase_uuid_jpg_at_the_top_level_are_refused(running: Running, key: str) -> None:
    assert refused(lambda: put(paris(running), key=key)) == (403, "AccessDenied"), key
    assert running.gateway.stored(key) is None


def test_an_upload_without_if_none_match_is_refused(running: Running) -> None:
    assert refused(lambda: put(paris(running), IfNoneMatch=None)) == (403, "AccessDenied")


def test_an_upload_conditional_on_an_etag_is_refused(running: Running) -> None:
    assert refused(lambda: put(paris(running), IfNoneMatch='"0123"')) == (403, "AccessDenied")


def test_a_stored_object_is_never_overwritten(running: Running) -> None:
    s3, key, first = paris(running), new_key(), image()
    put(s3, key=key, body=first)
    assert refused(lambda: put(s3, key=key)) == (412, "PreconditionFailed")
    stored = running.gateway.stored(key)
    assert stored is not None and stored["sha256"] == hashlib.sha256(first).hexdigest(), f"{key} was overwritten"


def test_only_image_jpeg_is_accepted_as_content_type(running: Running) -> None:
    assert refused(lambda: put(paris(running), ContentType="image/png")) == (403, "AccessDenied")


def test_a_body_that_is_not_a_jpeg_is_refused(running: Running) -> None:
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(1024)
    assert refused(lambda: put(paris(running), body=png)) == (403, "AccessDenied")


def test_images_above_the_size_limit_are_refused(running: Running) -> None:
    status, code = refused(lambda: put(paris(running), body=image(MAX_BYTES + 1)))
    assert (status, code) == (400, "EntityTooLarge"), f"{running.gateway.url}: limit {MAX_BYTES} bytes not held"


def test_a_refused_upload_gets_its_s3_error_however_much_it_sends(running: Running) -> None:
    """Refused before its body is read, an upload still gets S3's answer, not a reset connection."""
    status, code = refused(lambda: put(paris(running), body=image(16 * 1024 * 1024)))
    assert (status, code) == (400, "EntityTooLarge"), f"{running.gateway.url}: a large refused upload got {code}"


def test_an_image_at_the_size_limit_is_accepted(running: Running) -> None:
    assert put(paris(running), body=image(MAX_BYTES))["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_an_upload_without_a_sha256_checksum_is_refused(running: Running) -> None:
    # botocore then sends its default CRC32 instead: refused as a header the gateway does not take.
    key = new_key()
    status, _ = refused(lambda: put(paris(running), key=key, ChecksumAlgorithm=None, ChecksumSHA256=None))
    assert status in (400, 403), "the gateway verifies every image: the SHA-256 checksum is required"
    assert running.gateway.stored(key) is None


def test_a_checksum_that_does_not_match_the_image_is_refused(running: Running) -> None:
    wrong = base64.b64encode(hashlib.sha256(b"another image").digest()).decode()
    key = new_key()
    assert refused(lambda: put(paris(running), key=key, ChecksumSHA256=wrong))[1] == "BadDigest"
    assert running.gateway.stored(key) is None


def test_a_declared_content_sha256_that_does_not_match_the_image_is_refused(running: Running) -> None:
    metadata = fields() | {contract.metadata_key(contract.CONTENT_SHA256): hashlib.sha256(b"other").hexdigest()}
    assert refused(lambda: put(paris(running), Metadata=metadata))[1] == "BadDigest"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("ACL", "public-read"),
        ("Tagging", "label_status=changed"),
        ("ObjectLockMode", "COMPLIANCE"),
        ("ServerSideEncryption", "AES256"),
        ("StorageClass", "STANDARD_IA"),
    ],
)
def test_uploads_that_set_acls_tags_locks_or_storage_settings_are_refused(
    running: Running, header: str, value: str
) -> None:
    extra: dict[str, Any] = {header: value}
    if header == "ObjectLockMode":
        from datetime import UTC, datetime  # noqa: PLC0415

        extra["ObjectLockRetainUntilDate"] = datetime(2099, 1, 1, tzinfo=UTC)
    assert refused(lambda: put(paris(running), **extra)) == (403, "AccessDenied"), header


# --- the deployable artefact -----------------------------------------------------------------------


def test_the_deployed_worker_is_the_build_of_its_source(tmp_path: Path) -> None:
    """``dist/worker.js`` is what the stack uploads; it must be exactly what ``npm run build`` makes."""
    import subprocess  # noqa: PLC0415

    esbuild = GATEWAY / "node_modules" / ".bin" / "esbuild"
    out = tmp_path / "worker.js"
    argv = [str(esbuild), *build_arguments(), f"--outfile={out}"]
    subprocess.run(argv, cwd=GATEWAY, check=True, capture_output=True)  # noqa: S603 (fixed argv)
    assert out.read_text() == (GATEWAY / "dist" / "worker.js").read_text(), (
        "infra/learning_images_infra/r2/gateway/dist/worker.js is stale: run "
        "`npm run build --prefix infra/learning_images_infra/r2/gateway` and commit it"
    )


def build_arguments() -> list[str]:
    """``npm run build``'s esbuild arguments, read from package.json (one definition)."""
    import json  # noqa: PLC0415
    import shlex  # noqa: PLC0415

    command = json.loads((GATEWAY / "package.json").read_text())["scripts"]["build"]
    words = shlex.split(command)
    assert words[0] == "esbuild"
    return [word for word in words[1:] if not word.startswith("--outfile=")]


# --- hostile requests: what no client of ours sends ------------------------------------------------


def raw_request(running: Running, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, str]:
    """(status, S3 error code) of a request sent as given, bypassing botocore."""
    import http.client  # noqa: PLC0415
    import re  # noqa: PLC0415
    import ssl  # noqa: PLC0415
    import urllib.parse  # noqa: PLC0415

    where = urllib.parse.urlsplit(running.gateway.url)
    connection = http.client.HTTPSConnection(
        where.hostname or "127.0.0.1",
        where.port,
        context=ssl.create_default_context(cafile=str(running.ca)),
        timeout=10,
    )
    try:
        # On the wire as UTF-8, as the Workers runtime reads header bytes (http.client sends latin-1).
        wire = {name: value.encode().decode("latin-1") for name, value in headers.items()}
        connection.request("PUT", path, body=body, headers=wire)
        answer = connection.getresponse()
        found = re.search(r"<Code>([^<]+)</Code>", answer.read().decode(errors="replace"))
        return answer.status, found[1] if found else ""
    finally:
        connection.close()


def signed(running: Running, path: str, headers: dict[str, str], body: bytes, region: str = "auto") -> dict[str, str]:
    """``headers`` with a valid SigV4 signature of paris's key over ``path`` taken as it is."""
    import re  # noqa: PLC0415

    from botocore.auth import S3SigV4Auth  # noqa: PLC0415
    from botocore.awsrequest import AWSRequest  # noqa: PLC0415
    from botocore.credentials import Credentials  # noqa: PLC0415

    class AsTheWorkerCanonicalises(S3SigV4Auth):  # type: ignore[misc]  # botocore is untyped
        # JavaScript's trim() and \s (what the Worker's signer uses), not Python's split(), which
        # also strips U+001C to U+001F and U+0085: an attacker signs as the verifier computes.
        def _header_value(self, value: str) -> str:
            return re.sub(r"[ \t\n\v\f\r\u00a0\ufeff]+", " ", value.strip(" \t\n\v\f\r\u00a0\ufeff"))

    key = running.keys["paris"]
    request = AWSRequest("PUT", running.gateway.url + path, data=body, headers=dict(headers))
    request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    AsTheWorkerCanonicalises(Credentials(key.access_key_id, key.secret_access_key), "s3", region).add_auth(request)
    return {k: str(v) for k, v in request.headers.items()}


@pytest.mark.parametrize("value", ["\x1c", "\x1f", "\x85", "cam\x07-1"])
@pytest.mark.parametrize("field", [contract.CAMERA_ID, contract.EVENT_ID, contract.UPLOADED_AT])
def test_metadata_holding_control_characters_is_refused(running: Running, field: str, value: str) -> None:
    """Blank to Python's strip() but not to JavaScript's trim(): they were accepted and stored.
    Sent raw and signed, since botocore refuses to send such a value (an attacker is no botocore)."""

    def upload(metadata: dict[str, str]) -> tuple[str, tuple[int, str]]:
        key, body = new_key(), image()
        path = f"/{BUCKET}/{key}"
        headers = {
            "content-type": contract.OBJECT_CONTENT_TYPE,
            "if-none-match": "*",
            "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
            **{f"x-amz-meta-{name}": text for name, text in metadata.items()},
        }
        return key, raw_request(running, path, signed(running, path, headers, body), body)

    assert upload(fields())[1][0] == 200, "a compliant upload signed this way is accepted (else this proves nothing)"
    key, answer = upload(fields(**{field: value}))
    assert answer == (403, "AccessDenied"), (
        f"{running.gateway.url}: {field}={value!r} must be refused by the contract, not by a signature: {answer}"
    )
    assert running.gateway.stored(key) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [(contract.UPLOADED_AT, "yesterday"), (contract.UPLOADED_AT, "20261127"), (contract.EVENT_ID, "evt  1")],
)
def test_metadata_outside_the_contracts_form_is_refused(running: Running, field: str, value: str) -> None:
    status, _ = refused(lambda: put(paris(running), Metadata=fields(**{field: value})))
    assert status == 403, f"{running.gateway.url}: {field}={value!r} is not of the contract's form"


def test_a_metadata_value_sent_otherwise_than_signed_is_neither_judged_nor_stored(running: Running) -> None:
    """Signed as `cam-1`, sent as `cam-1    `: SigV4 signs the trimmed value, so the signature held
    and the gateway stored what was not signed."""
    s3, key = paris(running), new_key()

    def pad(request: Any, **_: Any) -> None:
        request.headers["x-amz-meta-camera-id"] = "cam-1    "

    s3.meta.events.register("before-send.s3.PutObject", pad)
    status, _ = refused(lambda: put(s3, key=key))
    assert status == 403, f"{running.gateway.url}: a padded value must be refused, not stored"
    assert running.gateway.stored(key) is None


@pytest.mark.parametrize("key_id", ["", "A" * 600, "LIGW" + "0" * 15])
def test_an_access_key_id_no_key_can_have_is_refused_as_s3_refuses_it(running: Running, key_id: str) -> None:
    """An empty or 600-character key id made the KV lookup throw: 500, which botocore retries."""
    headers = {
        "authorization": f"AWS4-HMAC-SHA256 Credential={key_id}/20261127/auto/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64,
        "x-amz-date": "20261127T120000Z",
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    }
    status, code = raw_request(running, f"/{BUCKET}/{new_key()}", headers)
    assert (status, code) == (403, "InvalidAccessKeyId"), f"{running.gateway.url}: key id {key_id[:20]!r}"


@pytest.mark.parametrize("region", ["us-east-1", "nowhere-9"])
def test_a_request_signed_for_another_region_is_malformed(running: Running, region: str) -> None:
    key = running.keys["paris"]
    s3 = without_expect_continue(
        boto3.client(
            "s3",
            endpoint_url=running.gateway.url,
            region_name=region,
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_access_key,
            verify=str(running.ca),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
    )
    assert refused(lambda: put(s3)) == (400, "AuthorizationHeaderMalformed")


def test_a_signed_key_with_malformed_percent_escapes_is_a_client_error(running: Running) -> None:
    body = image()
    path = f"/{BUCKET}/%E0%A4%A.jpg"
    headers = signed(running, path, {"content-type": contract.OBJECT_CONTENT_TYPE, "if-none-match": "*"}, body)
    status, code = raw_request(running, path, headers, body)
    assert 400 <= status < 500, f"{running.gateway.url}: {path} answered {status} {code}: botocore retries a 5xx"


def test_metadata_above_the_limit_is_a_client_error(running: Running) -> None:
    """About 2 KiB of metadata made R2's put throw: 500, which botocore retries."""
    status, _ = refused(lambda: put(paris(running), Metadata=fields(camera_id="c" * 3000)))
    assert 400 <= status < 500, f"{running.gateway.url}: oversized metadata answered {status}"


def test_a_control_request_that_fails_is_answered_and_the_gateway_keeps_serving(running: Running) -> None:
    """R2 refuses a key over 1,024 bytes: the local gateway's control server answers the failure
    instead of ending the process (and every later test of the session with it)."""
    with pytest.raises(GatewayFailedError, match=r"control GET /objects/x+: 500"):
        running.gateway.stored("x" * 2000)
    assert running.gateway.process.poll() is None, "local gateway: a failed control request ended the runner"
    s3, key = paris(running), new_key()
    put(s3, key=key)
    assert running.gateway.stored(key), f"local gateway: {key} not stored after a failed control request"


def test_a_gateway_that_has_exited_is_named_with_its_exit_code_and_log(tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    log.write_text("workerd: the reason it died\n")
    process = subprocess.Popen(["true"])  # noqa: S607 (a process that has exited, nothing more)
    process.wait()
    dead = LocalGateway("https://127.0.0.1:9", "http://127.0.0.1:9/", process, log)  # type: ignore[arg-type]
    with pytest.raises(GatewayFailedError, match=r"(?s)exited \(0\).*the reason it died"):
        dead.stored(new_key())
