"""Requests and principals for the IAM evaluation, generated from the contract and a rendered stack.

The compliant uploads are the project's own: the requests ``learning_images.ops.upload_batch`` and
``learning_images.verify`` really send, captured from botocore just before they would leave
(``before-send``). Every violation is one change to such a request, so a guard that refuses the
project's own clients fails a test. Reads, deletes and tag rewrites are botocore requests too,
one per operation the contract's tiers name.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from learning_images import contract
from learning_images.backends import BackendProfile
from learning_images.sandbox import s3_authorization
from learning_images.sandbox.iam_simulator import Check, Decision, Evaluator, Policy, Principal, simulation
from learning_images.sandbox.s3_authorization import HttpRequest
from tests.support.stack import Graph, Resource, policy_of

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "999999999999"
KEY = "0f8fad5b-d9cb-469f-a165-70867728950e.jpg"
JPEG = b"\xff\xd8\xff\xe0scenario-image\xff\xd9"
ADMIN_POLICY: Policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class Captured(Exception):  # noqa: N818 (a signal, not an error)
    """Raised from botocore's ``before-send`` with the request that was about to leave."""

    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


@functools.cache
def capturing_client(region: str) -> Any:
    """An S3 client whose requests stop before they are sent (:func:`capture`). One per region:
    a boto3 client costs about 25 ms to build, and the IAM tests capture some 400 requests; a
    capture leaves the client as it was."""
    client = boto3.client(
        "s3", region_name=region, aws_access_key_id="AKIASCENARIO", aws_secret_access_key="scenario-secret"
    )

    def stop(request: Any, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", stop)
    return client


def capture(call: Callable[[], object]) -> HttpRequest:
    try:
        call()
    except Captured as sent:
        return HttpRequest.from_prepared(sent.request)
    raise AssertionError("the call sent no request")


# --- the store, as the rendered graph says -------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """What the evaluation needs of one rendered AWS stack."""

    stack: str
    graph: Graph
    region: str
    bucket: str
    bucket_arn: str
    key_arn: str
    bucket_policy: Policy
    key_policy: Policy
    principals: dict[str, Principal]
    city_ids: tuple[str, ...]
    administrators: bool
    profile: BackendProfile

    def resource_policy(self, check: Check) -> Policy | None:
        if check.action.startswith("kms:"):
            return self.key_policy
        if check.resource == self.bucket_arn or check.resource.startswith(self.bucket_arn + "/"):
            return self.bucket_policy
        return None


def _inline_policies(graph: Graph, type_: str, attribute: str, name: str) -> tuple[tuple[str, Policy], ...]:
    return tuple((r.name, policy_of(r)) for r in graph.of_type(type_) if r.get(attribute) == name)


def _user(graph: Graph, resource: Resource) -> Principal:
    group = graph.one("aws:iam/group:Group")
    members = graph.one("aws:iam/groupMembership:GroupMembership")
    grouped = resource.outputs["name"] in members["users"]
    policies = _inline_policies(graph, "aws:iam/groupPolicy:GroupPolicy", "group", group.outputs["name"])
    return Principal(
        name=f"city {resource.inputs['tags'][contract.CITY_ID]}",
        arn=resource.outputs["arn"],
        principal_arn=resource.outputs["arn"],
        account=ACCOUNT,
        tags=dict(resource.inputs.get("tags") or {}),
        identity_policies=policies if grouped else (),
    )


def _role_session(graph: Graph, name: str, label: str) -> Principal:
    role = graph.named(name)
    return Principal(
        name=label,
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.outputs['name']}/scenario",
        principal_arn=role.outputs["arn"],
        account=ACCOUNT,
        tags=dict(role.inputs.get("tags") or {}),
        identity_policies=_inline_policies(graph, "aws:iam/rolePolicy:RolePolicy", "role", role.outputs["name"]),
    )


#: The cities of a certificate stack: certificates its CA issued, each with the city id as its CN.
CERTIFICATE_CITIES = ("nyc", "paris", contract.PROBE_CITY_ID)


def _certificate_session(graph: Graph, city: str) -> Principal:
    """A city's IAM Roles Anywhere session: the city role, with the certificate's subject and issuer
    as principal tags (IAM Roles Anywhere User Guide, "Trust model")."""
    role = graph.named("city-role")
    return Principal(
        name=f"city {city} (certificate session)",
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.outputs['name']}/{city}-certificate-serial",
        principal_arn=role.outputs["arn"],
        account=ACCOUNT,
        tags={contract.CITY_CERTIFICATE_TAG: city, "x509Issuer/CN": "cities-ca"},
        identity_policies=_inline_policies(graph, "aws:iam/rolePolicy:RolePolicy", "role", role.outputs["name"]),
    )


def store_of(stack: str, graph: Graph) -> Store:
    outputs = graph.outputs
    city_users = [u for u in graph.of_type("aws:iam/user:User") if contract.CITY_ID in (u.inputs.get("tags") or {})]
    cities = {u.inputs["tags"][contract.CITY_ID]: _user(graph, u) for u in city_users}
    if graph.of_type("aws:rolesanywhere/trustAnchor:TrustAnchor"):
        cities = {city: _certificate_session(graph, city) for city in CERTIFICATE_CITIES}
    some_city = next(iter(cities.values()))
    principals: dict[str, Principal] = {f"city:{city}": p for city, p in cities.items()}
    principals.update(
        {
            "command-centre": _role_session(graph, "command-centre-role", "the Command Centre"),
            "training": _role_session(graph, "training-role", "the training pipeline"),
            # A city user whose city_id tag is missing (a mistake, or a tag removed later), or a
            # certificate session whose certificate has no subject CN.
            "untagged-city": replace(
                some_city, name="a city principal without the tag naming its city", arn=f"{some_city.arn}-x", tags={}
            ),
            "account-admin": Principal(
                "an account administrator (AdministratorAccess)",
                f"arn:aws:iam::{ACCOUNT}:user/administrator",
                f"arn:aws:iam::{ACCOUNT}:user/administrator",
                ACCOUNT,
                identity_policies=(("AdministratorAccess", ADMIN_POLICY),),
            ),
            # The render's deploying identity (scripts/learning_images/sandbox/render.py mocks getCallerIdentity so).
            "deployer": Principal(
                "the deploy workflow's role session",
                f"arn:aws:sts::{ACCOUNT}:assumed-role/learning-images-deploy/ci-deploy",
                f"arn:aws:iam::{ACCOUNT}:role/learning-images-deploy",
                ACCOUNT,
                identity_policies=(("AdministratorAccess", ADMIN_POLICY),),
            ),
            # prod's second configuration administrator, for when the deploy role is broken.
            "break-glass": Principal(
                "the break-glass role",
                f"arn:aws:sts::{ACCOUNT}:assumed-role/learning-images-break-glass/incident",
                f"arn:aws:iam::{ACCOUNT}:role/learning-images-break-glass",
                ACCOUNT,
                identity_policies=(("AdministratorAccess", ADMIN_POLICY),),
            ),
            # The root user may do anything in its account unless an explicit Deny says otherwise
            # (IAM User Guide, "AWS account root user"); the evaluator needs that as a policy.
            "root": Principal(
                "the account root",
                f"arn:aws:iam::{ACCOUNT}:root",
                f"arn:aws:iam::{ACCOUNT}:root",
                ACCOUNT,
                identity_policies=(("RootUserImplicitAccess", ADMIN_POLICY),),
            ),
            "other-account": Principal(
                "an administrator of another account",
                f"arn:aws:iam::{OTHER_ACCOUNT}:user/administrator",
                f"arn:aws:iam::{OTHER_ACCOUNT}:user/administrator",
                OTHER_ACCOUNT,
                identity_policies=(("AdministratorAccess", ADMIN_POLICY),),
            ),
            "anonymous": Principal("an anonymous caller", None),
        }
    )
    key = graph.named("store-key")
    return Store(
        stack=stack,
        graph=graph,
        region=str(outputs["region"]),
        bucket=str(outputs["bucket_name"]),
        bucket_arn=str(outputs["bucket_arn"]),
        key_arn=key.outputs["arn"],
        bucket_policy=policy_of(graph.named("learning-images-policy")),
        key_policy=policy_of(key),
        principals=principals,
        city_ids=tuple(cities),
        profile=BackendProfile.model_validate(outputs["capabilities"]),
        administrators=any(
            s.get("Sid") == "DenyConfigurationChangeExceptAdministrators"
            for s in policy_of(graph.named("learning-images-policy"))["Statement"]
        ),
    )


# --- the project's own requests --------------------------------------------------------------------


def uploader_request(store: Store, city_id: str, label: contract.Label, key: str = KEY) -> HttpRequest:
    """The request ``learning_images.ops.upload_batch`` sends for one sample."""
    from learning_images.ops.clients import Endpoint  # noqa: PLC0415 (client code, imported where used)
    from learning_images.ops.manifest import Sample  # noqa: PLC0415
    from learning_images.ops.upload_batch import Options, Target, Uploader  # noqa: PLC0415

    target = Target(store.bucket, store.profile, Endpoint(None, store.region, 5.0))
    options = Options(
        city_id=city_id,
        images=Path("."),
        uploaded_at="2026-11-25T03:00:00Z",
        min_quality=None,
        multipart_threshold=contract.MAX_SINGLE_PUT_BYTES,
    )
    uploader = Uploader(capturing_client(store.region), target, options)
    sample = Sample(
        image="cam-1/evt-1.jpg",
        camera_id="cam-1",
        event_id="evt-1",
        label_status=label,
        captured_at=datetime(2026, 11, 24, 17, 4, 5, tzinfo=UTC),
        quality=0.9,
    )
    return capture(lambda: uploader.put(key, JPEG, sample, "ab" * 32))


def verifier_request(store: Store) -> HttpRequest:
    """The compliant upload the verifier (``learning_images.verify``) probes with (as the probe city)."""
    from learning_images.verify.verifier import Verifier  # noqa: PLC0415

    verifier = Verifier.__new__(Verifier)
    verifier.outputs = _StackOutputsView(store.bucket, store.profile)  # type: ignore[assignment]
    verifier.created = []
    verifier.state_dir = None
    client = capturing_client(store.region)
    verifier.s3 = {"city": client}
    return capture(lambda: verifier.put("city", KEY))


@dataclass(frozen=True)
class _StackOutputsView:
    """The outputs ``Verifier.put`` reads."""

    bucket_name: str
    capabilities: BackendProfile


def operation_request(store: Store, operation: str, key: str = KEY) -> HttpRequest:
    """A botocore request for each contract operation (``contract.OPERATION_ACTIONS``) and the
    other calls the scenarios need."""
    s3 = capturing_client(store.region)
    b = store.bucket
    calls: dict[str, Callable[[], object]] = {
        "GetObject": lambda: s3.get_object(Bucket=b, Key=key),
        "HeadObject": lambda: s3.head_object(Bucket=b, Key=key),
        "GetObjectVersion": lambda: s3.get_object(Bucket=b, Key=key, VersionId="v1"),
        "GetObjectTagging": lambda: s3.get_object_tagging(Bucket=b, Key=key),
        "ListObjectsV2": lambda: s3.list_objects_v2(Bucket=b),
        "ListObjectVersions": lambda: s3.list_object_versions(Bucket=b),
        "DeleteObject": lambda: s3.delete_object(Bucket=b, Key=key),
        "DeleteObjectVersion": lambda: s3.delete_object(Bucket=b, Key=key, VersionId="v1"),
        "EraseLockedVersion": lambda: s3.delete_object(
            Bucket=b, Key=key, VersionId="v1", BypassGovernanceRetention=True
        ),
        "PutObjectTagging": lambda: s3.put_object_tagging(
            Bucket=b, Key=key, Tagging={"TagSet": [{"Key": contract.LABEL_STATUS, "Value": "changed"}]}
        ),
        "PutObjectVersionTagging": lambda: s3.put_object_tagging(
            Bucket=b, Key=key, VersionId="v1", Tagging={"TagSet": [{"Key": contract.LABEL_STATUS, "Value": "changed"}]}
        ),
        "DeleteObjectTagging": lambda: s3.delete_object_tagging(Bucket=b, Key=key),
        "PutObjectRetention": lambda: s3.put_object_retention(
            Bucket=b, Key=key, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": datetime(2099, 1, 1, tzinfo=UTC)}
        ),
        "PutObjectLegalHold": lambda: s3.put_object_legal_hold(Bucket=b, Key=key, LegalHold={"Status": "ON"}),
        "CreateMultipartUpload": lambda: s3.create_multipart_upload(
            Bucket=b, Key=key, Tagging="city_id=x", ContentType=contract.OBJECT_CONTENT_TYPE
        ),
        "UploadPart": lambda: s3.upload_part(Bucket=b, Key=key, UploadId="u", PartNumber=1, Body=JPEG),
        "CompleteMultipartUpload": lambda: s3.complete_multipart_upload(
            Bucket=b,
            Key=key,
            UploadId="u",
            IfNoneMatch="*",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": "e"}]},
        ),
        "PutBucketPolicy": lambda: s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17"})),
        "DeleteBucketPolicy": lambda: s3.delete_bucket_policy(Bucket=b),
        "PutBucketLifecycleConfiguration": lambda: s3.put_bucket_lifecycle_configuration(
            Bucket=b, LifecycleConfiguration={"Rules": []}
        ),
        "PutBucketVersioning": lambda: s3.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={"Status": "Suspended"}
        ),
        "DeleteBucket": lambda: s3.delete_bucket(Bucket=b),
    }
    return capture(calls[operation])


# --- changing one thing about a request ----------------------------------------------------------


def with_headers(request: HttpRequest, **changes: str | None) -> HttpRequest:
    """``request`` with headers set (or removed with None); names use ``_`` for ``-``."""
    headers = dict(request.headers)
    for name, value in changes.items():
        header = name.replace("_", "-").lower()
        if value is None:
            headers.pop(header, None)
        else:
            headers[header] = value
    return replace(request, headers=headers)


def tags_of(request: HttpRequest) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(request.header("x-amz-tagging") or "", keep_blank_values=True))


def with_tags(request: HttpRequest, tags: Mapping[str, str]) -> HttpRequest:
    return with_headers(request, x_amz_tagging=urllib.parse.urlencode(dict(tags)))


def with_key(request: HttpRequest, key: str) -> HttpRequest:
    return replace(request, key=key)


# --- scenarios and their evaluation ----------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    principal: str
    request: HttpRequest
    allowed: bool
    #: Tags the target object already carries (a stored object), for s3:ExistingObjectTag.
    existing_tags: Mapping[str, str] | None = None
    extra_checks: tuple[tuple[Check, Policy | None], ...] = field(default=())


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    decisions: tuple[tuple[Check, Decision], ...]

    @property
    def allowed(self) -> bool:
        return all(decision.allowed for _, decision in self.decisions)

    def explain(self, stack: str) -> str:
        expected = "allowed" if self.scenario.allowed else "refused"
        got = "allowed" if self.allowed else "refused"
        lines = [
            f"stack {stack}, scenario '{self.scenario.name}' ({self.scenario.principal}): expected {expected}, {got}"
        ]
        lines += [f"    {check.action} on {check.resource}: {decision}" for check, decision in self.decisions]
        return "\n".join(lines)


def evaluate(simulator: Evaluator, store: Store, scenarios: Iterable[Scenario]) -> list[Outcome]:
    """Every scenario as IAM would decide it: each of its S3 and KMS authorisations."""
    planned: list[tuple[Scenario, list[tuple[Check, Policy | None]]]] = []
    for scenario in scenarios:
        checks = [
            (check, store.resource_policy(check))
            for check in s3_authorization.checks(
                scenario.request, account=ACCOUNT, existing_tags=scenario.existing_tags
            )
        ]
        checks += [
            (check, store.key_policy)
            for check in s3_authorization.kms_checks(
                scenario.request, key_arn=store.key_arn, region=store.region, account=ACCOUNT
            )
        ]
        checks += list(scenario.extra_checks)
        planned.append((scenario, checks))
    sims = [
        simulation(store.principals[scenario.principal], check, policy)
        for scenario, checks in planned
        for check, policy in checks
    ]
    decisions = iter(simulator.evaluate_many(sims))
    return [Outcome(scenario, tuple((check, next(decisions)) for check, _ in checks)) for scenario, checks in planned]


def failures(outcomes: Iterable[Outcome], stack: str) -> str:
    wrong = [o for o in outcomes if o.allowed != o.scenario.allowed]
    return "\n".join(o.explain(stack) for o in wrong)


# --- violations generated from the S3 API, not from our own clients ------------------------------

#: Headers that sign or frame a request: no policy can judge them, changing one breaks the signature.
SIGNING_HEADERS = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
        "host",
        "user-agent",
        "content-length",
        "content-md5",
        "expect",
        "transfer-encoding",
        "content-encoding",
        "x-amz-decoded-content-length",
        "x-amz-trailer",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
    }
)


@dataclass(frozen=True)
class HeaderRule:
    """What the contract says of one PutObject header, for requests our clients never send.

    ``required``: a compliant upload carries it, and the store refuses the upload without it or with
    ``another`` value. ``added``: whether the store must refuse an upload that adds it (with any
    value of its shape), or the reason it may carry it.
    """

    required: bool = False
    another: str | None = None
    #: True: refused when added. A string: accepted when added, and why that is no violation
    #: (or which limit of IAM it is, named as such).
    added: bool | str = True


_HARMLESS = "a stored HTTP header or an integrity check: it changes neither access, encryption, key, labels nor lock"
_CHECKSUM = "a checksum S3 verifies against the body: a wrong one is refused by S3 itself (BadDigest)"
#: Every PutObject header of the S3 API (botocore's model), judged as the contract says. A header the
#: model gains fails the test that reads this table until someone decides it here.
PUT_OBJECT_HEADERS: Mapping[str, HeaderRule] = {
    "if-none-match": HeaderRule(required=True, another='"0123456789abcdef0123456789abcdef"'),
    "x-amz-tagging": HeaderRule(required=True, another="city_id=x"),
    "if-match": HeaderRule(),  # a conditional overwrite of a stored object
    "x-amz-acl": HeaderRule(),
    "x-amz-grant-full-control": HeaderRule(),
    "x-amz-grant-read": HeaderRule(),
    "x-amz-grant-read-acp": HeaderRule(),
    "x-amz-grant-write-acp": HeaderRule(),
    "x-amz-server-side-encryption": HeaderRule(),  # alone: AES256, DSSE, or aws:kms with the aws/s3 key
    "x-amz-server-side-encryption-aws-kms-key-id": HeaderRule(),  # another key
    "x-amz-server-side-encryption-context": HeaderRule(
        added="an encryption context binds the data key to it: decryption still goes through S3 and the store key"
    ),
    "x-amz-server-side-encryption-bucket-key-enabled": HeaderRule(
        added="whether S3 uses a bucket-level data key: the object is still under the store key"
    ),
    "x-amz-server-side-encryption-customer-algorithm": HeaderRule(),
    "x-amz-server-side-encryption-customer-key": HeaderRule(
        added="S3 refuses a customer key without its algorithm header (400), and the algorithm header is refused"
    ),
    "x-amz-server-side-encryption-customer-key-md5": HeaderRule(
        added="S3 refuses a customer key digest without its algorithm header (400), which is refused"
    ),
    "x-amz-storage-class": HeaderRule(),  # archiving is the lifecycle's, never an uploader's
    "x-amz-object-lock-mode": HeaderRule(),
    "x-amz-object-lock-retain-until-date": HeaderRule(),
    "x-amz-object-lock-legal-hold": HeaderRule(),
    "x-amz-object-lock-event-hold": HeaderRule(
        added="a limit, not a pass: IAM documents no condition key or action for an event hold on upload, so no "
        "policy can refuse it; DenyUploadWithObjectLock* refuse the documented lock headers, and the verifier's "
        "lock probe is where a live run shows what S3 does"
    ),
    "x-amz-object-lock-event-hold-duration-days": HeaderRule(added="only with x-amz-object-lock-event-hold"),
    "x-amz-object-lock-event-hold-duration-years": HeaderRule(added="only with x-amz-object-lock-event-hold"),
    "x-amz-write-offset-bytes": HeaderRule(
        added="appends exist only in directory buckets (S3 Express One Zone): a general purpose bucket refuses it"
    ),
    "x-amz-website-redirect-location": HeaderRule(
        added="the bucket serves no website (private, no website configuration): the redirect is inert"
    ),
    "x-amz-request-payer": HeaderRule(added="the bucket is not requester-pays: the header changes nothing"),
    "x-amz-expected-bucket-owner": HeaderRule(added="a check the caller asks for: S3 refuses on a mismatch"),
    "x-amz-sdk-checksum-algorithm": HeaderRule(added=_CHECKSUM),
    "cache-control": HeaderRule(added=_HARMLESS),
    "content-disposition": HeaderRule(added=_HARMLESS),
    "content-language": HeaderRule(added=_HARMLESS),
    "expires": HeaderRule(added=_HARMLESS),
    # Not required by the storage: IAM cannot read a content type, a checksum or user metadata. The
    # contract's JPEG and metadata rules say so (GAP on AWS, covered by the uploader).
    "content-type": HeaderRule(added=_HARMLESS),
    "x-amz-meta-": HeaderRule(added="user metadata: IAM cannot read it (the tags are what the policy judges)"),
    **{
        f"x-amz-checksum-{name}": HeaderRule(added=_CHECKSUM)
        for name in (
            "crc32",
            "crc32c",
            "crc64nvme",
            "sha1",
            "sha256",
            "sha512",
            "md5",
            "xxhash64",
            "xxhash3",
            "xxhash128",
        )
    },
}


@functools.cache
def put_object_header_shapes() -> dict[str, Any]:
    """Every header of PutObject in botocore's S3 model (lower-case name -> its shape), the signing
    and framing ones aside."""
    model = boto3.session.Session().client("s3", region_name="us-east-1").meta.service_model
    shape = model.operation_model("PutObject").input_shape
    return {
        member.serialization["name"].lower(): member
        for member in shape.members.values()
        if member.serialization.get("location") in ("header", "headers")
        and member.serialization["name"].lower() not in SIGNING_HEADERS
    }


def values_of(shape: Any) -> list[str]:
    """A value of each kind the shape takes: every enum member, else one of its type."""
    if getattr(shape, "enum", None):
        return list(shape.enum)
    return {
        "timestamp": ["2099-01-01T00:00:00Z"],
        "boolean": ["false"],
        "integer": ["3650"],
        "long": ["0"],
    }.get(shape.type_name, ["scenario-value"])


def header_scenarios(store: Store, principal: str, base: HttpRequest) -> list[Scenario]:
    """Each header of ``base`` left out and given another value, and each PutObject header it does
    not carry added with every kind of value, with the decision :data:`PUT_OBJECT_HEADERS` says."""
    scenarios = []
    for header in sorted(set(base.headers) - SIGNING_HEADERS):
        rule = PUT_OBJECT_HEADERS["x-amz-meta-" if header.startswith("x-amz-meta-") else header]
        removed = with_headers(base, **{header.replace("-", "_"): None})
        scenarios.append(Scenario(f"upload without {header}", principal, removed, allowed=not rule.required))
        if rule.another is not None:
            changed = with_headers(base, **{header.replace("-", "_"): rule.another})
            scenarios.append(Scenario(f"upload with {header}: {rule.another}", principal, changed, allowed=False))
    for header, shape in sorted(put_object_header_shapes().items()):
        if header in base.headers or header == "x-amz-meta-":
            continue
        rule = PUT_OBJECT_HEADERS[header]
        # A header the store must refuse is tried with every value its shape takes (one could slip
        # through a condition); one IAM cannot read at all is judged the same whatever its value.
        values = values_of(shape) if rule.added is True else values_of(shape)[:1]
        for value in values:
            added = with_headers(base, **{header.replace("-", "_"): value})
            scenarios.append(
                Scenario(f"upload adding {header}: {value}", principal, added, allowed=rule.added is not True)
            )
    return scenarios
