"""LearningImageStore as a component other programs adopt: typed arguments, no stack config, any
number of stores in one program, inside the user's own components. One rule per test."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pulumi
import pytest

from learning_images.outputs import StackOutputs
from learning_images.sandbox.render import ROOT, Graph, render, stack_config
from learning_images_infra.component import TYPE, LearningImageStore
from learning_images_infra.component_codegen import source
from learning_images_infra.component_types import LearningImageStoreArgs
from learning_images_infra.settings import Settings, SettingsError
from tests.support.stack import last_graph

ACCOUNT = "0123456789abcdef0123456789abcdef"
AWS: LearningImageStoreArgs = {
    "backend": "aws",
    "region": "eu-west-1",
    "replica_region": "eu-central-1",
    "city_ids": ["paris", "rome"],
}
R2: LearningImageStoreArgs = {
    "backend": "r2",
    "cloudflare_account_id": ACCOUNT,
    "replication": False,
    "access_logging": False,
    "r2_workers_subdomain": "acme",
    "city_ids": ["paris"],
}


def without_config(program: Any) -> Graph:
    """``program`` under mocks with no stack configuration at all."""
    return render({}, stack="component", program=program)


def three_stores() -> None:
    LearningImageStore("eu", AWS)
    LearningImageStore("us", AWS | {"region": "us-east-1", "replica_region": "us-west-2"})
    LearningImageStore("edge", R2)


@pytest.fixture(scope="module")
def three() -> Graph:
    return without_config(three_stores)


def test_a_store_is_built_from_typed_arguments_with_no_stack_config(three: Graph) -> None:
    stores = {r.name for r in three.of_type(TYPE)}
    assert stores == {"eu", "us", "edge"}, stores
    buckets = [r.name for r in three.of_type("aws:s3/bucket:Bucket")]
    assert "eu-learning-images" in buckets and "us-learning-images" in buckets, buckets


def test_stores_in_one_program_never_share_a_resource_name(three: Graph) -> None:
    """Pulumi names a child by its type, its parent's type and its own name, so two stores'
    children must differ in name; a collision would fail the whole deployment."""
    seen = Counter((r.type, r.name) for r in three)
    clashes = [key for key, count in seen.items() if count > 1]
    assert not clashes, f"two stores declare the same resource: {clashes}"


def test_stores_in_one_program_never_share_an_iam_path_or_a_bucket_name(three: Graph) -> None:
    paths = {r.name: r["path"] for r in three if r.type in ("aws:iam/role:Role", "aws:iam/user:User")}
    eu = {p for name, p in paths.items() if name.startswith("eu-")}
    us = {p for name, p in paths.items() if name.startswith("us-")}
    assert eu and us and not eu & us, f"the stores' identities must live under their own IAM paths: {eu} {us}"
    assert all(p.startswith("/learning-images/component-eu/") for p in eu), eu
    (r2,) = three.of_type("cloudflare:index/r2Bucket:R2Bucket")
    assert r2["name"] == "learning-images-component-edge", r2.urn


def test_each_store_exports_its_own_outputs_as_typed_attributes() -> None:
    found: dict[str, Any] = {}

    def program() -> None:
        store = LearningImageStore("eu", AWS)
        found["outputs"] = store.outputs
        pulumi.export("bucket", store.bucket_name)
        pulumi.export("scheme", store.capabilities.apply(lambda c: c["reference_scheme"]))

    graph = without_config(program)
    assert set(found["outputs"]) == set(StackOutputs.model_fields), "the outputs schema, every field"
    assert graph.outputs["bucket"] == "eu-learning-images", graph.outputs
    assert graph.outputs["scheme"] == "s3"


def test_a_store_lives_inside_the_users_own_component() -> None:
    class Platform(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("acme:platform:Platform", name)
            self.images = LearningImageStore("images", AWS, pulumi.ResourceOptions(parent=self))
            self.register_outputs({})

    graph = without_config(lambda: Platform("platform"))
    assert graph.parents["images"] == "platform", "the store must be a child of the user's component"
    assert graph.parents["images-learning-images"] == "images", "its resources are children of the store"


def test_invalid_arguments_fail_before_anything_is_registered() -> None:
    with pytest.raises(Exception, match="invalid arguments of store 'eu'") as raised:
        # An unknown key is also what mypy refuses for the TypedDict; at run time the settings model does.
        wrong: Any = {"backend": "aws", "city_ids": ["Bad City"], "colour": "x"}
        without_config(lambda: LearningImageStore("eu", wrong))
    message = str(raised.value)
    for problem in ("args.region: is required", "args.city_ids: ", "args.colour: unknown argument"):
        assert problem in message, f"{problem!r} missing from:\n{message}"
    assert not last_graph().resources, f"nothing may be registered, found {[r.urn for r in last_graph()]}"


def test_a_store_name_that_cannot_name_buckets_is_refused() -> None:
    with pytest.raises(Exception, match="store name 'Images_EU' is not a lowercase slug"):
        without_config(lambda: LearningImageStore("Images_EU", AWS))
    assert not last_graph().resources


def test_the_stack_programs_store_keeps_its_names_and_aliases_its_previous_type() -> None:
    """Stacks deployed before the component must not be replaced: the store named `store` keeps its
    children's names and aliases the type it had."""
    graph = render(stack_config("dev"), stack="dev")
    assert {"learning-images", "store-key", "city-uploaders"} <= {r.name for r in graph}
    (alias,) = graph.aliases["store"]
    assert alias.type_ == "learning-images:aws:LearningImageStore", alias


def test_the_stack_program_passes_exactly_its_settings() -> None:
    settings = Settings.model_validate({"aws:region": "eu-west-1", "replica_region": "eu-central-1"})
    assert Settings.model_validate(LearningImageStore.args_of(settings)) == settings


def test_the_typed_arguments_are_the_settings_fields() -> None:
    assert set(LearningImageStoreArgs.__annotations__) == set(Settings.model_fields), (
        "infra/learning_images_infra/component_types.py is stale: run `make docs`"
    )


def test_the_component_types_are_generated_from_the_settings_and_the_outputs_schema() -> None:
    assert (ROOT / "infra" / "learning_images_infra" / "component_types.py").read_text() == source(), (
        "infra/learning_images_infra/component_types.py differs from its generator: run `make docs`"
    )


def test_settings_errors_name_the_argument_not_the_config_key() -> None:
    with pytest.raises(SettingsError) as raised:
        LearningImageStore("eu", {"backend": "aws", "region": "nowhere"})
    assert "args.region: 'nowhere' is not an AWS region name" in str(raised.value), str(raised.value)
    assert json.dumps(str(raised.value))


def test_the_policy_pack_passes_a_program_of_three_named_stores(three: Graph) -> None:
    """The pack judges resources, not names: stores named by another program pass as the stack's does."""
    from tests.test_policies import violations  # noqa: PLC0415

    found = violations(three.resources)
    assert not found, f"three stores in one program violate the contract: {json.dumps(found, indent=1)}"


def test_the_policy_pack_catches_a_broken_guard_in_a_named_store(three: Graph) -> None:
    resources = copy.deepcopy(three.resources)
    policy = next(r for r in resources if r.name == "us-learning-images-policy")
    document = json.loads(policy.inputs["policy"])
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "DenyUploadWithExcludedLabel"]
    policy.inputs["policy"] = json.dumps(document)
    from tests.test_policies import violations  # noqa: PLC0415

    found = violations(resources)
    assert list(found) == ["s3-learning-bucket-policy-guards"], found
    assert all("us-learning-images" in message for message in found["s3-learning-bucket-policy-guards"]), found
