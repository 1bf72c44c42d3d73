"""Cities by certificate, end to end in the enforcing sandbox, which stands in for IAM Roles
Anywhere (learning_images.sandbox.roles_anywhere): the uploader and the verifier present a city's
certificate and get a session of the city role carrying its CN, judged by the stack's policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from learning_images import contract
from learning_images.ops import upload_batch
from learning_images.ops.clients import new_session
from learning_images.sandbox.certificates import CertificateStore, CityCertificate, local_certificate_store
from learning_images.sandbox.local import REGION
from learning_images.verify import cli
from tests.support.ops import read_report, sample, write_batch


@pytest.fixture(scope="module")
def certificates() -> Iterator[CertificateStore]:
    with local_certificate_store() as found:
        yield found


def upload_as(store: CertificateStore, city: str, certificate: CityCertificate, folder: Path) -> tuple[int, list[dict]]:  # type: ignore[type-arg]
    manifest = write_batch(folder, [sample(f"{city}-{certificate.city}.jpg")])
    code = upload_batch.main(
        [
            *("--outputs", str(store.store.outputs_file), "--endpoint-url", store.store.url, "--city", city),
            *("--certificate", str(certificate.certificate), "--private-key", str(certificate.private_key)),
            *("--images", str(folder), "--manifest", str(manifest), "--report", str(folder / "r.jsonl"), "--quiet"),
        ]
    )
    return code, read_report(folder / "r.jsonl") if (folder / "r.jsonl").exists() else []


def test_a_city_uploads_with_its_certificate(certificates: CertificateStore, tmp_path: Path) -> None:
    code, rows = upload_as(certificates, "paris", certificates.issue("paris"), tmp_path)
    assert code == 0 and rows[0]["status"] == "uploaded", rows


def test_a_city_onboarded_by_issuing_a_certificate_needs_no_deployment(
    certificates: CertificateStore, tmp_path: Path
) -> None:
    code, rows = upload_as(certificates, "oslo", certificates.issue("oslo"), tmp_path)
    assert code == 0 and rows[0]["status"] == "uploaded", "a certificate issued after provisioning uploads at once"


def test_a_certificate_uploads_only_as_its_own_city(certificates: CertificateStore, tmp_path: Path) -> None:
    code, rows = upload_as(certificates, "rome", certificates.issue("paris"), tmp_path)
    assert code == 1, rows
    assert rows[0]["status"] == "failed" and "AccessDenied" in rows[0]["error"], (
        f"paris's certificate uploaded as rome: {rows}"
    )


def test_another_cas_certificate_gets_no_session(certificates: CertificateStore, tmp_path: Path) -> None:
    stranger = certificates.issue("paris", authority=trustme.CA(key_type=trustme.KeyType.RSA))
    code, rows = upload_as(certificates, "paris", stranger, tmp_path)
    assert code == 2 and not rows, "a certificate of another CA must get no session, so nothing is uploaded"


def test_the_verifier_runs_with_the_probe_citys_certificate(certificates: CertificateStore, tmp_path: Path) -> None:
    probe = certificates.issue(contract.PROBE_CITY_ID)
    store = certificates.store
    report = tmp_path / "report.json"
    code = cli.main(
        [
            *("--outputs", str(store.outputs_file), "--endpoint-url", store.url, "--plain-http-url", store.plain_url),
            *("--probe-certificate", str(probe.certificate), "--probe-private-key", str(probe.private_key)),
            *("--state-dir", str(tmp_path), "--time-budget", "120", "--json", str(report)),
        ],
        operator=new_session(region_name=REGION, **store.operator),
    )
    results = {r["rule"]: r["status"] for r in json.loads(report.read_text())["results"]}
    for rule in ("upload.accepted", "refuse.other-city", "refuse.unsure-label", "tier.city.GetObject"):
        assert results[rule] == "PASS", f"{rule}: {results[rule]}"
    assert code == 0, json.loads(report.read_text())["summary"]
