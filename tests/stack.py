"""Render the Pulumi program under Pulumi's mocks and expose the resource graph it registered.

Mocks return realistic outputs only where the program or a test reads them (ARNs, bucket
names, account id, the access-key secret marked secret as the real provider does); everything
else echoes the inputs. Each render builds the stack afresh (new root, new config).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import runpy
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "infra" / "__main__.py"
PROJECT = "learning-images"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
DEFAULT_REGION = "eu-west-1"

# Pulumi's wire sentinel for a secret value: what the engine returns for a provider's secret output.
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    urn: str

    def __getitem__(self, key: str) -> Any:
        return self.inputs[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.inputs.get(key, default)


@dataclass
class Graph:
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    #: output name -> whether Pulumi marks it secret
    secret_outputs: dict[str, bool] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    #: resource name -> names of the resources it explicitly depends on (depends_on)
    depends_on: dict[str, set[str]] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} named {name!r}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Resource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
        return found[0]

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)


#: The graph of the latest render, complete or not.
LAST_GRAPH = Graph()


def _arn_name(args: pulumi.runtime.MockResourceArgs) -> str:
    return str(args.inputs.get("name") or args.inputs.get("bucket") or args.name)


class Mocks(pulumi.runtime.Mocks):
    def __init__(self, graph: Graph, region: str):
        self.graph = graph
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        urn = f"urn:pulumi:{pulumi.get_stack()}::{PROJECT}::{args.typ}::{args.name}"
        self.graph.resources.append(Resource(args.typ, args.name, dict(args.inputs), urn))
        state = dict(args.inputs)
        region = args.inputs.get("region") or self.region
        name = _arn_name(args)
        if args.typ == "aws:s3/bucket:Bucket":
            state.update(bucket=name, arn=f"arn:{PARTITION}:s3:::{name}", region=region)
            return name, state
        if args.typ == "aws:kms/key:Key":
            key_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, args.name))
            state.update(arn=f"arn:{PARTITION}:kms:{region}:{ACCOUNT_ID}:key/{key_id}", key_id=key_id)
            return key_id, state
        if args.typ in ("aws:iam/role:Role", "aws:iam/user:User", "aws:iam/group:Group"):
            kind = args.typ.rsplit(":", 1)[-1].lower()
            path = args.inputs.get("path", "/")
            state.update(
                name=name, arn=f"arn:{PARTITION}:iam::{ACCOUNT_ID}:{kind}{path}{name}", uniqueId=f"AID{name.upper()}"
            )
            return name, state
        if args.typ == "aws:iam/accessKey:AccessKey":
            key_id = "AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, args.name).hex[:16].upper()
            # The provider marks `secret` secret; mocks must say so explicitly.
            state.update(secret={SPECIAL_SIG_KEY: SECRET_SIG, "value": f"mock-secret-{args.name}"})
            return key_id, state
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDDEPLOYER",
                "id": ACCOUNT_ID,
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "id": PARTITION,
                "reverseDnsPrefix": "com.amazonaws",
            }, []
        raise NotImplementedError(f"unmocked invoke {args.token}")


def stack_config(stack: str) -> dict[str, str]:
    """A shipped stack file's config, in Pulumi's flat string form (the CLI is not here to read it)."""
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    return {key: _as_config_string(value) for key, value in (data.get("config") or {}).items()}


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def render(config: Mapping[str, str], *, stack: str = "test", preview: bool = False) -> Graph:
    """Run the program under mocks with ``config`` and return what it registered.

    The graph is also kept in :data:`LAST_GRAPH`, so a test can see what a failed run registered.
    """
    global LAST_GRAPH  # noqa: PLW0603
    graph = LAST_GRAPH = Graph()
    region = config.get("aws:region", DEFAULT_REGION)
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(Mocks(graph, region), project=PROJECT, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(dict(config), [])

    def record_options(args: pulumi.ResourceTransformationArgs) -> None:
        # Mocks never see resource options; a stack transformation does.
        if args.opts is None:
            return
        if args.opts.protect:
            graph.protected.add(args.name)
        depends = args.opts.depends_on
        resources = depends if isinstance(depends, list) else [depends] if depends else []
        graph.depends_on[args.name] = {r._name for r in resources if isinstance(r, pulumi.Resource)}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        pulumi.runtime.register_stack_transformation(record_options)
        runpy.run_path(str(PROGRAM), run_name="__main__")
        stack_resource = pulumi.runtime.settings.get_root_resource()
        exported: dict[str, Any] = dict(getattr(stack_resource, "outputs", {}))

        async def collect() -> None:
            for name, value in exported.items():
                output = pulumi.Output.from_input(value)
                graph.outputs[name] = await output.future()
                graph.secret_outputs[name] = await output.is_secret()

        return asyncio.ensure_future(collect())

    run()
    return graph


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
