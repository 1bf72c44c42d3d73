"""The contract on Cloudflare R2: no public domain, tokens scoped to their bucket."""

from __future__ import annotations

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .graph import Graph
from .shared import policy_document, resource_policy, stack_policy
from .tokens import R2_BUCKET, R2_CUSTOM_DOMAIN, R2_MANAGED_DOMAIN, R2_TOKENS


def r2_no_public_domain(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == R2_MANAGED_DOMAIN and args.props.get("enabled") is not False:
        report("the r2.dev domain would serve the bucket publicly: declare it with enabled=false", args.urn)
    if args.resource_type == R2_CUSTOM_DOMAIN:
        report("a custom domain would serve the bucket publicly", args.urn)


def r2_tokens_bucket_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in R2_TOKENS:
        return
    for policy in args.props.get("policies") or []:
        resources = policy_document(policy.get("resources") or "{}")
        broad = [r for r in resources if not r.startswith("com.cloudflare.edge.r2.bucket.")]
        if broad or not resources:
            report(f"the token reaches beyond one R2 bucket: {broad or 'no resources'}", args.urn)


def r2_bucket_not_public(args: StackValidationArgs, report: ReportViolation) -> None:
    graph = Graph(args.resources)
    for bucket in graph.of(R2_BUCKET):
        domains = [d for d in graph.of(R2_MANAGED_DOMAIN) if bucket.urn in Graph.targets(d, "bucketName")]
        if not domains:
            report("declare the bucket's r2.dev domain off (R2ManagedDomain enabled=false)", bucket.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "r2-no-public-domain",
        "R2 buckets expose no public domain: r2.dev declared off, no custom domain.",
        "Declare R2ManagedDomain(enabled=False) and remove any R2CustomDomain.",
        r2_no_public_domain,
    ),
    resource_policy(
        "r2-tokens-bucket-scoped",
        "R2 tier tokens reach exactly their bucket.",
        "Scope each token policy to com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>.",
        r2_tokens_bucket_scoped,
    ),
    stack_policy(
        "r2-bucket-not-public",
        "Every R2 bucket declares its r2.dev domain off.",
        "Declare cloudflare.R2ManagedDomain(enabled=False) for the bucket.",
        r2_bucket_not_public,
    ),
]
