"""The enforcing sandbox itself: a real boto3 client's violations get S3's 403, compliant requests
succeed, a sandbox stays up for a city team, and the Pulumi-engine path falls back cleanly."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import stat
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.httpsession
import pytest
from botocore.exceptions import ClientError

from learning_images import contract
from learning_images.sandbox import sandbox
from learning_images.sandbox.local import REGION, LocalStore, local_store
from tests.support.ops import CITY

KEY = "0f8fad5b-d9cb-469f-a165-70867728950e.jpg"
JPEG = b"\xff\xd8\xff\xe0sandbox\xff\xd9"


@pytest.fixture(scope="module")
def store() -> Iterator[LocalStore]:
    with local_store() as found:
        yield found


def city_s3(store: LocalStore, *, url: str | None = None) -> Any:
    found = store.outputs["city_credentials"][CITY]
    return boto3.client(
        "s3",
        endpoint_url=url or store.url,
        region_name=REGION,
        aws_access_key_id=found["access_key_id"],
        aws_secret_access_key=found["secret_access_key"],
        config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def tags(**overrides: str) -> str:
    fields = {
        contract.CITY_ID: CITY,
        contract.CAMERA_ID: "cam-1",
        contract.EVENT_ID: "evt-1",
        contract.LABEL_STATUS: "correct",
        contract.UPLOADED_AT: "2026-11-25T00:00:00Z",
    }
    return "&".join(f"{k}={v}" for k, v in {**fields, **overrides}.items())


def put(**changes: Any) -> Callable[[Any, str], object]:
    def call(s3: Any, bucket: str) -> object:
        args = {"Bucket": bucket, "Key": changes.pop("Key", None) or f"{os.urandom(4).hex()}{KEY[8:]}"}
        args |= {"Body": JPEG, "Tagging": tags(), "IfNoneMatch": "*", **changes}
        return s3.put_object(**{k: v for k, v in args.items() if v is not None})

    return call


VIOLATIONS: dict[str, Callable[[Any, str], object]] = {
    "no If-None-Match": put(IfNoneMatch=None),
    "a blank camera_id": put(Tagging=tags(camera_id="")),
    "no event_id": put(Tagging=tags().replace("event_id=evt-1&", "")),
    "label unsure": put(Tagging=tags(label_status="unsure")),
    "another city": put(Tagging=tags(city_id="another-city")),
    "SSE-S3": put(ServerSideEncryption="AES256"),
    "a public ACL": put(ACL="public-read"),
    "a COMPLIANCE lock": put(ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate="2099-01-01T00:00:00Z"),
    "a key in a folder": put(Key=f"paris/{KEY}"),
    "a key that is not a UUID": put(Key="not-a-uuid.jpg"),
    "a read": lambda s3, bucket: s3.list_objects_v2(Bucket=bucket),
}


@pytest.mark.parametrize("violation", sorted(VIOLATIONS))
def test_each_violation_by_a_real_client_gets_s3s_403(store: LocalStore, violation: str) -> None:
    with pytest.raises(ClientError) as refused:
        VIOLATIONS[violation](city_s3(store), store.outputs["bucket_name"])
    error = refused.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (403, "AccessDenied"), error


def test_a_compliant_upload_by_a_real_client_succeeds(store: LocalStore) -> None:
    assert put()(city_s3(store), store.outputs["bucket_name"])


def test_plain_http_is_refused_by_the_policy_not_by_a_missing_listener(store: LocalStore) -> None:
    with pytest.raises(ClientError) as refused:
        put()(city_s3(store, url=store.plain_url), store.outputs["bucket_name"])
    assert "aws:SecureTransport" not in str(refused.value) and refused.value.response["Error"]["Code"] == "AccessDenied"


def test_a_sandbox_stays_up_for_a_city_team_and_goes_down(tmp_path: Path) -> None:
    directory = tmp_path / ".sandbox"
    previous = os.environ.get("AWS_CA_BUNDLE")
    try:
        assert sandbox.main(["up", "--dir", str(directory), "--engine", "applier"]) == 0
        env = (directory / "env").read_text()
        assert stat.S_IMODE((directory / "env").stat().st_mode) == 0o600, "the env file holds secrets"
        outputs = json.loads((directory / "outputs.json").read_text())
        assert f"LEARNING_IMAGES_OUTPUTS={directory.resolve() / 'outputs.json'}" in env
        assert "AWS_CA_BUNDLE=" in env and "AWS_ACCESS_KEY_ID=" in env
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in env.splitlines() if line.startswith("export")
        )
        result = subprocess.run(
            [sys.executable, "-m", "learning_images.verify"],
            env={**os.environ, **exports},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert outputs["endpoint_url"].startswith("https://127.0.0.1:")
    finally:
        assert sandbox.main(["down", "--dir", str(directory)]) == 0
        # `up` points AWS_CA_BUNDLE at its own authority, which `down` deletes: restore the
        # module's store's, or later tests in this process fail to verify its certificate.
        if previous is None:
            os.environ.pop("AWS_CA_BUNDLE", None)
        else:
            os.environ["AWS_CA_BUNDLE"] = previous
    assert not directory.exists()


def test_a_pulumi_cli_that_cannot_provision_falls_back_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'error: no resource plugin aws found' >&2\nexit 255\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    with local_store(engine="auto") as found:
        assert found.outputs["bucket_name"]
    out = capsys.readouterr().out
    assert "the Pulumi engine cannot provision here (pulumi stack failed: error: no resource plugin aws found)" in out
    assert "Traceback" not in out
    with pytest.raises(SystemExit, match="error: pulumi stack failed"), local_store(engine="pulumi"):
        pass


def tls_get(store: LocalStore, version: ssl.TLSVersion, path: str) -> tuple[str, int, str]:
    """A GET over a connection whose TLS is at most ``version``: the negotiated version, status, body."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(store.ca_bundle))
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 disables TLS 1.1 ciphers by default
    host, port = store.url.removeprefix("https://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    connection.connect()
    negotiated = connection.sock.version() or ""
    connection.request("GET", path)
    response = connection.getresponse()
    return negotiated, response.status, response.read().decode()


def test_tls_below_1_2_is_refused_by_the_policy_not_by_the_handshake(store: LocalStore) -> None:
    bucket = f"/{store.outputs['bucket_name']}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSVersion.TLSv1_1 itself is deprecated
        old = tls_get(store, ssl.TLSVersion.TLSv1_1, bucket)
    current = tls_get(store, ssl.TLSVersion.TLSv1_2, bucket)
    assert old[0] == "TLSv1.1" and old[1] == 403 and "DenyOutdatedTls" in old[2], old
    assert current[0] == "TLSv1.2" and current[1] == 403 and "DenyOutdatedTls" not in current[2], current


def test_a_compliant_upload_over_tls_1_1_is_refused(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The city's own signed, compliant upload, with only the transport capped at TLS 1.1."""
    original = botocore.httpsession.create_urllib3_context

    def at_most_tls_1_1(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context: ssl.SSLContext = original(*args, **kwargs)
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 disables TLS 1.1 ciphers by default
        return context

    monkeypatch.setattr(botocore.httpsession, "create_urllib3_context", at_most_tls_1_1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        s3 = city_s3(store)
        with pytest.raises(ClientError) as refused:
            put()(s3, store.outputs["bucket_name"])
    error = refused.value.response
    assert error["Error"]["Code"] == "AccessDenied" and "DenyOutdatedTls" in error["Error"]["Message"], (
        f"bucket {store.outputs['bucket_name']}: a compliant city upload over TLS 1.1 must be refused "
        f"by DenyOutdatedTls, got {error}"
    )


def test_one_silent_connection_does_not_freeze_the_sandbox_for_others(store: LocalStore) -> None:
    """With one TCP connection to its HTTPS port open and silent, a city's upload timed out after
    20 s: the front shook hands on its accepting thread."""
    import socket  # noqa: PLC0415
    import urllib.parse  # noqa: PLC0415

    where = urllib.parse.urlsplit(store.url)
    with socket.create_connection((where.hostname or "127.0.0.1", where.port or 443)):
        s3 = boto3.client(
            "s3",
            endpoint_url=store.url,
            region_name=REGION,
            aws_access_key_id=store.outputs["city_credentials"][CITY]["access_key_id"],
            aws_secret_access_key=store.outputs["city_credentials"][CITY]["secret_access_key"],
            config=botocore.config.Config(
                s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=5, read_timeout=5
            ),
        )
        assert put()(s3, store.outputs["bucket_name"]), "a compliant upload while another client idles"


def test_a_request_signed_two_hours_ago_is_refused_as_s3_refuses_it(store: LocalStore) -> None:
    """The front never checked X-Amz-Date: it took a request signed 2 h ago that S3 refuses."""
    import datetime as dt  # noqa: PLC0415
    from unittest import mock  # noqa: PLC0415

    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    s3 = city_s3(store)
    # The signer's clock (botocore.auth.get_current_datetime), as on a city machine whose clock is off.
    skewed = mock.patch("botocore.auth.get_current_datetime", return_value=two_hours_ago.replace(tzinfo=None))
    with skewed, pytest.raises(ClientError) as refused:
        put()(s3, store.outputs["bucket_name"])
    assert refused.value.response["Error"]["Code"] == "RequestTimeTooSkewed", refused.value.response


def test_the_sandbox_env_file_puts_the_commands_on_path_and_says_what_it_replaces(store: LocalStore) -> None:
    """`learning-images-upload: command not found` after following docs/verifying.md, and the
    shell's AWS_CA_BUNDLE and keys replaced without a word."""
    text = sandbox.environment_file(store, Path(".sandbox"))
    assert f'export PATH="{Path(sys.executable).parent}:$PATH"' in text, text
    assert "REPLACES" in text and "unset AWS_PROFILE" in text, text


def test_sandbox_down_says_when_nothing_was_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox.down(tmp_path / "never-up") == 0
    assert "not running" in capsys.readouterr().out


def test_make_sandbox_runs_the_stack_it_is_given() -> None:
    """`make sandbox STACK=r2` silently ran the local stack."""
    import shutil  # noqa: PLC0415

    make = shutil.which("make")
    if make is None:
        pytest.skip("no make on this machine (.ci/run installs it)")
    root = Path(__file__).resolve().parents[1]
    given = subprocess.run(  # noqa: S603 (a dry run: make prints, runs nothing)
        [make, "-n", "-o", "install", "sandbox", "STACK=r2"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "learning_images.sandbox.sandbox --stack r2" in given, given
    default = subprocess.run(  # noqa: S603
        [make, "-n", "-o", "install", "sandbox"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "--stack" not in default, f"without STACK the sandbox runs its default, the local stack: {default}"
