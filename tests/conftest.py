"""Shared renders and the test tiers. Each render is built afresh from config; graphs are plain
data, safe to share."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from learning_images.sandbox.local import LocalStore, local_store
from tests.support.stack import Graph, render, stack_config

#: Each test module's tier: the slowest thing it needs, fastest tier first (markers in pyproject.toml).
TIERS: dict[str, tuple[str, ...]] = {
    "unit": (
        "test_b2_access",
        "test_b2_provider",
        "test_backends",
        "test_component_package",
        "test_concurrency",
        "test_contract",
        "test_docs",
        "test_front_listing",
        "test_registrar",
        "test_s3_authorization",
        "test_workflows",
    ),
    "mocks": (
        "test_access",
        "test_b2",
        "test_access_analyzer",
        "test_bucket",
        "test_bucket_policy",
        "test_certificates",
        "test_component",
        "test_examples",
        "test_gcs",
        "test_inventory",
        "test_lifecycle",
        "test_minio_keys",
        "test_outputs",
        "test_policies",
        "test_policy_lint",
        "test_r2",
        "test_r2_gateway",
        "test_registration_gcs",
        "test_registration_r2",
        "test_replication",
        "test_rules",
        "test_scale",
        "test_settings",
        "test_spaces",
        "test_stacks",
        "test_urns",
    ),
    "iam": ("test_evaluator", "test_gcs_iam", "test_iam_semantics", "test_minio", "test_registration_source"),
    "servers": (
        "test_certificate_sandbox",
        "test_city_kit",
        "test_erase",
        "test_erase_by_sql",
        "test_gcs_sandbox",
        "test_key_rotation",
        "test_operations_faults",
        "test_packaging",
        "test_reconcile",
        "test_register",
        "test_register_faults",
        "test_registration_pubsub",
        "test_registration_pull",
        "test_registration_table",
        "test_retention",
        "test_retention_by_sql",
        "test_sandbox",
        "test_sandbox_day",
        "test_training",
        "test_upload_faults",
        "test_verify_contract",
        "test_verify_failures",
        "test_verify_fronted",
        "test_verify_minio",
        "test_verify_r2",
        "test_verify_usage",
    ),
    "workers": ("test_gateway", "test_gateway_events", "test_gateway_s3_target", "test_upload_batch"),
}
TIER_OF = {module: tier for tier, modules in TIERS.items() for module in modules}

#: Modules whose tests each build every store and server they use (no module-scoped fixture): under
#: ``--dist loadgroup`` their tests spread over the workers one by one. Every other module's tests
#: share one worker (its module fixtures are built once), as ``--dist loadfile`` keeps them.
SPREAD = ("test_retention", "test_sandbox_day", "test_verify_r2")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its module's tier, and with its module as its xdist group unless the
    module is in :data:`SPREAD`; a module no tier names is refused, named."""
    unplaced = set()
    for item in items:
        module = item.path.stem
        if module not in TIER_OF:
            unplaced.add(module)
            continue
        item.add_marker(getattr(pytest.mark, TIER_OF[module]))
        if module not in SPREAD:
            item.add_marker(pytest.mark.xdist_group(module))
    if unplaced:
        raise pytest.UsageError(f"test modules without a tier in tests/conftest.py TIERS: {sorted(unplaced)}")


#: The cycle collector's first threshold in every test process (CPython's default is 700). A test
#: worker allocates millions of short-lived objects (boto3 clients, renders, parsed policies): at
#: 700, measured over the unit, mocks and iam tiers, each worker collected about 3,000 times, 15 of
#: them full passes over the 600,000 objects the SDKs load, and pytest makes five more full passes
#: at the session's end (docs/measurements.md). Only when cycles are collected changes, never what
#: is tested.
GC_FIRST_THRESHOLD = 20_000
gc.set_threshold(GC_FIRST_THRESHOLD, *gc.get_threshold()[1:])


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once every test module is imported (the provider SDKs, boto3, moto), move what is loaded
    into the collector's permanent generation (``gc.freeze``): it lives as long as the worker, and
    every later collection, pytest's five at the session's end included, no longer walks it."""
    gc.collect()
    gc.freeze()


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
