"""The local store: the `local` stack in an enforcing local S3 on 127.0.0.1, for the sandbox, the
stand-ins built on it (``r2``, ``gcs``, ``certificates``) and the operations' tests.

1. Start the enforcing local S3 (``learning_images.sandbox.front``): moto behind a front that
   authenticates each request's SigV4 signature against the emulator's IAM and judges it with
   the independent IAM evaluator, over HTTPS (a certificate made at start) and plain HTTP.
2. Provision the `local` stack into it, the same program as ``dev``, bucket policy included:
   with the real engine when the `pulumi` CLI can provision, otherwise by applying the program's
   resource graph, rendered under Pulumi's mocks, through boto3 (:func:`apply_graph`).

What it cannot hold is reported, not hidden (:data:`NOT_LOCAL`). The flow that verifies it and
the command line are ``learning_images.sandbox.sandbox``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from learning_images.sandbox.front import ROLES_ANYWHERE_REGISTRY, serve_logged
from learning_images.sandbox.gateway import LocalGateway
from learning_images.sandbox.project import EMULATOR_ACCOUNT_ID, SANDBOX_REGION
from learning_images.sandbox.render import ROOT, Graph, Resource, render, stack_config

STACK = "local"
REGION = SANDBOX_REGION
#: The identity that provisions and then runs the verification (it assumes the tier roles).
OPERATOR = "sandbox-operator"
ACCOUNT_ID = EMULATOR_ACCOUNT_ID
BOOTSTRAP_KEY = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}


# --- the emulator ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Emulator:
    """The enforcing local S3 (``learning_images.sandbox.front``): moto behind IAM evaluation."""

    url: str  # HTTPS
    plain_url: str  # plain HTTP, where the bucket policy (not a missing listener) refuses
    ca_bundle: Path


#: Fronts a command starts and stops (not ``up``'s, which outlive it) fork from one server that has
#: loaded the front, moto and its service models once (``learning_images.sandbox.front_preload``):
#: a test run starts about 60 fronts, each of which spent about 1.5 s of CPU importing and loading
#: before it served (py-spy). A fork server, not a fork of this process: its threads and state
#: are not the front's to inherit.
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["learning_images.sandbox.front_preload"])


class _Forked:
    """A forked front, answering as the ``subprocess.Popen`` its callers stop."""

    def __init__(self, process: Any) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        return int(self._process.pid)

    def poll(self) -> int | None:
        code: int | None = self._process.exitcode
        return code

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("learning_images.sandbox.front", timeout or 0)
        return int(self._process.exitcode)


def start_front(
    workdir: Path,
    *,
    detached: bool = False,
    enforce: bool = True,
    semantics: str = "s3",
    startup_timeout: float = 60.0,
) -> tuple[Any, Emulator]:
    """Start the front in its own process on 127.0.0.1 and wait until it serves. ``detached``:
    a command of its own in its own session, so it outlives this command (``up``); otherwise
    forked from the fork server. ``semantics``: whose questions it judges requests by
    (``learning_images.sandbox.front.SEMANTICS``)."""
    workdir = workdir.resolve()  # the CA path goes into env files read from anywhere
    ready = workdir / "front.json"
    ready.unlink(missing_ok=True)
    argv = [
        "--certificate-dir",
        str(workdir / "tls"),
        "--ready-file",
        str(ready),
        *([] if enforce else ["--pass-through"]),
        "--semantics",
        semantics,
    ]
    process: Any
    if detached:
        with (workdir / "front.log").open("w") as log:
            process = subprocess.Popen(  # noqa: S603 (fixed argv)
                [sys.executable, "-m", "learning_images.sandbox.front", *argv],
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
    else:
        forked = _FORKS.Process(target=serve_logged, args=(argv, str(workdir / "front.log")), daemon=True)
        forked.start()
        process = _Forked(forked)
    deadline = time.monotonic() + startup_timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"error: the local S3 did not start:\n{(workdir / 'front.log').read_text()[-2000:]}")
        time.sleep(0.05)
    found = json.loads(ready.read_text())
    return process, Emulator(found["https"], found["http"], Path(found["ca_bundle"]))


@contextmanager
def enforcing_s3(workdir: Path, *, enforce: bool = True, semantics: str = "s3") -> Iterator[Emulator]:
    """The enforcing local S3 for the block, stopped whatever happens. While it runs,
    ``AWS_CA_BUNDLE`` names its certificate authority, so every boto3 client of this process
    (and of commands it starts) trusts it."""
    process, emulator = start_front(workdir, enforce=enforce, semantics=semantics)
    previous = os.environ.get("AWS_CA_BUNDLE")
    os.environ["AWS_CA_BUNDLE"] = str(emulator.ca_bundle)
    try:
        yield emulator
    finally:
        if previous is None:
            os.environ.pop("AWS_CA_BUNDLE", None)
        else:
            os.environ["AWS_CA_BUNDLE"] = previous
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def client(url: str, service: str, **credentials: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION, **(credentials or BOOTSTRAP_KEY))


def create_operator(url: str) -> dict[str, str]:
    """The sandbox's administrator: provisions, reads configuration back, assumes the tier roles.
    (IAM calls are the operator's administration: the front does not judge them.)"""
    iam = client(url, "iam")
    iam.create_user(UserName=OPERATOR)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName=OPERATOR, PolicyName="sandbox-administrator", PolicyDocument=json.dumps(admin))
    key = iam.create_access_key(UserName=OPERATOR)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


# --- provisioning without the CLI: apply the rendered graph ------------------------------------


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A rendered (camelCase) lifecycle rule in the S3 API's shape."""
    tag = (rule.get("filter") or {}).get("tag")
    out: dict[str, Any] = {
        "ID": rule["id"],
        "Status": rule["status"],
        "Filter": {"Tag": {"Key": tag["key"], "Value": tag["value"]}} if tag else {"Prefix": ""},
    }
    if transitions := rule.get("transitions"):
        out["Transitions"] = [{"Days": int(t["days"]), "StorageClass": t["storageClass"]} for t in transitions]
    if expiration := rule.get("expiration"):
        out["Expiration"] = (
            {"Days": int(expiration["days"])} if "days" in expiration else {"ExpiredObjectDeleteMarker": True}
        )
    if noncurrent := rule.get("noncurrentVersionExpiration"):
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["noncurrentDays"])}
    if abort := rule.get("abortIncompleteMultipartUpload"):
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort["daysAfterInitiation"])}
    return out


def _tags(values: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (values or {}).items()]


def apply_graph(graph: Graph, url: str, operator: dict[str, str]) -> dict[str, Any]:
    """Create the rendered resources in the emulator, in registration order (dependencies
    first), and return the stack outputs with the mock placeholders swapped for real values.

    Confined to the resource types the program declares; any other type stops the sandbox.
    """
    # As the operator: every S3 request is judged, and a bucket's policy binds it once applied.
    s3, iam, kms = client(url, "s3", **operator), client(url, "iam", **operator), client(url, "kms", **operator)
    sqs, cloudwatch = client(url, "sqs", **operator), client(url, "cloudwatch", **operator)
    real: dict[str, str] = {}  # mock placeholder -> the emulator's value

    def swap(value: Any) -> Any:
        text = json.dumps(value)
        for placeholder, actual in real.items():
            text = text.replace(placeholder, actual)
        return json.loads(text)

    def kms_key(r: Resource, i: dict[str, Any]) -> None:
        key = kms.create_key(
            Description=i.get("description", ""),
            Policy=i["policy"],
            Tags=[{"TagKey": k, "TagValue": v} for k, v in i.get("tags", {}).items()],
        )["KeyMetadata"]
        kms.enable_key_rotation(KeyId=key["KeyId"])
        real[r.outputs["arn"]] = key["Arn"]

    def access_key(r: Resource, i: dict[str, Any]) -> None:
        key = iam.create_access_key(UserName=i["user"])["AccessKey"]
        real[r.id] = key["AccessKeyId"]
        real[r.outputs["secret"]["value"]] = key["SecretAccessKey"]

    def queue(r: Resource, i: dict[str, Any]) -> None:
        attributes = {
            "KmsMasterKeyId": i["kmsMasterKeyId"],
            "MessageRetentionPeriod": str(int(i["messageRetentionSeconds"])),
            **({"RedrivePolicy": i["redrivePolicy"]} if "redrivePolicy" in i else {}),
            **{
                name: str(int(i[key]))
                for key, name in (
                    ("visibilityTimeoutSeconds", "VisibilityTimeout"),
                    ("receiveWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds"),
                    ("kmsDataKeyReusePeriodSeconds", "KmsDataKeyReusePeriodSeconds"),
                )
                if key in i
            },
        }
        made = sqs.create_queue(QueueName=r.outputs["name"], Attributes=attributes, tags=i.get("tags") or {})
        arn = sqs.get_queue_attributes(QueueUrl=made["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]
        real[r.outputs["url"]] = made["QueueUrl"]
        real[r.outputs["arn"]] = arn["QueueArn"]

    def roles_anywhere(document: dict[str, Any]) -> None:
        """Register a trust anchor or profile with the front's Roles Anywhere stand-in."""
        request = urllib.request.Request(  # noqa: S310 (the sandbox's own front on 127.0.0.1)
            url + ROLES_ANYWHERE_REGISTRY, data=json.dumps(document).encode(), method="PUT"
        )
        context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
        with urllib.request.urlopen(request, context=context, timeout=30):  # noqa: S310
            pass

    handlers: dict[str, Callable[[Resource, dict[str, Any]], object]] = {
        "learning-images:index:LearningImageStore": lambda r, i: None,  # a component: nothing to create
        "aws:rolesanywhere/trustAnchor:TrustAnchor": lambda r, i: roles_anywhere(
            {"trust_anchors": {r.outputs["arn"]: i["source"]["sourceData"]["x509CertificateData"]}}
        ),
        "aws:rolesanywhere/profile:Profile": lambda r, i: roles_anywhere(
            {"profiles": {r.outputs["arn"]: {"role_arns": i["roleArns"], "duration_seconds": i["durationSeconds"]}}}
        ),
        "aws:kms/key:Key": kms_key,
        "aws:s3/bucket:Bucket": lambda r, i: s3.create_bucket(
            Bucket=r.outputs["bucket"], CreateBucketConfiguration={"LocationConstraint": i.get("region") or REGION}
        ),
        "aws:s3/bucketVersioning:BucketVersioning": lambda r, i: s3.put_bucket_versioning(
            Bucket=i["bucket"], VersioningConfiguration={"Status": i["versioningConfiguration"]["status"]}
        ),
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": lambda r, i: s3.put_bucket_ownership_controls(
            Bucket=i["bucket"], OwnershipControls={"Rules": [{"ObjectOwnership": i["rule"]["objectOwnership"]}]}
        ),
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": lambda r, i: s3.put_public_access_block(
            Bucket=i["bucket"],
            PublicAccessBlockConfiguration={
                k[0].upper() + k[1:]: i[k]
                for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            },
        ),
        # moto does not model SSE-C blocking (blockedEncryptionTypes); the default key is what it checks.
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": lambda r, i: (
            s3.put_bucket_encryption(
                Bucket=i["bucket"],
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"],
                                **(
                                    {"KMSMasterKeyID": rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]}
                                    if "kmsMasterKeyId" in rule["applyServerSideEncryptionByDefault"]
                                    else {}
                                ),
                            },
                            "BucketKeyEnabled": rule.get("bucketKeyEnabled", False),
                        }
                        for rule in i["rules"]
                    ]
                },
            )
        ),
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": lambda r, i: (
            s3.put_bucket_lifecycle_configuration(
                Bucket=i["bucket"], LifecycleConfiguration={"Rules": [_lifecycle_rule(rule) for rule in i["rules"]]}
            )
        ),
        "aws:s3/bucketPolicy:BucketPolicy": lambda r, i: s3.put_bucket_policy(Bucket=i["bucket"], Policy=i["policy"]),
        "aws:iam/role:Role": lambda r, i: iam.create_role(
            RoleName=r.outputs["name"],
            Path=i.get("path", "/"),
            AssumeRolePolicyDocument=i["assumeRolePolicy"],
            Description=i.get("description", ""),
            Tags=_tags(i.get("tags")),
        ),
        "aws:iam/rolePolicy:RolePolicy": lambda r, i: iam.put_role_policy(
            RoleName=i["role"], PolicyName=r.name, PolicyDocument=i["policy"]
        ),
        "aws:iam/group:Group": lambda r, i: iam.create_group(GroupName=r.outputs["name"], Path=i.get("path", "/")),
        "aws:iam/groupPolicy:GroupPolicy": lambda r, i: iam.put_group_policy(
            GroupName=i["group"], PolicyName=r.name, PolicyDocument=i["policy"]
        ),
        "aws:iam/user:User": lambda r, i: iam.create_user(
            UserName=r.outputs["name"], Path=i.get("path", "/"), Tags=_tags(i.get("tags"))
        ),
        "aws:iam/accessKey:AccessKey": access_key,
        "aws:sqs/queue:Queue": queue,
        "aws:sqs/queuePolicy:QueuePolicy": lambda r, i: sqs.set_queue_attributes(
            QueueUrl=i["queueUrl"], Attributes={"Policy": i["policy"]}
        ),
        "aws:s3/bucketNotification:BucketNotification": lambda r, i: s3.put_bucket_notification_configuration(
            Bucket=i["bucket"],
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": q["queueArn"], "Events": q["events"]} for q in i["queues"]]
            },
        ),
        "aws:cloudwatch/metricAlarm:MetricAlarm": lambda r, i: cloudwatch.put_metric_alarm(
            AlarmName=r.name,
            AlarmDescription=i.get("alarmDescription", ""),
            Namespace=i["namespace"],
            MetricName=i["metricName"],
            Dimensions=[{"Name": k, "Value": v} for k, v in i.get("dimensions", {}).items()],
            Statistic=i["statistic"],
            Period=int(i["period"]),
            EvaluationPeriods=int(i["evaluationPeriods"]),
            Threshold=float(i["threshold"]),
            ComparisonOperator=i["comparisonOperator"],
            TreatMissingData=i.get("treatMissingData", "missing"),
            AlarmActions=i.get("alarmActions", []),
            OKActions=i.get("okActions", []),
        ),
        "aws:iam/groupMembership:GroupMembership": lambda r, i: [
            iam.add_user_to_group(GroupName=i["group"], UserName=u) for u in i["users"]
        ],
    }
    for resource in graph:
        handler = handlers.get(resource.type)
        if handler is None:
            raise SystemExit(
                f"error: the sandbox applier does not know {resource.type} ({resource.urn}); teach it in {__name__}"
            )
        handler(resource, swap(resource.inputs))
    outputs: dict[str, Any] = swap(graph.outputs)
    return outputs


# --- provisioning with the real engine ---------------------------------------------------------


class EngineUnavailableError(RuntimeError):
    """The Pulumi engine could not provision (no provider plugin, no login, no network)."""


def provision_with_pulumi(pulumi: str, url: str, operator: dict[str, str], workdir: Path) -> dict[str, Any]:
    """`pulumi up` of the local stack against the emulator, as the operator, state in a
    throw-away local backend."""
    config = workdir / "Pulumi.local.yaml"
    shutil.copy(ROOT / "Pulumi.local.yaml", config)
    env = {**os.environ, "PULUMI_CONFIG_PASSPHRASE": "sandbox", "PULUMI_BACKEND_URL": f"file://{workdir}"}

    def run(*args: str) -> str:
        result = subprocess.run([pulumi, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()
            raise EngineUnavailableError(f"pulumi {args[0]} failed: {last[-1] if last else 'no output'}")
        return result.stdout

    run("stack", "select", "--create", STACK)
    settings = {
        "aws:accessKey": operator["aws_access_key_id"],
        "aws:secretKey": operator["aws_secret_access_key"],
        **{f"aws:endpoints[0].{service}": url for service in ("s3", "iam", "sts", "kms")},
    }
    for key, value in settings.items():
        run("config", "set", "--path", key, value, "--config-file", str(config))
    run("up", "--yes", "--skip-preview", "--stack", STACK, "--config-file", str(config))
    outputs: dict[str, Any] = json.loads(run("stack", "output", "--json", "--show-secrets", "--stack", STACK))
    return outputs


# --- the sandbox run ---------------------------------------------------------------------------


#: How the local stack is provisioned: the Pulumi engine, the built-in applier, or the engine when
#: it can (falling back to the applier with a one-line note).
ENGINES = ("auto", "pulumi", "applier")


def provision(
    url: str,
    operator: dict[str, str],
    workdir: Path,
    *,
    engine: str = "applier",
    config: Mapping[str, str] | None = None,
    base_of: str | None = None,
) -> dict[str, Any]:
    """Provision the local stack, saying first which way (the sandbox's first line). ``base_of``
    names the stack whose stand-in builds on it (so the first line does not claim another stack)."""
    what = f"stack `{STACK}` as the base of the `{base_of}` stand-in" if base_of else f"stack `{STACK}`"
    pulumi = shutil.which("pulumi") if engine in ("auto", "pulumi") else None
    if engine == "pulumi" and pulumi is None:
        raise SystemExit("error: --engine pulumi, but no `pulumi` CLI is on PATH (use --engine applier)")
    if pulumi:
        print(f"sandbox: enforcing local S3 at {url}; provisioning {what} with the Pulumi engine", flush=True)
        try:
            return provision_with_pulumi(pulumi, url, operator, workdir)
        except EngineUnavailableError as exc:
            if engine == "pulumi":
                raise SystemExit(f"error: {exc}") from None
            print(f"sandbox: the Pulumi engine cannot provision here ({exc}); using the built-in applier", flush=True)
    print(
        f"sandbox: enforcing local S3 at {url}; provisioning {what} with the built-in applier "
        "(the program's resource graph, rendered under Pulumi's mocks, applied through boto3)",
        flush=True,
    )
    return apply_graph(render(config or stack_config(STACK), stack=STACK), url, operator)


#: A test's look at the emulator: its URL, the stack outputs, the operator's credentials.
Hook = Callable[[str, dict[str, Any], dict[str, str]], None]

#: What the sandbox cannot hold, said in its report (each is SKIP with its reason, never PASS).
NOT_LOCAL = (
    "replication (no second region)",
    "Object Lock retention and the GOVERNANCE bypass",
    "lifecycle execution (rules are read back, not run)",
    "KMS cryptography (moto's keys and key policies are evaluated, its encryption is not AWS's)",
    "S3's delivery to the queue (moto delivers its events inside the emulator: neither the queue policy "
    "nor the queue key is asked, so only the offline IAM evaluation proves S3 may send)",
    "IAM and KMS API calls are the operator's administration and are not judged",
    "IAM Roles Anywhere is stood in for (CreateSession checks the certificate's CA, its signature and the city "
    "role's trust policy, and tags the session with the CN; no CRLs)",
)


@dataclass(frozen=True)
class LocalStore:
    """The local stack, provisioned in the enforcing local S3."""

    url: str
    outputs: dict[str, Any]
    operator: dict[str, str]
    outputs_file: Path
    plain_url: str
    ca_bundle: Path
    #: The R2 sandbox's upload gateway, where it runs one (``learning_images.sandbox.r2``).
    gateway: LocalGateway | None = None

    @property
    def learning_store(self) -> Path:
        """The sandbox's learning store: the SQLite file beside its outputs that its receiver writes."""
        return self.outputs_file.parent / "learning_samples.db"


@contextmanager
def local_store(
    *,
    engine: str = "applier",
    tamper: Hook | None = None,
    enforce: bool = True,
    config: Mapping[str, str] | None = None,
    base_of: str | None = None,
    semantics: str = "s3",
) -> Iterator[LocalStore]:
    """The enforcing local S3 with the local stack applied; the operational scripts' test bed too.
    ``tamper`` may change the provisioned stack (or its outputs) before it is used; ``config``
    replaces the local stack's (applied by the applier); ``semantics``: whose questions the front asks."""
    with (
        tempfile.TemporaryDirectory(prefix="sandbox-") as tmp,
        enforcing_s3(Path(tmp), enforce=enforce, semantics=semantics) as emulator,
    ):
        operator = create_operator(emulator.url)
        outputs = provision(
            emulator.url, operator, Path(tmp), engine="applier" if config else engine, config=config, base_of=base_of
        )
        if tamper:
            tamper(emulator.url, outputs, operator)
        outputs_file = Path(tmp) / "outputs.json"
        outputs_file.write_text(json.dumps(outputs))
        yield LocalStore(emulator.url, outputs, operator, outputs_file, emulator.plain_url, emulator.ca_bundle)
