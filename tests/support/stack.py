"""Test helpers: the offline render (scripts/learning_images/sandbox/render.py) and readers for its policy documents."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from learning_images.sandbox import render as _render
from learning_images.sandbox.render import ROOT, SECRET_SIG, SPECIAL_SIG_KEY, Graph, Resource, render, stack_config

__all__ = ["ROOT", "Graph", "Resource", "last_graph", "render", "stack_config"]


def last_graph() -> Graph:
    """What the latest render registered, also when it failed."""
    return _render.LAST_GRAPH


def is_secret(value: object) -> bool:
    """Whether the mocks handed ``value`` over as a secret (the wire's wrapper)."""
    return isinstance(value, dict) and value.get(SPECIAL_SIG_KEY) == SECRET_SIG


def revealed(value: Any) -> Any:
    """``value`` as the engine resolves it: a secret's own value, anything else as it is."""
    return value["value"] if is_secret(value) else value


def worker_bindings(script: Resource) -> dict[str, dict[str, Any]]:
    """A Worker's bindings by name (the list is a secret on the wire where it holds one)."""
    return {binding["name"]: binding for binding in revealed(script["bindings"])}


# --- reading the graph's policy documents -----------------------------------------------------


def policy_of(resource: Resource, field: str = "policy") -> dict[str, Any]:
    value = resource.inputs[field]
    return json.loads(value) if isinstance(value, str) else dict(value)


def statements(resource: Resource, field: str = "policy") -> list[dict[str, Any]]:
    return list(policy_of(resource, field)["Statement"])


def statement(resource: Resource, sid: str) -> dict[str, Any]:
    found = [s for s in statements(resource) if s.get("Sid") == sid]
    assert len(found) == 1, f"{resource.urn}: expected one statement {sid!r}, found {len(found)}"
    return found[0]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` and ``?`` wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def allowed_actions(resource: Resource, field: str = "policy") -> list[str]:
    """Every action pattern an identity policy allows."""
    return [a for s in statements(resource, field) if s["Effect"] == "Allow" for a in as_list(s["Action"])]


def allows(resource: Resource, action: str) -> bool:
    return any(matches(pattern, action) for pattern in allowed_actions(resource))


def bucket_policy_for(graph: Graph, bucket_name: str) -> Resource:
    """The one BucketPolicy attached to the bucket of that resource name."""
    found = [r for r in graph.of_type("aws:s3/bucketPolicy:BucketPolicy") if r["bucket"] == bucket_name]
    assert len(found) == 1, f"bucket {bucket_name}: expected exactly one bucket policy, found {len(found)}"
    return found[0]


def for_bucket(graph: Graph, type_: str, bucket_name: str) -> list[Resource]:
    return [r for r in graph.of_type(type_) if r.get("bucket") == bucket_name]
