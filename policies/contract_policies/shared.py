"""What every backend's policies share: reading policy documents, and building a mandatory policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

DAY_SECONDS = 86_400


def policy_document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def resource_policy(
    name: str, description: str, remediation: str, validate: Callable[..., None]
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        remediation_steps=remediation,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def stack_policy(
    name: str, description: str, remediation: str, validate: Callable[..., None], **extra: Any
) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        remediation_steps=remediation,
        enforcement_level=EnforcementLevel.MANDATORY,
        **extra,
    )
