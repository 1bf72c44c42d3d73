"""How S3 authorises one HTTP request: every IAM action it is checked as, with its context.

S3 checks one request as several IAM actions: a PutObject that carries ``x-amz-tagging`` needs
``s3:PutObject`` and ``s3:PutObjectTagging``; with an ACL, ``s3:PutObjectAcl`` too; a GET with
``versionId`` is ``s3:GetObjectVersion``, not ``s3:GetObject``. :data:`AUTHORIZATION` is that
table, from the S3 API Reference ("Permissions" of each operation; botocore's service model
carries the same sentences, and a test keeps the two in step) and the S3 User Guide where the
reference is silent (Object Lock headers, "Object Lock considerations").

The request context comes from the real request: headers (``If-None-Match``, ``x-amz-tagging``,
encryption, ACL, lock and copy headers), the transport (``aws:SecureTransport``,
``s3:TlsVersion``) and the object's existing tags where the caller knows them. The operation is
recognised from the HTTP request with botocore's own S3 model (method, URI template, required
query parameters and headers), not with a hand-written router.

Used by the offline IAM evaluation (the project's own clients' requests, captured from botocore)
and by the enforcing sandbox. Nothing here evaluates a policy: that is the evaluator's job.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

import botocore.session

from learning_images.sandbox.iam_simulator import Check

# --- the request -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """An S3 request as it reaches the service (path-style addressing)."""

    method: str
    bucket: str
    key: str | None
    query: Mapping[str, str] = field(default_factory=dict)
    #: Header names lower-case.
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    secure: bool = True
    tls_version: str = "1.2"

    @classmethod
    def from_url(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None, *, tls_version: str = "1.2"
    ) -> HttpRequest:
        """From a URL with the bucket in the path (path-style) or in the host (virtual-hosted)."""
        parts = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(parts.path)
        host = parts.hostname or ""
        virtual = re.match(r"^(?P<bucket>[a-z0-9.-]+)\.s3[.-]", host)
        if virtual:
            bucket, key = virtual["bucket"], path.lstrip("/") or None
        else:
            bucket, _, key_part = path.lstrip("/").partition("/")
            key = key_part or None
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        return cls(
            method=method.upper(),
            bucket=bucket,
            key=key,
            query=query,
            headers={k.lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in headers.items()},
            body=body or b"",
            secure=parts.scheme == "https",
            tls_version=tls_version,
        )

    @classmethod
    def from_prepared(cls, prepared: Any) -> HttpRequest:
        """From botocore's ``AWSPreparedRequest`` (what a client is about to send)."""
        body = prepared.body
        if hasattr(body, "read"):
            # An upload's stream (possibly aws-chunked with a trailing checksum): authorisation
            # never reads an object's bytes, only bodies of XML operations (tags, deletes).
            body = b""
        if isinstance(body, str):
            body = body.encode()
        return cls.from_url(prepared.method, prepared.url, dict(prepared.headers), body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


# --- recognising the operation -----------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    object_level: bool
    query: frozenset[str]  # query parameters the operation requires (subresources included)
    headers: frozenset[str]  # headers it requires (x-amz-copy-source for a copy)
    deprecated: bool


@functools.cache
def _routes() -> tuple[_Route, ...]:
    model = botocore.session.get_session().get_service_model("s3")
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        method, uri = operation.http["method"], operation.http["requestUri"]
        path, _, fixed = uri.partition("?")
        if "{Bucket}" not in path:
            continue  # ListBuckets and friends: no bucket, never this store's
        query = {part.split("=")[0] for part in fixed.split("&") if part}
        headers = set()
        shape = operation.input_shape
        for member_name, member in (shape.members if shape else {}).items():
            required = member_name in (shape.required_members if shape else [])
            location = member.serialization.get("location")
            if required and location == "querystring":
                query.add(member.serialization["name"])
            if required and location == "header":
                headers.add(member.serialization["name"].lower())
        routes.append(
            _Route(
                name,
                method,
                "{Key+}" in path,
                frozenset(query),
                frozenset(headers),
                bool(operation.deprecated),
            )
        )
    return tuple(routes)


def operation_of(request: HttpRequest) -> str:
    """The S3 API operation of ``request``: of the routes whose method, level, required query
    parameters and headers all match, the most specific (deprecated aliases last)."""
    matching = [
        route
        for route in _routes()
        if route.method == request.method
        and route.object_level == (request.key is not None)
        and route.query <= request.query.keys()
        and route.headers <= request.headers.keys()
    ]
    if not matching:
        raise ValueError(f"not an S3 operation: {request.method} /{request.bucket}/{request.key or ''}")
    best = max(matching, key=lambda r: (len(r.query) + len(r.headers), not r.deprecated))
    return best.operation


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """The IAM actions of one operation: ``action`` always (``version_action`` instead when the
    request names a ``versionId``), plus ``when_header`` actions for the headers it carries."""

    action: str
    version_action: str | None = None
    #: header (lower-case) -> the further action S3 checks when the request carries it.
    when_header: Mapping[str, str] = field(default_factory=dict)
    #: Whether S3 reads the copy source (``s3:GetObject`` on the source object).
    reads_copy_source: bool = False
    #: ``s3:ObjectCreationOperation`` for ``s3:PutObject`` (S3 User Guide, "Enforce conditional
    #: writes on Amazon S3 buckets"): true for requests that create an object, false for the
    #: multipart steps that do not.
    creates_object: bool | None = None


#: Headers by which an upload sets more than the object (S3 API Reference, PutObject,
#: "Permissions": tags and ACL; S3 User Guide, "Object Lock considerations": "s3:PutObjectRetention
#: ... s3:PutObjectLegalHold" to set a lock on upload).
_UPLOAD_HEADERS = {
    "x-amz-tagging": "s3:PutObjectTagging",
    "x-amz-acl": "s3:PutObjectAcl",
    "x-amz-grant-full-control": "s3:PutObjectAcl",
    "x-amz-grant-read": "s3:PutObjectAcl",
    "x-amz-grant-read-acp": "s3:PutObjectAcl",
    "x-amz-grant-write-acp": "s3:PutObjectAcl",
    "x-amz-object-lock-mode": "s3:PutObjectRetention",
    "x-amz-object-lock-retain-until-date": "s3:PutObjectRetention",
    "x-amz-object-lock-legal-hold": "s3:PutObjectLegalHold",
}
_BYPASS = {"x-amz-bypass-governance-retention": "s3:BypassGovernanceRetention"}

AUTHORIZATION: Mapping[str, Authorization] = {
    # Objects: writes
    "PutObject": Authorization("s3:PutObject", when_header=_UPLOAD_HEADERS, creates_object=True),
    "CopyObject": Authorization(
        "s3:PutObject", when_header=_UPLOAD_HEADERS, reads_copy_source=True, creates_object=True
    ),
    "CreateMultipartUpload": Authorization("s3:PutObject", when_header=_UPLOAD_HEADERS, creates_object=False),
    "UploadPart": Authorization("s3:PutObject", creates_object=False),
    "UploadPartCopy": Authorization("s3:PutObject", reads_copy_source=True, creates_object=False),
    "CompleteMultipartUpload": Authorization("s3:PutObject", creates_object=True),
    "AbortMultipartUpload": Authorization("s3:AbortMultipartUpload"),
    "ListParts": Authorization("s3:ListMultipartUploadParts"),
    # Objects: reads
    "GetObject": Authorization("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": Authorization("s3:GetObject", "s3:GetObjectVersion"),
    "GetObjectAttributes": Authorization("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    "GetObjectTagging": Authorization("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "GetObjectRetention": Authorization("s3:GetObjectRetention"),
    "GetObjectLegalHold": Authorization("s3:GetObjectLegalHold"),
    "GetObjectAcl": Authorization("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    # Objects: changes after upload
    "PutObjectTagging": Authorization("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    "DeleteObjectTagging": Authorization("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    "PutObjectRetention": Authorization("s3:PutObjectRetention", when_header=_BYPASS),
    "PutObjectLegalHold": Authorization("s3:PutObjectLegalHold"),
    "PutObjectAcl": Authorization("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    "RestoreObject": Authorization("s3:RestoreObject"),
    "DeleteObject": Authorization("s3:DeleteObject", "s3:DeleteObjectVersion", when_header=_BYPASS),
    # DeleteObjects is authorised per key as DeleteObject (see checks()).
    "DeleteObjects": Authorization("s3:DeleteObject", "s3:DeleteObjectVersion", when_header=_BYPASS),
    # The bucket
    "ListObjects": Authorization("s3:ListBucket"),
    "ListObjectsV2": Authorization("s3:ListBucket"),
    "HeadBucket": Authorization("s3:ListBucket"),
    "ListObjectVersions": Authorization("s3:ListBucketVersions"),
    "ListMultipartUploads": Authorization("s3:ListBucketMultipartUploads"),
    "GetBucketLocation": Authorization("s3:GetBucketLocation"),
    "GetBucketPolicy": Authorization("s3:GetBucketPolicy"),
    "PutBucketPolicy": Authorization("s3:PutBucketPolicy"),
    "DeleteBucketPolicy": Authorization("s3:DeleteBucketPolicy"),
    "GetBucketLifecycleConfiguration": Authorization("s3:GetLifecycleConfiguration"),
    "PutBucketLifecycleConfiguration": Authorization("s3:PutLifecycleConfiguration"),
    "DeleteBucketLifecycle": Authorization("s3:PutLifecycleConfiguration"),
    "GetBucketVersioning": Authorization("s3:GetBucketVersioning"),
    "PutBucketVersioning": Authorization("s3:PutBucketVersioning"),
    "GetBucketEncryption": Authorization("s3:GetEncryptionConfiguration"),
    "PutBucketEncryption": Authorization("s3:PutEncryptionConfiguration"),
    "DeleteBucketEncryption": Authorization("s3:PutEncryptionConfiguration"),
    "GetPublicAccessBlock": Authorization("s3:GetBucketPublicAccessBlock"),
    "PutPublicAccessBlock": Authorization("s3:PutBucketPublicAccessBlock"),
    "DeletePublicAccessBlock": Authorization("s3:PutBucketPublicAccessBlock"),
    "GetBucketReplication": Authorization("s3:GetReplicationConfiguration"),
    "PutBucketReplication": Authorization("s3:PutReplicationConfiguration"),
    "DeleteBucketReplication": Authorization("s3:PutReplicationConfiguration"),
    "GetObjectLockConfiguration": Authorization("s3:GetBucketObjectLockConfiguration"),
    "PutObjectLockConfiguration": Authorization("s3:PutBucketObjectLockConfiguration"),
    "GetBucketOwnershipControls": Authorization("s3:GetBucketOwnershipControls"),
    "PutBucketOwnershipControls": Authorization("s3:PutBucketOwnershipControls"),
    "GetBucketLogging": Authorization("s3:GetBucketLogging"),
    "GetBucketNotificationConfiguration": Authorization("s3:GetBucketNotification"),
    "PutBucketNotificationConfiguration": Authorization("s3:PutBucketNotification"),
    "PutBucketLogging": Authorization("s3:PutBucketLogging"),
    "GetBucketTagging": Authorization("s3:GetBucketTagging"),
    "PutBucketTagging": Authorization("s3:PutBucketTagging"),
    "GetBucketAcl": Authorization("s3:GetBucketAcl"),
    "PutBucketAcl": Authorization("s3:PutBucketAcl"),
    "GetBucketInventoryConfiguration": Authorization("s3:GetInventoryConfiguration"),
    "PutBucketInventoryConfiguration": Authorization("s3:PutInventoryConfiguration"),
    "DeleteBucket": Authorization("s3:DeleteBucket"),
    "CreateBucket": Authorization(
        "s3:CreateBucket",
        when_header={
            "x-amz-acl": "s3:PutBucketAcl",
            "x-amz-bucket-object-lock-enabled": "s3:PutBucketObjectLockConfiguration",
            "x-amz-object-ownership": "s3:PutBucketOwnershipControls",
        },
    ),
}

#: Request headers that are IAM condition keys of S3 under their own name (``s3:<header>``).
_HEADER_KEYS = (
    "x-amz-acl",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
    "x-amz-content-sha256",
)
#: Headers whose condition key drops the ``x-amz-`` prefix (lock) or the header's own spelling.
_RENAMED_KEYS = {
    "x-amz-object-lock-mode": "s3:object-lock-mode",
    "x-amz-object-lock-retain-until-date": "s3:object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold": "s3:object-lock-legal-hold",
    "if-none-match": "s3:if-none-match",
    "if-match": "s3:if-match",
}


def bucket_arn(bucket: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}"


def _tags(encoded: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(encoded, keep_blank_values=True))


def _body_tags(body: bytes) -> dict[str, str]:
    """The TagSet of a PutObjectTagging body."""
    if not body:
        return {}
    root = ET.fromstring(body)  # noqa: S314 (a request this process built or received, no entities)
    tags = {}
    for tag in root.iter():
        if tag.tag.endswith("Tag"):
            key = next((c.text for c in tag if c.tag.endswith("Key")), None)
            value = next((c.text for c in tag if c.tag.endswith("Value")), "")
            if key is not None:
                tags[key] = value or ""
    return tags


def _deleted_keys(body: bytes) -> list[tuple[str, str | None]]:
    """The (key, versionId) pairs of a DeleteObjects body."""
    root = ET.fromstring(body)  # noqa: S314 (see above)
    pairs = []
    for item in root.iter():
        if item.tag.endswith("Object"):
            key = next((c.text for c in item if c.tag.endswith("Key")), None)
            version = next((c.text for c in item if c.tag.endswith("VersionId")), None)
            if key:
                pairs.append((key, version))
    return pairs


#: Operations whose request context never carries ``s3:ExistingObjectTag``: "When granting
#: permissions for the PUT Object and DELETE Object operations, this condition key is not
#: supported" (S3 User Guide, "Tagging and access control policies"), so neither does the tag
#: check of an upload that would overwrite a stored object.
NO_EXISTING_TAGS = frozenset(
    {
        "PutObject",
        "CopyObject",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "DeleteObject",
        "DeleteObjects",
    }
)


def request_context(request: HttpRequest, operation: str, *, existing_tags: Mapping[str, str] | None) -> dict[str, Any]:
    """The S3 and transport condition keys of ``request``. The evaluator keeps, per action,
    only the keys IAM defines for it."""
    context: dict[str, Any] = {
        "aws:SecureTransport": "true" if request.secure else "false",
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:authType": "REST-HEADER",
    }
    if request.secure:
        context["s3:TlsVersion"] = request.tls_version
    for header in _HEADER_KEYS:
        if (value := request.header(header)) is not None:
            context[f"s3:{header}"] = value
    for header, key in _RENAMED_KEYS.items():
        if (value := request.header(header)) is not None:
            context[key] = value
    tags = (
        _body_tags(request.body)
        if operation == "PutObjectTagging"
        else _tags(tagging)
        if (tagging := request.header("x-amz-tagging")) is not None
        else None
    )
    if tags is not None:
        context["s3:RequestObjectTagKeys"] = list(tags)
        context.update({f"s3:RequestObjectTag/{k}": v for k, v in tags.items()})
    if existing_tags and operation not in NO_EXISTING_TAGS:
        context.update({f"s3:ExistingObjectTag/{k}": v for k, v in existing_tags.items()})
    if "versionId" in request.query:
        context["s3:VersionId"] = request.query["versionId"]
    for name in ("prefix", "delimiter", "max-keys"):
        if name in request.query:
            context[f"s3:{name}"] = request.query[name]
    return context


def checks(
    request: HttpRequest,
    *,
    account: str,
    partition: str = "aws",
    existing_tags: Mapping[str, str] | None = None,
) -> list[Check]:
    """Every S3 authorisation of ``request`` (KMS is :func:`kms_checks`)."""
    operation = operation_of(request)
    try:
        rule = AUTHORIZATION[operation]
    except KeyError:
        raise ValueError(
            f"{operation} is not in the authorisation table (learning_images.sandbox.s3_authorization)"
        ) from None
    context = request_context(request, operation, existing_tags=existing_tags)
    bucket = bucket_arn(request.bucket, partition)
    if operation == "DeleteObjects":
        found = []
        for key, version in _deleted_keys(request.body):
            action = rule.version_action if version and rule.version_action else rule.action
            versioned_key = {"s3:VersionId": version} if version else {}
            found.append(Check(action, f"{bucket}/{key}", account, {**context, **versioned_key}))
        return found
    resource = f"{bucket}/{request.key}" if request.key is not None else bucket
    versioned = "versionId" in request.query and rule.version_action is not None
    action = rule.version_action if versioned and rule.version_action else rule.action
    own = dict(context)
    if rule.creates_object is not None:
        own["s3:ObjectCreationOperation"] = "true" if rule.creates_object else "false"
    found = [Check(action, resource, account, own)]
    extra = dict.fromkeys(a for header, a in rule.when_header.items() if request.header(header) is not None)
    if (
        "x-amz-bypass-governance-retention" in request.headers
        and (request.header("x-amz-bypass-governance-retention") or "").lower() != "true"
    ):
        extra.pop("s3:BypassGovernanceRetention", None)
    found += [Check(a, resource, account, context) for a in extra]
    if rule.reads_copy_source and (source := request.header("x-amz-copy-source")):
        path, _, query = urllib.parse.unquote(source).lstrip("/").partition("?")
        read = "s3:GetObjectVersion" if "versionId=" in query else "s3:GetObject"
        found.append(Check(read, f"arn:{partition}:s3:::{path}", account, context))
    return found


#: What S3 asks of KMS on the caller's behalf for an SSE-KMS bucket (S3 API Reference, "Permissions"
#: of PutObject and GetObject; KMS Developer Guide, "How Amazon S3 uses AWS KMS"). With an S3
#: Bucket Key the encryption context is the bucket ARN.
KMS_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "PutObject": ("kms:GenerateDataKey", "kms:Decrypt"),
    "CopyObject": ("kms:GenerateDataKey", "kms:Decrypt"),
    "CreateMultipartUpload": ("kms:GenerateDataKey", "kms:Decrypt"),
    "GetObject": ("kms:Decrypt",),
}


def kms_checks(request: HttpRequest, *, key_arn: str, region: str, account: str, partition: str = "aws") -> list[Check]:
    """The KMS authorisations S3 makes on the caller's behalf for ``request``."""
    actions = KMS_ACTIONS.get(operation_of(request), ())
    context = {
        "kms:ViaService": f"s3.{region}.amazonaws.com",
        "kms:CallerAccount": account,
        "kms:EncryptionContext:aws:s3:arn": bucket_arn(request.bucket, partition),
        "aws:SecureTransport": "true" if request.secure else "false",
    }
    return [Check(action, key_arn, account, context) for action in actions]
