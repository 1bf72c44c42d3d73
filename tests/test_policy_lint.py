"""Every IAM, bucket and key policy the program writes passes parliament's audit.

Each ignored finding below is a known limit of parliament, named with the reason; anything
else fails the test with the resource's URN.
"""

from __future__ import annotations

import pytest
from parliament import analyze_policy_string

from tests.support.stack import Graph, Resource

POLICY_FIELDS = ("policy", "assumeRolePolicy")

#: (issue, text in the finding's detail, why it is not a problem)
JUSTIFIED = [
    (
        "MISMATCHED_TYPE",
        "s3:TlsVersion",
        "parliament's Numeric pattern is ^\\d+$ (integers only); IAM parses '1.2' as the decimal 1.2",
    ),
    (
        "UNKNOWN_CONDITION_FOR_ACTION",
        "s3:TlsVersion",
        "the TLS guards are Deny s3:* as AWS documents them; an action without the key is simply not matched",
    ),
    (
        "MALFORMED",
        "neither Resource nor NotResource",
        "a role trust policy has no Resource element (IAM User Guide, 'Role trust policies')",
    ),
    (
        "RESOURCE_STAR",
        "kms:",
        "in a KMS key policy, Resource '*' means the key the policy is attached to",
    ),
    (
        "MISMATCHED_TYPE_BUT_USABLE",
        "StringNotEquals requires a value of type String but given Arn",
        "AWS documents the key ARN as the value of s3:x-amz-server-side-encryption-aws-kms-key-id",
    ),
]


def policies(graph: Graph) -> list[tuple[Resource, str]]:
    return [(r, f) for r in graph for f in POLICY_FIELDS if f in r.inputs]


def unexplained_findings(resource: Resource, field: str) -> list[str]:
    analyzed = analyze_policy_string(resource.inputs[field], ignore_private_auditors=True)
    found = []
    for finding in analyzed.findings:
        detail = str(finding.detail)
        if any(finding.issue == issue and text in detail for issue, text, _ in JUSTIFIED):
            continue
        found.append(f"{finding.issue}: {detail[:200]}")
    return found


@pytest.mark.parametrize("stack", ["full", "prod", "dev"])
def test_every_policy_passes_parliament(stack: str, request: pytest.FixtureRequest) -> None:
    graph: Graph = request.getfixturevalue(stack)
    documents = policies(graph)
    assert len(documents) >= 6, f"expected the store's policies, found {len(documents)}"
    failures = {f"{r.urn} ({f})": unexplained_findings(r, f) for r, f in documents}
    failures = {k: v for k, v in failures.items() if v}
    assert not failures, "parliament findings:\n" + "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_justified_ignores_are_still_needed(full: Graph) -> None:
    """An ignore that no longer matches anything is removed, so the list never hides new issues."""
    seen = set()
    for resource, field in policies(full):
        for finding in analyze_policy_string(resource.inputs[field], ignore_private_auditors=True).findings:
            for issue, text, _ in JUSTIFIED:
                if finding.issue == issue and text in str(finding.detail):
                    seen.add((issue, text))
    stale = [(issue, text) for issue, text, _ in JUSTIFIED if (issue, text) not in seen]
    assert not stale, f"remove these parliament ignores, nothing triggers them any more: {stale}"
