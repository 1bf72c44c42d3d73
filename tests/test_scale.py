"""Cities are added by config: every policy document keeps its size whatever their number."""

from __future__ import annotations

import json

from learning_images_infra.aws.iam import POLICY_SIZE_LIMITS, compact_size
from tests.support.stack import Graph, render


def city_ids(count: int) -> str:
    return json.dumps([f"city-{n:04d}" for n in range(count)])


def policy_sizes(graph: Graph) -> dict[str, int]:
    return {
        f"{r.name}.{field}": compact_size(r.inputs[field])
        for r in graph
        for field in ("policy", "assumeRolePolicy")
        if field in r.inputs
    }


def test_policy_sizes_do_not_change_with_the_number_of_cities() -> None:
    base = {
        "aws:region": "eu-west-1",
        "learning-images:replicaRegion": "eu-central-1",
        "learning-images:objectLockMode": "GOVERNANCE",
    }
    one = policy_sizes(render({**base, "learning-images:cityIds": city_ids(1)}))
    many = policy_sizes(render({**base, "learning-images:cityIds": city_ids(60)}))
    grown = {name: (one[name], many[name]) for name in one if one[name] != many.get(name)}
    assert not grown, f"policy documents grew with the number of cities (1 -> 60): {grown}"


def test_every_policy_fits_its_aws_size_limit(prod: Graph) -> None:
    for resource in prod:
        limit = POLICY_SIZE_LIMITS.get(resource.type)
        if limit is None or "policy" not in resource.inputs:
            continue
        size = compact_size(resource.inputs["policy"])
        assert size <= limit, f"{resource.urn}: policy is {size} characters, AWS allows {limit}"
