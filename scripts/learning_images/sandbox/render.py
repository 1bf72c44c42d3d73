"""Render the Pulumi program offline, under Pulumi's mocks, and expose the resource graph.

No Pulumi CLI and no provider plugin is needed: this runs ``infra/__main__.py`` in-process
with ``pulumi.runtime.set_mocks``. The tests, the benchmark and ``make plan`` use it.
Mocks return realistic outputs only where the program or a reader needs them (ARNs, bucket
names, the account id, the access-key secret marked secret as the real provider does);
everything else echoes the inputs. Each render builds the stack afresh (new root, new config).

What a render cannot show: anything the provider or AWS decides (name availability, API
validation, IAM evaluation). It is the program's intent, exactly as the engine would get it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import runpy
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from learning_images.sandbox.project import EMULATOR_ACCOUNT_ID, PROJECT_NAME, SANDBOX_REGION, project_root


def __getattr__(name: str) -> Path:
    """``ROOT`` (this checkout) and ``PROGRAM`` (its stack program), found when first asked for
    (PEP 562): importing the render outside a checkout, to render one's own program, must work."""
    if name == "ROOT":
        return project_root()
    if name == "PROGRAM":
        return project_root() / "infra" / "__main__.py"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


PROJECT = PROJECT_NAME
ACCOUNT_ID = EMULATOR_ACCOUNT_ID
PARTITION = "aws"
#: The role the deploy workflow assumes; the render deploys as a session of it, and Pulumi.prod.yaml
#: names it among the configuration administrators.
DEPLOY_ROLE = "learning-images-deploy"
DEFAULT_REGION = SANDBOX_REGION
GCP_PROJECT = "learning-images-test"
GCP_PROJECT_NUMBER = "123456789012"

# Pulumi's wire sentinel for a secret value: what the engine returns for a provider's secret output.
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    urn: str
    #: What the mock answered (inputs plus ARNs, ids, names): the placeholders a real
    #: provider would fill in, which the sandbox applier swaps for the emulator's values.
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def __getitem__(self, key: str) -> Any:
        return self.inputs[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.inputs.get(key, default)


@dataclass
class Graph:
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    #: output name -> whether Pulumi marks it secret
    secret_outputs: dict[str, bool] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    #: resource name -> names of the resources it explicitly depends on (depends_on)
    depends_on: dict[str, set[str]] = field(default_factory=dict)
    #: resource name -> its parent's name (resources with a parent other than the stack)
    parents: dict[str, str] = field(default_factory=dict)
    #: resource name -> the aliases it declares
    aliases: dict[str, list[Any]] = field(default_factory=dict)
    #: every resource's URN as the engine forms it (components included): the stack, the project,
    #: the parent chain's types joined by ``$`` and the name. A changed URN is a replaced resource.
    urns: list[str] = field(default_factory=list)

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
        resource_id, state = self._answer(args)
        self.graph.resources.append(Resource(args.typ, args.name, dict(args.inputs), urn, state, resource_id))
        return resource_id, state

    def _answer(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:  # noqa: PLR0911, PLR0912 (one answer per mocked type)
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
        if args.typ == "aws:sqs/queue:Queue":
            # The id of a queue is its URL (the provider's import id), which QueuePolicy's queue_url takes.
            queue_url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{name}"
            state.update(name=name, url=queue_url, arn=f"arn:{PARTITION}:sqs:{region}:{ACCOUNT_ID}:{name}")
            return queue_url, state
        if args.typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state.update(arn=f"arn:{PARTITION}:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{name}")
            return name, state
        if args.typ.startswith("aws:rolesanywhere/"):
            kind = {"trustAnchor:TrustAnchor": "trust-anchor", "profile:Profile": "profile"}[args.typ.split("/", 1)[1]]
            resource_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, args.name))
            state.update(arn=f"arn:{PARTITION}:rolesanywhere:{region}:{ACCOUNT_ID}:{kind}/{resource_id}")
            return resource_id, state
        if args.typ == "cloudflare:index/accountToken:AccountToken":
            token_id = uuid.uuid5(uuid.NAMESPACE_DNS, args.name).hex
            # The provider marks the token value secret; mocks must say so explicitly.
            state.update(value={SPECIAL_SIG_KEY: SECRET_SIG, "value": f"mock-token-value-{args.name}"})
            return token_id, state
        if (answered := _generated_keys(args, state)) is not None:
            return answered
        if args.typ == "random:index/randomPassword:RandomPassword":
            # The provider marks `result` secret; mocks must say so explicitly.
            value = hashlib.sha256(f"mock-password-{args.name}".encode()).hexdigest()[: int(args.inputs["length"])]
            state.update(result={SPECIAL_SIG_KEY: SECRET_SIG, "value": value})
            return f"{args.name}-id", state
        if args.typ == "random:index/randomId:RandomId":
            raw = hashlib.sha256(args.name.encode()).digest()[: int(args.inputs["byteLength"])]
            encoded = base64.b64encode(raw).decode()
            state.update(hex=raw.hex(), b64Std=encoded, b64Url=encoded.replace("+", "-").replace("/", "_").rstrip("="))
            state.update(dec=str(int.from_bytes(raw, "big")))
            return encoded, state
        if args.typ == "cloudflare:index/workersKvNamespace:WorkersKvNamespace":
            return uuid.uuid5(uuid.NAMESPACE_DNS, args.name).hex, state
        if args.typ == "cloudflare:index/queue:Queue":
            queue_id = uuid.uuid5(uuid.NAMESPACE_DNS, args.name).hex
            state.update(queueId=queue_id)
            return queue_id, state
        if args.typ.startswith("cloudflare:index/r2"):
            return f"{args.inputs.get('bucketName') or args.inputs.get('name')}-{args.name}", state
        if args.typ.startswith("gcp:"):
            return self._answer_gcp(args, state)
        if args.typ == "aws:iam/accessKey:AccessKey":
            key_id = "AKIA" + uuid.uuid5(uuid.NAMESPACE_DNS, args.name).hex[:16].upper()
            # The provider marks `secret` secret; mocks must say so explicitly.
            state.update(secret={SPECIAL_SIG_KEY: SECRET_SIG, "value": f"mock-secret-{args.name}"})
            return key_id, state
        return f"{args.name}-id", state

    @staticmethod
    def _answer_gcp(args: pulumi.runtime.MockResourceArgs, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:  # noqa: PLR0911 (one answer per mocked type)
        """Google Cloud resources: ids in Google's resource-name forms, emails, and HMAC keys."""
        inputs = args.inputs
        project = inputs.get("project", GCP_PROJECT)
        if args.typ == "gcp:kms/keyRing:KeyRing":
            ring = f"projects/{project}/locations/{inputs['location']}/keyRings/{inputs['name']}"
            return ring, state
        if args.typ == "gcp:kms/cryptoKey:CryptoKey":
            return f"{inputs['keyRing']}/cryptoKeys/{inputs['name']}", state
        if args.typ == "gcp:serviceaccount/account:Account":
            email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
            state.update(
                email=email, member=f"serviceAccount:{email}", name=f"projects/{project}/serviceAccounts/{email}"
            )
            return state["name"], state
        if args.typ == "gcp:projects/iAMCustomRole:IAMCustomRole":
            state.update(name=f"projects/{project}/roles/{inputs['roleId']}")
            return state["name"], state
        if args.typ == "gcp:storage/hmacKey:HmacKey":
            access_id = "GOOG1E" + hashlib.sha256(args.name.encode()).hexdigest()[:32].upper()
            # The provider marks `secret` secret; mocks must say so explicitly.
            state.update(accessId=access_id, secret={SPECIAL_SIG_KEY: SECRET_SIG, "value": f"mock-hmac-{args.name}"})
            return f"projects/{project}/hmacKeys/{access_id}", state
        if args.typ in ("gcp:pubsub/topic:Topic", "gcp:pubsub/subscription:Subscription"):
            kind = "topics" if args.typ.endswith("Topic") else "subscriptions"
            return f"projects/{project}/{kind}/{inputs['name']}", state
        if args.typ == "gcp:serviceaccount/key:Key":
            # The provider marks `private_key` secret (a base64 JSON key file); mocks must say so.
            key = base64.b64encode(json.dumps({"type": "service_account", "client_email": args.name}).encode())
            state.update(privateKey={SPECIAL_SIG_KEY: SECRET_SIG, "value": key.decode()})
            return f"{inputs['serviceAccountId']}/keys/{args.name}", state
        if args.typ == "gcp:storage/bucket:Bucket":
            state.update(
                url=f"gs://{inputs['name']}", selfLink=f"https://www.googleapis.com/storage/v1/b/{inputs['name']}"
            )
            return str(inputs["name"]), state
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                # The deploy workflow's session (OIDC to AWS_DEPLOY_ROLE_ARN), as a real CI run has it.
                "arn": f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/{DEPLOY_ROLE}/ci-deploy",
                "userId": "AROADEPLOYROLE:ci-deploy",
                "id": ACCOUNT_ID,
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "id": PARTITION,
                "reverseDnsPrefix": "com.amazonaws",
            }, []
        if (
            args.token
            == "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList"
        ):
            name = args.args["name"]
            group = {
                "id": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex,
                "name": name,
                "scopes": ["com.cloudflare.edge.r2.bucket"],
            }
            return {"accountId": args.args.get("accountId"), "name": name, "results": [group]}, []
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            email = f"service-{GCP_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
            return {
                "emailAddress": email,
                "member": f"serviceAccount:{email}",
                "id": email,
                "project": args.args.get("project"),
            }, []
        if args.token == "gcp:organizations/getProject:getProject":
            project = args.args.get("projectId") or GCP_PROJECT
            return {
                "projectId": project,
                "number": GCP_PROJECT_NUMBER,
                "name": project,
                "id": f"projects/{project}",
            }, []
        raise NotImplementedError(f"unmocked invoke {args.token}")


def _generated_keys(args: pulumi.runtime.MockResourceArgs, state: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """What the S3-compatible backends' providers generate (ids, key pairs; secrets marked secret, as
    the providers mark them), or None for another type."""
    if args.typ == "pulumi-python:dynamic:Resource":
        # The project's own dynamic providers (the B2 bucket and keys): B2 assigns the ids and a key's secret.
        resource_id = uuid.uuid5(uuid.NAMESPACE_DNS, args.name).hex[:24]
        if "key_name" in args.inputs:
            secret = hashlib.sha256(f"mock-b2-key-{args.name}".encode()).hexdigest()[:31]
            state.update(application_key_id=resource_id, application_key={SPECIAL_SIG_KEY: SECRET_SIG, "value": secret})
        else:
            state.update(bucket_id=resource_id)
        return resource_id, state
    if args.typ == "digitalocean:index/spacesKey:SpacesKey":
        # DigitalOcean makes the key pair; the provider marks the secret key secret.
        access = "DO" + hashlib.sha256(f"mock-spaces-key-{args.name}".encode()).hexdigest()[:18].upper()
        secret = hashlib.sha256(f"mock-spaces-secret-{args.name}".encode()).hexdigest()[:43]
        state.update(accessKey=access, secretKey={SPECIAL_SIG_KEY: SECRET_SIG, "value": secret})
        return access, state
    if args.typ == "minio:index/iamUser:IamUser":
        # A user's secret key is generated by the server when not given; the provider marks it secret.
        value = hashlib.sha256(f"mock-minio-secret-{args.name}".encode()).hexdigest()[:40]
        state.update(secret={SPECIAL_SIG_KEY: SECRET_SIG, "value": value})
        return str(args.inputs["name"]), state
    return None


def stack_config(stack: str) -> dict[str, str]:
    """A shipped stack file's config, in Pulumi's flat string form (the CLI is not here to read it)."""
    root = project_root()
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        shipped = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name}; shipped stacks: {', '.join(shipped)}")
    data = yaml.safe_load(path.read_text()) or {}
    return {key: _as_config_string(value) for key, value in (data.get("config") or {}).items()}


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def render(
    config: Mapping[str, str],
    *,
    stack: str = "test",
    preview: bool = False,
    program: Path | Callable[[], None] | None = None,
) -> Graph:
    """Run ``program`` (another program's ``__main__.py``, a function that declares resources, or by
    default this checkout's stack program) under mocks with ``config`` and return what it registered.
    Only the default needs a checkout: a user's own program renders from an install.

    The graph is also kept in :data:`LAST_GRAPH`, so a test can see what a failed run registered.
    """
    global LAST_GRAPH  # noqa: PLW0603
    graph = LAST_GRAPH = Graph()
    region = config.get("aws:region", DEFAULT_REGION)
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(Mocks(graph, region), project=PROJECT, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(dict(config), [])

    qualified_types: dict[int, str] = {}

    def record_urn(args: pulumi.ResourceTransformationArgs) -> None:
        # The engine's rule: a child's type is qualified by its parent's (the stack's own is left
        # out). Parents are constructed before their children, so the parent's entry is there.
        parent = args.opts.parent if args.opts is not None else None
        prefix = qualified_types.get(id(parent)) if parent is not None else None
        qualified = f"{prefix}${args.type_}" if prefix else args.type_
        qualified_types[id(args.resource)] = qualified
        graph.urns.append(f"urn:pulumi:{stack}::{PROJECT}::{qualified}::{args.name}")

    def record_options(args: pulumi.ResourceTransformationArgs) -> None:
        # Mocks never see resource options; a stack transformation does.
        record_urn(args)
        if args.opts is None:
            return
        if args.opts.protect:
            graph.protected.add(args.name)
        if args.opts.parent is not None:
            graph.parents[args.name] = args.opts.parent._name
        if args.opts.aliases:
            graph.aliases[args.name] = list(args.opts.aliases)
        depends = args.opts.depends_on
        resources = depends if isinstance(depends, list) else [depends] if depends else []
        graph.depends_on[args.name] = {r._name for r in resources if isinstance(r, pulumi.Resource)}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        pulumi.runtime.register_stack_transformation(record_options)
        if callable(program):
            program()
        else:
            runpy.run_path(str(program or project_root() / "infra" / "__main__.py"), run_name="__main__")
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


def main() -> None:
    """``make plan``: what a stack declares, rendered offline."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="Render a stack offline (no Pulumi CLI, no cloud) and list it.")
    parser.add_argument("--stack", default="dev", help="a shipped stack: Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--policies", action="store_true", help="also print every policy document")
    parser.add_argument(
        "--record-urns", type=Path, metavar="DIR", help="write every shipped stack's URNs to DIR/<stack>.txt and exit"
    )
    args = parser.parse_args()
    if args.record_urns:
        for path in sorted(project_root().glob("Pulumi.*.yaml")):
            name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
            urns = render(stack_config(name), stack=name).urns
            (args.record_urns / f"{name}.txt").write_text("\n".join(sorted(urns)) + "\n")
            print(f"stack {name}: {len(urns)} URNs recorded in {args.record_urns / name}.txt")
        return
    try:
        graph = render(stack_config(args.stack), stack=args.stack)
    except (FileNotFoundError, ValueError) as exc:  # the program's SettingsError is a ValueError
        raise SystemExit(f"error: {exc}") from None
    print(
        f"stack {args.stack}: {len(graph.resources)} resources, rendered offline under Pulumi mocks "
        "(names, ARNs and the account id are placeholders the real engine fills in)"
    )
    for resource in graph:
        flag = "  [protected]" if resource.name in graph.protected else ""
        print(f"  {resource.type:<80} {resource.name}{flag}")
    print("outputs (secrets shown as [secret]):")
    for name, value in graph.outputs.items():
        shown = "[secret]" if graph.secret_outputs.get(name) else json.dumps(value)
        print(f"  {name}: {shown}")
    if args.policies:
        for resource in graph:
            for field in ("policy", "assumeRolePolicy"):
                if field in resource.inputs:
                    print(f"\n# {resource.name} ({field})")
                    print(json.dumps(json.loads(resource.inputs[field]), indent=2))


if __name__ == "__main__":
    main()
