"""The enforcing local S3: moto's server behind an authorising front that judges each S3 request
as AWS would, with the independent IAM evaluator.

    python -m learning_images.sandbox.front --port 0 --https-port 0 --ready-file ready.json

moto ignores every IAM ``Condition``, so on its own it cannot prove a guard. Here moto serves
with its own authentication off, and every S3 request first passes this front, in the same
process as moto (so it reads moto's IAM, STS, S3 and KMS state directly):

1. **Who**: the SigV4 ``Authorization`` header is checked with botocore's own signer against the
   secret the emulator's IAM (a user's access key) or STS (a role session) holds for the key id;
   an unsigned request is anonymous.
2. **What**: the request becomes every IAM action S3 authorises it as, with its request context
   (``learning_images.sandbox.s3_authorization``: headers, request tags, ``If-None-Match``,
   encryption and lock headers, TLS from the real connection, the stored object's tags), and the
   KMS actions S3 takes on the caller's behalf for an SSE-KMS bucket.
3. **Decision**: the caller's identity policies (inline and attached, a user's groups' too), the
   bucket policy and the key policy, read back from the emulator, go to the evaluator; any action
   not allowed answers 403 ``AccessDenied`` in S3's XML, otherwise moto serves the request.

``sts:AssumeRole`` is judged the same way against the role's trust policy. IAM and KMS API calls
are the sandbox operator's administration and pass unjudged (said in the sandbox report).
The front listens on 127.0.0.1 only: HTTPS with a certificate made at start (``trustme``), so
``aws:SecureTransport`` and ``s3:TlsVersion`` are real, and plain HTTP on a second port, so the
policy (not a missing listener) is what refuses it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import ssl
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from learning_images import contract
from learning_images.sandbox import minio_authorization, s3_authorization
from learning_images.sandbox.iam_simulator import (
    Check,
    IamSimulator,
    IamSimulatorPool,
    Policy,
    Principal,
    iam_simulator_pool,
    simulation,
)
from learning_images.sandbox.project import EMULATOR_ACCOUNT_ID
from learning_images.sandbox.roles_anywhere import RolesAnywhere, SessionRefused
from learning_images.sandbox.s3_authorization import HttpRequest

#: IAM Roles Anywhere's CreateSession path, answered by the stand-in, and where the sandbox registers
#: the stack's trust anchors and profiles with it.
ROLES_ANYWHERE_SESSIONS = "/sessions"
ROLES_ANYWHERE_REGISTRY = "/__sandbox/roles-anywhere"

ACCOUNT_ID = EMULATOR_ACCOUNT_ID
TLS_ENVIRON = "learning_images.tls_version"
_CREDENTIAL = re.compile(r"Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
_SIGNED_HEADERS = re.compile(r"SignedHeaders=(?P<headers>[^,\s]+)")
_SIGNATURE = re.compile(r"Signature=(?P<signature>[0-9a-f]+)")

StartResponse = Callable[..., Any]


#: Whose questions the front asks of a request: S3's, or MinIO's (its stand-in).
MINIO = "minio"
SEMANTICS = ("s3", MINIO)


class Refused(Exception):  # noqa: N818 (an answer, not a failure)
    """A request the front answers itself: ``status`` and S3's error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Caller:
    principal: Principal
    secret: str


def _documents(policies: Mapping[str, Any]) -> list[tuple[str, Policy]]:
    return [(name, json.loads(doc) if isinstance(doc, str) else doc) for name, doc in policies.items()]


def _managed(attached: Mapping[str, Any]) -> list[tuple[str, Policy]]:
    found = []
    for arn, policy in attached.items():
        version = getattr(policy, "default_version", None)
        document = getattr(version, "document", None) or getattr(policy, "document", None)
        if document:
            found.append((arn, json.loads(document) if isinstance(document, str) else document))
    return found


def _tags(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v.get("Value", v) if isinstance(v, dict) else v) for k, v in tags.items()}
    return {t["Key"]: t["Value"] for t in tags or []}


class MotoState:
    """What the front reads of the emulator's own state (same process)."""

    def __init__(self, account_id: str = ACCOUNT_ID) -> None:
        from moto.iam.models import iam_backends  # noqa: PLC0415 (moto loads its backends lazily)
        from moto.kms.models import kms_backends  # noqa: PLC0415
        from moto.s3.models import s3_backends  # noqa: PLC0415
        from moto.sqs.models import sqs_backends  # noqa: PLC0415
        from moto.sts.models import sts_backends  # noqa: PLC0415

        self.account_id = account_id
        #: A role session's tags from the Roles Anywhere stand-in (its certificate), by access key id.
        self.session_tags: dict[str, dict[str, str]] = {}
        self.iam = iam_backends[account_id]["global"]
        self.sts = sts_backends[account_id]["global"]
        self.s3 = s3_backends[account_id]["global"]
        self.kms = kms_backends[account_id]
        self.sqs = sqs_backends[account_id]

    def caller(self, access_key_id: str) -> Caller | None:
        """The principal holding ``access_key_id``: an IAM user's key, or a role session's."""
        with contextlib.suppress(Exception):
            user = self.iam.get_user_from_access_key_id(access_key_id)
            if user is not None:
                key = next(k for k in user.access_keys if k.access_key_id == access_key_id)
                if getattr(key, "status", "Active") != "Active":
                    return None
                policies = _documents(user.policies) + _managed(user.managed_policies)
                for group in self.iam.get_groups_for_user(user.name):
                    policies += _documents(group.policies) + _managed(group.managed_policies)
                principal = Principal(
                    name=user.name,
                    arn=user.arn,
                    principal_arn=user.arn,
                    account=self.account_id,
                    tags=_tags(user.tags),
                    identity_policies=tuple(policies),
                )
                return Caller(principal, key.secret_access_key)
        with contextlib.suppress(Exception):
            session = self.sts.get_assumed_role_from_access_key(access_key_id)
            if session is not None:
                role = self.iam.get_role_by_arn(session.role_arn)
                policies = _documents(role.policies) + _managed(role.managed_policies)
                principal = Principal(
                    name=f"{role.name} session",
                    arn=session.arn,
                    principal_arn=role.arn,
                    account=self.account_id,
                    # Session tags override the role's own (IAM User Guide, "Session tags").
                    tags={**_tags(role.tags), **self.session_tags.get(access_key_id, {})},
                    identity_policies=tuple(policies),
                )
                return Caller(principal, session.secret_access_key)
        return None

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.s3.get_bucket(bucket)
        except Exception:  # moto's MissingBucket
            return False
        return True

    def bucket_policy(self, bucket: str) -> Policy | None:
        with contextlib.suppress(Exception):
            policy = self.s3.get_bucket(bucket).policy
            if policy:
                return json.loads(policy)  # type: ignore[no-any-return]
        return None

    def bucket_key(self, bucket: str) -> tuple[str, str] | None:
        """The SSE-KMS default key ARN of ``bucket`` and its region, if it has one."""
        with contextlib.suppress(Exception):
            found = self.s3.get_bucket(bucket)
            rules = (found.encryption or {}).get("Rule", {})
            rules = rules if isinstance(rules, list) else [rules]
            for rule in rules:
                default = rule.get("ApplyServerSideEncryptionByDefault", {})
                if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
                    arn = default["KMSMasterKeyID"]
                    return arn, arn.split(":")[3]
        return None

    def key_policy(self, key_arn: str, region: str) -> Policy | None:
        with contextlib.suppress(Exception):
            return json.loads(self.kms[region].describe_key(key_arn).policy)  # type: ignore[no-any-return]
        return None

    def object_tags(self, bucket: str, key: str) -> dict[str, str] | None:
        with contextlib.suppress(Exception):
            stored = self.s3.get_object(bucket, key)
            if stored is not None:
                return _tags(self.s3.tagger.list_tags_for_resource(stored.arn)["Tags"])
        return None

    def queue_policy(self, name: str, region: str) -> Policy | None:
        with contextlib.suppress(Exception):
            policy = self.sqs[region].get_queue(name).policy
            if policy:
                return json.loads(policy)  # type: ignore[no-any-return]
        return None

    def trust_policy(self, role_arn: str) -> Policy | None:
        with contextlib.suppress(Exception):
            return json.loads(self.iam.get_role_by_arn(role_arn).assume_role_policy_document)  # type: ignore[no-any-return]
        return None


def request_url(environ: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The URL as the client sent it: the raw path and query, as the signature covers them."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
    return f"{environ['wsgi.url_scheme']}://{headers.get('host', '127.0.0.1')}{target}"


def verify_signature(environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, caller: Caller) -> bool:
    """Recompute the request's SigV4 signature with botocore's signer and the caller's secret.
    (S3 signs the payload hash the client declares in ``x-amz-content-sha256``; STS the body.)"""
    authorization = headers.get("authorization", "")
    scope, signed, given = (
        _CREDENTIAL.search(authorization),
        _SIGNED_HEADERS.search(authorization),
        _SIGNATURE.search(authorization),
    )
    if not (scope and signed and given):
        return False
    names = signed["headers"].split(";")
    request = AWSRequest(
        method=environ["REQUEST_METHOD"],
        url=request_url(environ, headers),
        headers={name: headers.get(name, "") for name in names},
        data=body,
    )
    request.context["timestamp"] = headers.get("x-amz-date", "")
    signer_class = S3SigV4Auth if scope["service"] == "s3" else SigV4Auth
    signer = signer_class(Credentials(scope["key"], caller.secret), scope["service"], scope["region"])
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return bool(expected == given["signature"])


def check_request_time(amz_date: str, now: float) -> None:
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise Refused(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None
    if abs(now - signed_at) > contract.MAX_CLOCK_SKEW_SECONDS:
        raise Refused(
            403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
        )


def _json(start_response: StartResponse, status: int, value: object) -> list[bytes]:
    body = json.dumps(value).encode()
    reason = {200: "OK", 201: "Created", 403: "Forbidden"}.get(status, "Error")
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def error_response(
    status: int, code: str, message: str, method: str, start_response: StartResponse, *, query_api: bool = False
) -> list[bytes]:
    """The error as the service would answer it: S3's ``<Error>``, or the query APIs' (STS)
    ``<ErrorResponse>`` envelope, so a client parses the code."""
    error = f"<Code>{code}</Code><Message>{message}</Message>"
    request_id = uuid.uuid4().hex
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        if query_api
        else f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
    )
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()
    reason = {403: "Forbidden", 400: "Bad Request"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/xml"), ("Content-Length", "0" if method == "HEAD" else str(len(body)))],
    )
    return [] if method == "HEAD" else [body]


class AuthorisingFront:
    """WSGI middleware: judge, then hand the request (body restored) to moto's own app."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        simulator: IamSimulator | IamSimulatorPool,
        state: MotoState,
        *,
        enforce: bool = True,
        semantics: str = "s3",
    ) -> None:
        self.app = app
        #: False only for the benchmark's baseline: the same server, moto alone.
        self.enforce = enforce
        #: Whose questions a request is judged by: S3's (the local stack, the R2, gcs, Spaces and B2
        #: stand-ins) or MinIO's (its stand-in: ``learning_images.sandbox.minio_authorization``).
        self.semantics = semantics
        self.simulator = simulator
        self.state = state
        self.decisions = 0
        self.roles_anywhere = RolesAnywhere(session_tags=state.session_tags)
        #: Locks for conditional writes, striped by object path (see :meth:`forward`): bounded
        #: memory whatever the number of keys; two keys on one stripe only wait for each other.
        self._writes = tuple(threading.Lock() for _ in range(64))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # The whole body, once: a chunked upload (botocore's aws-chunked with a trailing checksum)
        # comes de-chunked from the server with no length; moto then reads the same bytes.
        if environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read()
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if environ.get("CONTENT_LENGTH"):
            headers["content-length"] = environ["CONTENT_LENGTH"]
        if environ["PATH_INFO"] in (ROLES_ANYWHERE_SESSIONS, ROLES_ANYWHERE_REGISTRY):
            return self.stand_in_for_roles_anywhere(environ, headers, body, start_response)
        try:
            if self.enforce:
                self.judge(environ, headers, body)
        except Refused as refused:
            if headers.get("x-amz-target", "").startswith("AmazonSQS."):  # SQS's JSON protocol
                return _json(start_response, refused.status, {"__type": refused.code, "message": refused.message})
            query_api = "/sts/" in headers.get("authorization", "")
            return error_response(
                refused.status,
                refused.code,
                refused.message,
                environ["REQUEST_METHOD"],
                start_response,
                query_api=query_api,
            )
        return self.forward(environ, start_response)

    def forward(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Hand the request to moto. S3 makes a conditional write atomic: of two concurrent creates
        of one key, one succeeds and the other gets 412 (or 409 ConditionalRequestConflict; S3 User
        Guide, "Conditional writes"). moto checks If-None-Match and stores in two steps, so two
        uploaders of one batch both stored a version; here a conditional write holds its key's lock
        until moto has answered, as S3 holds the key."""
        conditional = environ["REQUEST_METHOD"] in ("PUT", "POST") and (
            environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MATCH")
        )
        if not conditional:
            return self.app(environ, start_response)
        path = (environ.get("RAW_URI") or environ["PATH_INFO"]).split("?", 1)[0]
        with self._writes[zlib.crc32(path.encode()) % len(self._writes)]:
            return list(self.app(environ, start_response))

    def stand_in_for_roles_anywhere(
        self, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start_response: StartResponse
    ) -> list[bytes]:
        """IAM Roles Anywhere's CreateSession, and the sandbox's registry of its anchors and profiles
        (``learning_images.sandbox.roles_anywhere``)."""
        if environ["PATH_INFO"] == ROLES_ANYWHERE_REGISTRY:
            self.roles_anywhere.register(json.loads(body))
            return _json(start_response, 200, {})

        def assume(role_arn: str, session_name: str, seconds: int) -> tuple[str, str, str, str]:
            session = self.state.sts.assume_role(
                region_name="us-east-1",
                role_session_name=session_name,
                role_arn=role_arn,
                policy="",
                duration=seconds,
                external_id="",
            )
            expiry = session.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
            return session.access_key_id, session.secret_access_key, session.session_token, expiry

        def trust_allows(principal: Principal, check: Check, policy: Policy | None) -> bool:
            (decision,) = self.simulator.evaluate_many([simulation(principal, check, policy)])
            return bool(decision.allowed)

        try:
            answer = self.roles_anywhere.create_session(
                request_url(environ, headers),
                headers,
                body,
                trust_allows=trust_allows,
                trust_policy=self.state.trust_policy,
                assume=assume,
                account=self.state.account_id,
            )
        except SessionRefused as refused:
            return _json(start_response, refused.status, {"message": refused.message, "__type": refused.code})
        return _json(start_response, 201, answer)

    def judge(self, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> None:
        if environ["PATH_INFO"].startswith("/moto-api"):
            return
        scope = _CREDENTIAL.search(headers.get("authorization", ""))
        service = scope["service"] if scope else "s3"
        if service == "sts":
            self.judge_assume_role(environ, headers, body)
            return
        if service == "sqs":
            self.judge_queue_request(environ, headers, body, scope)
            return
        if service != "s3":
            return  # IAM and KMS: the sandbox operator's administration, not judged (see the report)
        principal = self.authenticate(environ, headers, body, scope)
        request = HttpRequest.from_url(
            environ["REQUEST_METHOD"],
            request_url(environ, headers),
            headers,
            body,
            tls_version=environ.get(TLS_ENVIRON, "1.2"),
        )
        if not request.bucket:
            return  # ListBuckets: no bucket policy to judge it by
        creating = request.method == "PUT" and request.key is None  # CreateBucket is judged
        if not creating and not self.state.bucket_exists(request.bucket):
            return  # S3 answers NoSuchBucket (404) for a bucket that does not exist: moto does too
        if self.semantics == MINIO:
            self.judge_as_minio(principal, request)
        else:
            self.judge_as_s3(principal, request)

    def judge_as_s3(self, principal: Principal, request: HttpRequest) -> None:
        """S3's questions: every authorisation of the request, by the caller's policies and the
        bucket's, and the KMS ones S3 asks on the caller's behalf, by the key's."""
        existing = self.state.object_tags(request.bucket, request.key) if request.key else None
        try:
            checks = s3_authorization.checks(request, account=self.state.account_id, existing_tags=existing)
        except ValueError as exc:
            raise Refused(400, "InvalidRequest", str(exc)) from None
        bucket_policy = self.state.bucket_policy(request.bucket)
        planned = [(check, bucket_policy if check.action.startswith("s3:") else None) for check in checks]
        if key := self.state.bucket_key(request.bucket):
            key_arn, region = key
            key_policy = self.state.key_policy(key_arn, region)
            planned += [
                (check, key_policy)
                for check in s3_authorization.kms_checks(
                    request, key_arn=key_arn, region=region, account=self.state.account_id
                )
            ]
        self.decide(principal, planned)

    def judge_as_minio(self, principal: Principal, request: HttpRequest) -> None:
        """MinIO's questions, by the caller's own policies (a bucket policy judges anonymous
        requests only). No KMS check: MinIO asks its key server itself, on no caller's behalf."""
        try:
            ok = minio_authorization.allowed(
                self.simulator,
                principal,
                request,
                account=self.state.account_id,
                bucket_policy=self.state.bucket_policy(request.bucket),
            )
        except ValueError as exc:
            raise Refused(400, "InvalidRequest", str(exc)) from None
        self.decisions += 1
        if not ok:
            raise Refused(403, "AccessDenied", "Access Denied (judged as MinIO asks)")

    def authenticate(
        self, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, scope: Any
    ) -> Principal:
        if scope is None:
            return Principal("anonymous", None)
        caller = self.state.caller(scope["key"])
        if caller is None:
            raise Refused(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist.")
        if not verify_signature(environ, headers, body, caller):
            raise Refused(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
        check_request_time(headers.get("x-amz-date", ""), time.time())
        return caller.principal

    def judge_queue_request(
        self, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, scope: Any
    ) -> None:
        """An SQS request on a queue, judged by the caller's identity policies and the queue's
        policy as SQS does (the receiver's role, the tests' operator). Requests that name no queue
        (CreateQueue, ListQueues) are the operator's administration, like IAM's."""
        principal = self.authenticate(environ, headers, body, scope)
        target = headers.get("x-amz-target", "")
        if target.startswith("AmazonSQS."):  # the JSON protocol botocore speaks
            action, params = target.removeprefix("AmazonSQS."), json.loads(body or b"{}")
        else:  # the query protocol of older clients
            params = dict(parse_qsl(body.decode(errors="replace")))
            action = params.get("Action", "")
        queue_url = str(params.get("QueueUrl") or "")
        if not queue_url:
            return
        name, region = queue_url.rstrip("/").rsplit("/", 1)[-1], scope["region"]
        # A batch is authorised as its single action (SQS Developer Guide, "Amazon SQS API permissions").
        action = action.removesuffix("Batch")
        secure = "true" if environ.get("wsgi.url_scheme") == "https" else "false"
        check = Check(
            f"sqs:{action}",
            f"arn:aws:sqs:{region}:{self.state.account_id}:{name}",
            self.state.account_id,
            {"aws:SecureTransport": secure},
        )
        self.decide(principal, [(check, self.state.queue_policy(name, region))])

    def judge_assume_role(self, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> None:
        form = dict(parse_qsl(body.decode(errors="replace")))
        if form.get("Action") != "AssumeRole":
            return
        scope = _CREDENTIAL.search(headers.get("authorization", ""))
        principal = self.authenticate(environ, headers, body, scope)
        role_arn = form.get("RoleArn", "")
        check = Check("sts:AssumeRole", role_arn, self.state.account_id, {"aws:SecureTransport": "true"})
        self.decide(principal, [(check, self.state.trust_policy(role_arn))])

    def decide(self, principal: Principal, planned: list[tuple[Check, Policy | None]]) -> None:
        decisions = self.simulator.evaluate_many(simulation(principal, check, policy) for check, policy in planned)
        self.decisions += len(decisions)
        for (check, _), decision in zip(planned, decisions, strict=True):
            if not decision.allowed:
                raise Refused(403, "AccessDenied", f"Access Denied ({check.action}: {decision})")


class TlsAwareHandler(WSGIRequestHandler):
    """Puts the negotiated TLS version ("1.2", "1.3") into the WSGI environ for s3:TlsVersion."""

    #: A connection silent this long is closed: its thread is not held forever.
    timeout = 30

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        version = getattr(self.connection, "version", lambda: None)()
        if version:
            environ[TLS_ENVIRON] = version.removeprefix("TLSv")
        return environ

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return  # quiet: the sandbox reports what matters


def tls_context(certificate: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.0 and up are accepted on the wire, so the bucket policy (not the handshake) is what
    refuses an outdated TLS version, as S3 would."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(str(certificate), str(key))
    return context


@contextlib.contextmanager
def serving(app: Any, *, port: int, context: ssl.SSLContext | None) -> Iterator[BaseWSGIServer]:
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=TlsAwareHandler)
    if context is not None:
        # The TLS handshake happens in the connection's own thread, at its first read: werkzeug's own
        # wrapping shakes hands inside accept(), so one client that connects and stays silent froze
        # the whole front for everyone (measured: a city's upload timed out after 20 s).
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        server.ssl_context = context  # werkzeug reads it for wsgi.url_scheme
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()


def moto_authorises_nothing() -> None:
    """moto's authentication is off (its default), but its S3 still applies a bucket policy's
    Deny to object requests by itself (moto issue 7837), reading every conditional Deny as
    matching. The front has judged the request already: moto only serves it."""
    from moto.iam.access_control import PermissionResult  # noqa: PLC0415
    from moto.s3.models import FakeBucket  # noqa: PLC0415

    def neutral(self: Any, action: str, resource: str) -> Any:
        return PermissionResult.NEUTRAL

    FakeBucket.get_permission = neutral  # type: ignore[method-assign]


def moto_notifies_delete_markers() -> None:
    """S3 notifies ``s3:ObjectRemoved:DeleteMarkerCreated`` when a delete without a version id
    leaves a delete marker (S3 User Guide, "Supported event types"); moto makes the marker and
    notifies nothing. The receiver marks a row erased on that event (the object has no current
    version), so the sandbox must send it as S3 does."""
    from moto.s3 import notifications  # noqa: PLC0415
    from moto.s3.models import S3Backend  # noqa: PLC0415

    make_marker = S3Backend._set_delete_marker

    def notifying(self: Any, bucket_name: str, key_name: str) -> Any:
        bucket = self.get_bucket(bucket_name)
        key = bucket.keys[key_name]
        marker = make_marker(self, bucket_name, key_name)
        notifications.send_event(
            self.account_id, notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT, bucket, key
        )
        return marker

    S3Backend._set_delete_marker = notifying  # type: ignore[method-assign]


def moto_lists_what_is_asked() -> None:
    """S3 answers a ``ListObjectVersions`` page from its key index: a ``Prefix`` of one key costs
    that key, and a page after ``KeyMarker`` costs the page. moto 5.2 deep-copies every version of
    every key in the bucket for each page before it filters (``S3Backend.list_object_versions``),
    so one key's listing cost 0.39 s in a store of 2,000 objects and 1.88 s at 8,000 (measured
    in-process, docs/measurements.md): an erasure's per-key listings, and each page of a scan,
    would cost the whole bucket here and nothing like it on S3."""
    from moto.s3.models import S3Backend  # noqa: PLC0415

    S3Backend.list_object_versions = listing_what_is_reachable(S3Backend.list_object_versions)  # type: ignore[method-assign]


def moto_knows_its_modules_once() -> None:
    """moto's server picks a request's backend by asking whether its host names a moto module,
    and ``list_of_moto_modules`` answers by listing moto's package folder and stat-ing each of its
    ~200 entries, on every request (moto 5.2, ``moto/backends.py``): about 8% of the front's CPU in
    a sandbox run (py-spy). The folder does not change while the server runs, so it is read once."""
    from moto import backends  # noqa: PLC0415

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


class _Reachable:
    """The keys (name, versions) one listing page can reach, in name order; the bucket's other
    attributes as they are."""

    def __init__(self, bucket: Any, prefix: str, marker: str | None, wanted: int | None) -> None:
        self._bucket, self._prefix, self._marker, self._wanted = bucket, prefix, marker, wanted

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)

    @property
    def keys(self) -> _Reachable:
        return self

    def iterlists(self) -> Iterator[tuple[str, list[Any]]]:
        store = self._bucket.keys
        # list() copies the names at once (the server's other threads may be adding keys).
        names = sorted(n for n in list(store) if n.startswith(self._prefix) and n >= (self._marker or ""))
        given = 0
        for name in names:
            versions = store.getlist(name)
            yield name, versions
            # A page of ``wanted`` after the marker's own versions, and one more to say it is cut.
            given += len(versions) if name != self._marker else 0
            if self._wanted is not None and given > self._wanted:
                return


class _Seeing:
    """moto's backend as its listing sees it: the one bucket, through :class:`_Reachable`."""

    def __init__(self, reachable: _Reachable) -> None:
        self._reachable = reachable

    def get_bucket(self, _name: str) -> _Reachable:
        return self._reachable


def listing_what_is_reachable(list_versions: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``list_object_versions``, given only the keys the page can reach: those under the
    prefix, from the key marker on, and (without a delimiter, which folds keys into one entry) only
    as many as fill the page. moto's own function still builds every answer."""

    def listing(
        self: Any,
        bucket_name: str,
        *,  # moto's S3 responses pass these by name
        delimiter: str | None = None,
        key_marker: str | None = None,
        max_keys: int | None = 1000,
        prefix: str = "",
        version_id_marker: str | None = None,
    ) -> Any:
        wanted = None if delimiter else max_keys
        reachable = _Reachable(self.get_bucket(bucket_name), prefix or "", key_marker, wanted)
        return list_versions(
            _Seeing(reachable),
            bucket_name,
            delimiter=delimiter,
            key_marker=key_marker,
            max_keys=max_keys,
            prefix=prefix,
            version_id_marker=version_id_marker,
        )

    return listing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="front", description="The enforcing local S3 (moto behind IAM evaluation).")
    parser.add_argument("--https-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--certificate-dir", type=Path, required=True, help="where to write the CA and server cert")
    parser.add_argument("--ready-file", type=Path, required=True, help="written with the URLs once serving")
    parser.add_argument(
        "--pass-through", action="store_true", help="judge nothing: moto alone (the benchmark's baseline)"
    )
    parser.add_argument(
        "--evaluators",
        type=int,
        default=2,
        help="evaluator processes at most, each started when the others are busy (default 2, one per core here)",
    )
    parser.add_argument(
        "--semantics", choices=SEMANTICS, default=SEMANTICS[0], help="whose questions requests are judged by"
    )
    args = parser.parse_args(argv)

    import trustme  # noqa: PLC0415 (sandbox-only dependency)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: PLC0415

    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    args.certificate_dir.mkdir(parents=True, exist_ok=True)
    ca_file = args.certificate_dir / "sandbox-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    cert_file, key_file = args.certificate_dir / "server.pem", args.certificate_dir / "server-key.pem"
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))

    moto_authorises_nothing()
    moto_notifies_delete_markers()
    moto_lists_what_is_asked()
    moto_knows_its_modules_once()
    moto_app = DomainDispatcherApplication(create_backend_app)
    with iam_simulator_pool(args.evaluators) as simulator:
        front = AuthorisingFront(
            moto_app, simulator, MotoState(), enforce=not args.pass_through, semantics=args.semantics
        )
        with (
            serving(front, port=args.https_port, context=tls_context(cert_file, key_file)) as https,
            serving(front, port=args.http_port, context=None) as http,
        ):
            ready = {
                "https": f"https://127.0.0.1:{https.server_port}",
                "http": f"http://127.0.0.1:{http.server_port}",
                "ca_bundle": str(ca_file),
            }
            # Whole or not at all: the parent polls for the file and reads it at once, so a file
            # created empty and then written made it read "" now and then (a JSONDecodeError).
            partial = args.ready_file.with_name(args.ready_file.name + ".partial")
            partial.write_text(json.dumps(ready))
            os.replace(partial, args.ready_file)
            print(json.dumps(ready), flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
    return 0


def serve_logged(argv: list[str], log: str) -> None:
    """:func:`main` in a forked process, its standard error to ``log`` and its output discarded
    (as the command line's caller would redirect them)."""
    with open(log, "w") as stream:
        os.dup2(stream.fileno(), 2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    sys.exit(main(argv))


if __name__ == "__main__":
    sys.exit(main())
