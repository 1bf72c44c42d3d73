"""AWS's own analysis of every policy a stack renders: IAM Access Analyzer, in pull requests.

    python -m learning_images.sandbox.access_analyzer --stack prod     # needs AWS credentials (the PR's OIDC role)

The stack is rendered offline (scripts/learning_images/sandbox/render.py); each policy document is sent to Access
Analyzer's ``ValidatePolicy`` (grammar, and security warnings such as a missing condition) and
each resource policy to ``CheckNoPublicAccess`` (would it grant the public access?). Complementary
to the offline evaluation in ``make test``: AWS's checker, on the same documents, where AWS
credentials exist. Exit codes: 0 no finding of type ERROR or SECURITY_WARNING and nothing public;
1 a finding or a public grant; 2 usage or credentials.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from learning_images.sandbox.render import Graph, render, stack_config

#: Resource types whose ``policy`` input is a resource policy, and the type Access Analyzer names.
RESOURCE_POLICIES = {
    "aws:s3/bucketPolicy:BucketPolicy": "AWS::S3::Bucket",
    "aws:kms/key:Key": "AWS::KMS::Key",
    "aws:sqs/queuePolicy:QueuePolicy": "AWS::SQS::Queue",
}
#: Resource types whose ``policy`` input is an identity policy.
IDENTITY_POLICIES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/groupPolicy:GroupPolicy", "aws:iam/policy:Policy")
BLOCKING = {"ERROR", "SECURITY_WARNING"}


@dataclass(frozen=True)
class Document:
    urn: str
    field: str
    text: str
    policy_type: str  # IDENTITY_POLICY | RESOURCE_POLICY
    resource_type: str | None  # for resource policies


def documents(graph: Graph) -> Iterator[Document]:
    for resource in graph:
        if "assumeRolePolicy" in resource.inputs:
            yield Document(
                resource.urn,
                "assumeRolePolicy",
                resource.inputs["assumeRolePolicy"],
                "RESOURCE_POLICY",
                "AWS::IAM::AssumeRolePolicyDocument",
            )
        if "policy" not in resource.inputs:
            continue
        if resource.type in RESOURCE_POLICIES:
            resource_type = RESOURCE_POLICIES[resource.type]
            yield Document(resource.urn, "policy", resource.inputs["policy"], "RESOURCE_POLICY", resource_type)
        elif resource.type in IDENTITY_POLICIES:
            yield Document(resource.urn, "policy", resource.inputs["policy"], "IDENTITY_POLICY", None)


@functools.cache
def _validated_types() -> frozenset[str]:
    model = boto3.Session().client("accessanalyzer", region_name="us-east-1").meta.service_model
    return frozenset(model.shape_for("ValidatePolicyResourceType").enum)


def analyse(analyzer: Any, document: Document) -> list[str]:
    """The blocking findings of one document, as readable lines."""
    args: dict[str, Any] = {"policyDocument": document.text, "policyType": document.policy_type}
    # ValidatePolicy names a resource type only for the kinds it has rules for (its model's enum:
    # S3 buckets, not KMS keys or SQS queues); the others are validated as plain resource policies.
    if document.resource_type in _validated_types() and document.resource_type != "AWS::IAM::AssumeRolePolicyDocument":
        args["validatePolicyResourceType"] = document.resource_type
    problems = []
    for page in analyzer.get_paginator("validate_policy").paginate(**args):
        for finding in page["findings"]:
            if finding["findingType"] in BLOCKING:
                problems.append(f"{finding['findingType']} {finding['issueCode']}: {finding['findingDetails']}")
    if document.resource_type:
        public = analyzer.check_no_public_access(policyDocument=document.text, resourceType=document.resource_type)
        if public["result"] != "PASS":
            problems.append(f"public access: {public.get('message', public['result'])}")
    return [f"{document.urn} ({document.field}): {problem}" for problem in problems]


def main(argv: list[str] | None = None, *, analyzer: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="access_analyzer", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="a shipped AWS stack: Pulumi.<stack>.yaml")
    parser.add_argument("--region", default="eu-west-1", help="where to call Access Analyzer (default eu-west-1)")
    args = parser.parse_args(argv)
    graph = render(stack_config(args.stack), stack=args.stack)
    found = list(documents(graph))
    try:
        client = analyzer or boto3.client("accessanalyzer", region_name=args.region)
        problems = [line for document in found for line in analyse(client, document)]
    except (ClientError, BotoCoreError) as exc:
        print(f"error: cannot call IAM Access Analyzer: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    print(f"stack {args.stack}: {len(found)} policies analysed, {len(problems)} blocking findings")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
