"""The component package other Pulumi languages consume: its manifest, its entry point, and the
schema the provider host infers, from which `pulumi package add` generates their SDKs.

What only a Pulumi CLI proves (none is here): that `pulumi package add` installs the plugin's
dependencies, launches it and generates each language's SDK from this schema.
"""

from __future__ import annotations

import json
import runpy
import tomllib
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider
from pydantic.alias_generators import to_camel

from learning_images.outputs import StackOutputs
from learning_images.sandbox.render import ROOT
from learning_images_infra.component import TYPE, LearningImageStore
from learning_images_infra.settings import Settings

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    provider = ComponentProvider([LearningImageStore], "learning-images", version=VERSION)
    assert provider.schema is not None
    found: dict[str, Any] = json.loads(provider.schema)
    return found


def test_the_package_schema_has_the_store_as_a_component(schema: dict[str, Any]) -> None:
    assert schema["name"] == "learning-images" and schema["version"] == VERSION
    assert list(schema["resources"]) == [TYPE]
    assert schema["resources"][TYPE]["isComponent"] is True


def test_the_schema_inputs_are_the_settings_each_described(schema: dict[str, Any]) -> None:
    inputs = schema["resources"][TYPE]["inputProperties"]
    assert set(inputs) == {to_camel(name) for name in Settings.model_fields}, "every setting, and only those"
    assert not schema["resources"][TYPE].get("requiredInputs"), "every input has a default (or a checked rule)"
    for name, field in Settings.model_fields.items():
        assert inputs[to_camel(name)]["description"] == " ".join((field.description or "").split()), name


def test_the_schema_outputs_are_the_outputs_schema(schema: dict[str, Any]) -> None:
    resource = schema["resources"][TYPE]
    assert set(resource["properties"]) == {to_camel(name) for name in StackOutputs.model_fields}
    required = {to_camel(n) for n, f in StackOutputs.model_fields.items() if f.is_required()}
    assert required <= set(resource["required"]), f"missing required outputs: {required - set(resource['required'])}"
    kinds = {name.rsplit(":", 1)[-1] for name in schema["types"]}
    assert kinds == {"BackendProfile", "Credentials", "LifecycleOutputs", "ObjectLockOutputs", "ReplicaOutputs",
                     "InventoryOutputs", "RolesAnywhereOutputs", "RegistrationOutputs",
                     "ReceiverCredentials"}, kinds  # fmt: skip


def test_the_plugin_manifest_names_the_python_runtime() -> None:
    manifest = yaml.safe_load((ROOT / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"] == "learning-images", (
        "pyproject.toml's name is the package's (and its SDKs') name"
    )


def test_the_entry_point_exposes_the_component_as_a_top_level_name() -> None:
    """The Python plugin host serves every ComponentResource among the entry module's top-level names."""
    names = runpy.run_path(str(ROOT / "__main__.py"))
    components = [v for v in names.values() if isinstance(v, type) and issubclass(v, pulumi.ComponentResource)]
    assert components == [LearningImageStore], components
