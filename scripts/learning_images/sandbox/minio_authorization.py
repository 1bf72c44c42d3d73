"""How MinIO authorises an S3 request, as checks for the IAM evaluator: the MinIO stand-in's front
(``learning_images.sandbox.front --semantics minio``) and the minio tests ask these questions.

MinIO speaks AWS's policy language but asks other questions than S3 does (minio/minio, read at
7aac2a2, ``cmd/``): a signed request is judged by the caller's own policies alone (``authorizeRequest``;
a bucket policy binds anonymous requests only); a tagged PutObject is authorised as ``s3:PutObject``
alone (``isPutActionAllowed``); reading a version is ``s3:GetObject`` (``getObjectHandler``);
deleting a version is ``s3:DeleteObject`` unless ``s3:DeleteObjectVersion`` is explicitly denied;
and listing versions falls back to ``s3:ListBucket`` when ``s3:ListBucketVersions`` is not allowed.
The evaluator applies AWS's operators to these checks; that MinIO's engine matches it is a live
run's to prove.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from learning_images.sandbox import s3_authorization
from learning_images.sandbox.iam_simulator import Check, Evaluator, Policy, Principal, simulation
from learning_images.sandbox.s3_authorization import HttpRequest

#: MinIO's Object Lock headers and the action each is authorised as, beside s3:PutObject.
LOCK_HEADERS = {
    "x-amz-object-lock-mode": "s3:PutObjectRetention",
    "x-amz-object-lock-retain-until-date": "s3:PutObjectRetention",
    "x-amz-object-lock-legal-hold": "s3:PutObjectLegalHold",
}


@dataclass(frozen=True)
class Ask:
    """One of MinIO's questions: allowed, or (``deny_only``) not explicitly denied."""

    check: Check
    deny_only: bool = False


def questions(request: HttpRequest, *, account: str) -> list[list[Ask]]:
    """MinIO's questions for ``request``: every inner list must pass, and one of the outer does."""
    operation = s3_authorization.operation_of(request)
    primary = s3_authorization.checks(request, account=account)[0]
    if operation == "ListObjectVersions":
        return [[Ask(primary)], [Ask(replace(primary, action="s3:ListBucket"))]]
    if operation in ("GetObject", "HeadObject"):
        return [[Ask(replace(primary, action="s3:GetObject"))]]
    if operation == "DeleteObject":
        plain = replace(primary, action="s3:DeleteObject")
        if "versionId" in request.query:
            return [[Ask(plain), Ask(replace(primary, action="s3:DeleteObjectVersion"), deny_only=True)]]
        return [[Ask(plain)]]
    asks = [Ask(primary)]
    if operation == "PutObject":
        asks += [
            Ask(replace(primary, action=action)) for header, action in LOCK_HEADERS.items() if request.header(header)
        ]
    return [asks]


def allowed(
    evaluator: Evaluator,
    principal: Principal,
    request: HttpRequest,
    *,
    account: str,
    bucket_policy: Policy | None = None,
) -> bool:
    """Whether MinIO would let ``principal`` send ``request`` (as the evaluator judges each check).
    A signed request is judged by its caller's policies alone; ``bucket_policy`` judges only an
    anonymous one (``authorizeRequest``)."""
    resource_policy = bucket_policy if principal.arn is None else None
    for asks in questions(request, account=account):
        decisions = evaluator.evaluate_many([simulation(principal, ask.check, resource_policy) for ask in asks])
        if all(
            d.result != "ExplicitlyDenied" if ask.deny_only else d.allowed
            for ask, d in zip(asks, decisions, strict=True)
        ):
            return True
    return False
