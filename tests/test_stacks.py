"""The shipped stack files render as the README promises."""

from __future__ import annotations

from tests.support.stack import Graph, stack_config


def test_dev_stack_is_cheap_and_destroyable(dev: Graph) -> None:
    assert dev.outputs["replica"] is None, "dev: no replication"
    assert dev.outputs["object_lock"] is None, "dev: no Object Lock"
    assert dev.outputs["access_log_bucket_name"] is None, "dev: no access logs"
    assert not dev.protected, "dev: nothing protected"
    assert sorted(dev.outputs["city_credentials"]) == ["dev-city-a", "dev-city-b"]


def test_prod_stack_turns_every_guard_on(prod: Graph) -> None:
    assert prod.outputs["replica"]["region"] == "eu-central-1", "prod: replicated to another region"
    assert prod.outputs["object_lock"] == {"mode": "GOVERNANCE", "days": 30}, "prod: Object Lock in GOVERNANCE mode"
    assert prod.outputs["access_log_bucket_name"], "prod: access logs on"
    assert {"learning-images", "learning-images-replica", "store-key", "replica-key"} <= prod.protected


def test_the_local_stack_is_in_the_sandboxs_region() -> None:
    """The sandbox, the render and the local stack file name one region (project.SANDBOX_REGION)."""
    from learning_images.sandbox.project import SANDBOX_REGION  # noqa: PLC0415

    assert stack_config("local")["aws:region"] == SANDBOX_REGION, "Pulumi.local.yaml's aws:region is not the sandbox's"
