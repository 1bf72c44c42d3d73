"""The settings' documentation, generated from the model: docs/settings.md's table and Pulumi.yaml's
config block (``make docs`` writes both; tests keep them equal to the model)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from learning_images_infra.settings.model import Settings
from learning_images_infra.settings.validators import PROJECT


@dataclass(frozen=True)
class ConfigKey:
    """One stack config key as a user sees it: what Pulumi.yaml declares and the README lists."""

    key: str
    type: str  # Pulumi.yaml's type names: string, integer, boolean, array; object for maps
    allowed: tuple[str, ...]
    default: str  # as the README shows it: a JSON value, "required" or "unset"
    description: str
    #: The default as a value, None where there is none (required or unset).
    default_value: Any = None


def config_schema() -> dict[str, ConfigKey]:
    """Every setting's config key, from the model's JSON schema (the one source for both)."""
    schema = Settings.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    keys = {}
    for alias, declared in schema["properties"].items():
        prop = {**defs[declared["$ref"].rsplit("/", 1)[-1]], **declared} if "$ref" in declared else declared
        variants = [v for v in prop.get("anyOf", [prop]) if v.get("type") != "null"]
        kind = variants[0].get("type", "string")
        allowed = tuple(variants[0].get("enum", [variants[0]["const"]] if "const" in variants[0] else []))
        if alias in schema.get("required", []):
            default = "required"
        elif prop.get("default") is None:
            default = "unset"
        else:
            default = f"`{json.dumps(prop['default'])}`"
        key = alias if ":" in alias else f"{PROJECT}:{alias}"
        keys[key] = ConfigKey(key, kind, allowed, default, prop["description"], prop.get("default"))
    return keys


def settings_table() -> str:
    """The README's settings table, generated from the fields above."""
    rows = ["| Setting | Type | Default | Behaviour |", "|---|---|---|---|"]
    for key in config_schema().values():
        kind = " \\| ".join(f"`{v}`" for v in key.allowed) if key.allowed else key.type
        rows.append(f"| `{key.key}` | {kind} | {key.default} | {key.description} |")
    return "\n".join(rows)


def pulumi_project_config() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of Pulumi.yaml: each project key with its type, description and default.

    Left out, because Pulumi.yaml cannot say them: provider keys (``aws:region``); keys with no
    default (the CLI treats a declared key without a default as required); ``tags`` (no
    ``object`` type). The README's settings table documents every key.
    """
    declared: dict[str, dict[str, Any]] = {}
    for key in config_schema().values():
        if not key.key.startswith(f"{PROJECT}:") or key.type == "object" or key.default_value is None:
            continue
        entry: dict[str, Any] = {"type": key.type, "description": key.description, "default": key.default_value}
        if key.type == "array":
            entry["items"] = {"type": "string"}
        declared[key.key.removeprefix(f"{PROJECT}:")] = entry
    return declared


def main() -> None:
    """``python -m learning_images_infra.settings``: print the table, or Pulumi.yaml's block."""
    import argparse  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="Print the settings documentation generated from the model.")
    parser.add_argument(
        "--pulumi-yaml", action="store_true", help="print Pulumi.yaml's config block instead of the settings table"
    )
    if parser.parse_args().pulumi_yaml:
        print(yaml.safe_dump({"config": pulumi_project_config()}, sort_keys=False, width=100))
    else:
        print(settings_table())
