"""The examples under examples/ are real programs: each renders offline under Pulumi's mocks with no
stack configuration, building its store from typed arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from learning_images.sandbox.render import ROOT, render
from learning_images_infra.component import TYPE

EXAMPLES = sorted(p.parent for p in (ROOT / "examples").glob("*/__main__.py"))


def test_there_are_the_three_examples() -> None:
    assert [p.name for p in EXAMPLES] == ["aws-minimal", "existing-stack", "r2"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_each_example_renders_a_store_with_no_stack_config(example: Path) -> None:
    graph = render({}, stack="example", program=example / "__main__.py")
    stores = graph.of_type(TYPE)
    assert len(stores) == 1, f"{example.name}: expected one store, found {[s.name for s in stores]}"
    assert graph.outputs, f"{example.name}: the program exports the store's outputs"
    manifest = yaml.safe_load((example / "Pulumi.yaml").read_text())
    assert manifest["runtime"]["name"] == "python", f"{example.name}/Pulumi.yaml"
    assert (example / "README.md").exists(), f"{example.name} needs a README"


def test_the_existing_stack_keeps_its_own_resources_beside_the_store() -> None:
    graph = render({}, stack="example", program=ROOT / "examples" / "existing-stack" / "__main__.py")
    names = {r.name for r in graph}
    assert {"model-artefacts", "training-job", "training-job-reads-learning-images"} <= names
    assert graph.parents.get("model-artefacts") is None, "the stack's own resources stay where they were"
    assert graph.outputs["learning_images_bucket"] == "images-learning-images"


def test_the_r2_example_exports_the_gateway_as_the_cities_endpoint() -> None:
    graph = render({}, stack="example", program=ROOT / "examples" / "r2" / "__main__.py")
    assert (
        graph.outputs["city_endpoint_url"]
        == "https://learning-images-example-images-upload-gateway.example.workers.dev"
    )
