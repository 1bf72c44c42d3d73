"""Run the pack's validators without the Pulumi CLI: for the pack's own tests and the project's.

A resource is given as the engine hands it to a policy: type, name, inputs, and for stack
policies the resources each property depends on (``deps``: property -> names of resources).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties

OPTIONS = PolicyResourceOptions(
    protect=False,
    ignore_changes=[],
    delete_before_replace=None,
    aliases=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
    additional_secret_outputs=[],
)


def as_the_engine_gives(props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties as the analyzer hands them to a policy: a secret's value in its place (pulumi-policy's
    own deserializer), not the wire's secret wrapper that Pulumi's mocks return."""
    return deserialize_properties(dict(props))


@dataclass
class Given:
    type: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]] = field(default_factory=dict)
    #: The engine's URN; made up from the type and name when not given.
    given_urn: str | None = None

    @property
    def urn(self) -> str:
        return self.given_urn or f"urn:pulumi:test::any-project::{self.type}::{self.name}"


def stack_resources(resources: Iterable[Given]) -> list[PolicyResource]:
    given = list(resources)
    converted = {
        g.name: PolicyResource(g.type, as_the_engine_gives(g.props), g.urn, g.name, OPTIONS, None, None, [], {})
        for g in given
    }
    for g in given:
        for prop, names in g.deps.items():
            converted[g.name].property_dependencies[prop] = [converted[n] for n in names]
    return list(converted.values())


def violations(
    policies: Iterable[Policy],
    resources: Iterable[Given],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    stack: list[PolicyResource] | None = None,
) -> dict[str, list[str]]:
    """Policy name -> its violation messages (each with the URN), over every resource."""
    given = list(resources)
    stack = stack if stack is not None else stack_resources(given)
    found: dict[str, list[str]] = {}
    for policy in policies:

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            found.setdefault(name, []).append(f"{urn}: {message}")

        policy_config = dict((config or {}).get(policy.name, {}))
        if isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(stack, policy_config), report)
        elif isinstance(policy, ResourceValidationPolicy):
            for g in given:
                props = as_the_engine_gives(g.props)
                policy.validate(
                    ResourceValidationArgs(g.type, props, g.urn, g.name, OPTIONS, None, policy_config), report
                )
    return found
