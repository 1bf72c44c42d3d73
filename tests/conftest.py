"""Shared renders. Each is built afresh from config; graphs are plain data, safe to share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from learning_images.sandbox.local import LocalStore, local_store
from tests.stack import Graph, render, stack_config

#: Every feature on: replication, Object Lock, logging, two cities.
FULL = {
    "aws:region": "eu-west-1",
    "learning-images:replicaRegion": "eu-central-1",
    "learning-images:objectLockMode": "GOVERNANCE",
    "learning-images:cityIds": '["nyc", "paris"]',
    "learning-images:commandCentrePrincipals": '["arn:aws:iam::123456789012:role/operators"]',
    "learning-images:trainingPrincipals": '["arn:aws:iam::123456789012:role/trainer"]',
}


@pytest.fixture(scope="session")
def full() -> Graph:
    return render(FULL)


@pytest.fixture(scope="session")
def dev() -> Graph:
    return render(stack_config("dev"), stack="dev")


@pytest.fixture(scope="session")
def gcs() -> Graph:
    return render(stack_config("gcs"), stack="gcs")


@pytest.fixture(scope="session")
def prod() -> Graph:
    return render(stack_config("prod"), stack="prod")


#: prod, with cities that authenticate with certificates (IAM Roles Anywhere over an AWS Private CA).
CERTIFICATES = {
    **{k: v for k, v in stack_config("prod").items() if k != "learning-images:cityIds"},
    "learning-images:cityAuthentication": "certificates",
    "learning-images:cityPrivateCaArn": "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/cities-ca",
}


@pytest.fixture(scope="session")
def certificates() -> Graph:
    return render(CERTIFICATES, stack="prod")


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStore]:
    """The local stack in a moto server, one per test module (tests there use distinct samples)."""
    with local_store() as store:
        yield store
