"""The local stack with cities that authenticate with certificates, for the tests and a city team.

The enforcing local S3 stands in for IAM Roles Anywhere (``learning_images.sandbox.roles_anywhere``):
the local stack is provisioned with ``cityAuthentication: certificates`` and a certificate
authority made for the run, whose certificates (CN = city id) get sessions of the city role
carrying the CN as a session tag, exactly as the stack's policies expect of Roles Anywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trustme

from learning_images.ops.clients import ROLES_ANYWHERE_ENDPOINT
from learning_images.sandbox.local import LocalStore, local_store
from learning_images.sandbox.render import stack_config


@dataclass(frozen=True)
class CityCertificate:
    city: str
    certificate: Path
    private_key: Path


@dataclass(frozen=True)
class CertificateStore:
    store: LocalStore
    cities_ca: trustme.CA
    folder: Path

    def issue(self, city: str, authority: trustme.CA | None = None) -> CityCertificate:
        """A certificate with ``city`` as its CN, from the cities' CA (or ``authority``): onboarding a
        city is this, and nothing is deployed."""
        leaf = (authority or self.cities_ca).issue_cert(
            f"{city}.cities.example", common_name=city, key_type=trustme.KeyType.RSA
        )
        found = CityCertificate(city, self.folder / f"{city}.pem", self.folder / f"{city}-key.pem")
        leaf.cert_chain_pems[0].write_to_path(str(found.certificate))
        leaf.private_key_pem.write_to_path(str(found.private_key))
        return found


def certificate_config(cities_ca: trustme.CA) -> dict[str, str]:
    """The local stack with certificate-based cities over ``cities_ca``."""
    return stack_config("local") | {
        "learning-images:cityIds": json.dumps([]),
        "learning-images:cityAuthentication": "certificates",
        "learning-images:cityCertificateAuthority": cities_ca.cert_pem.bytes().decode(),
    }


@contextmanager
def local_certificate_store() -> Iterator[CertificateStore]:
    """The enforcing local S3 with the certificate stack applied; the clients' CreateSession calls
    go to its Roles Anywhere stand-in for the block."""
    cities_ca = trustme.CA(key_type=trustme.KeyType.RSA, organization_name="The sandbox's cities")
    with local_store(config=certificate_config(cities_ca)) as store, tempfile.TemporaryDirectory() as folder:
        previous = os.environ.get(ROLES_ANYWHERE_ENDPOINT)
        os.environ[ROLES_ANYWHERE_ENDPOINT] = urlsplit(store.url).netloc
        try:
            yield CertificateStore(store, cities_ca, Path(folder))
        finally:
            if previous is None:
                os.environ.pop(ROLES_ANYWHERE_ENDPOINT, None)
            else:
                os.environ[ROLES_ANYWHERE_ENDPOINT] = previous
