"""One probe request and what came back: the evidence every rule is judged on."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import botocore
from botocore.exceptions import ClientError, EndpointConnectionError

from learning_images import contract
from learning_images.ops.clients import (
    CERTIFICATE_ERRORS,
    CREDENTIAL_ERRORS,
)

ACCESS_DENIED = {"AccessDenied", "403"}


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    #: The backend does not enforce the rule (the capability matrix says so and what covers it).
    GAP = "GAP"


@dataclass(frozen=True)
class Result:
    rule: str
    title: str
    status: Status
    evidence: str = ""
    reason: str = ""
    #: Who holds the rule on this stack (the catalogue's word: the storage or the gateway), or "".
    enforcement: str = ""


class CannotVerifyError(Exception):
    """The run cannot go on (credentials, connection, time budget): exit 2 with this message."""


@dataclass(frozen=True)
class Attempt:
    """One request and what came back: the evidence of a rule."""

    request: str
    code: str  # HTTP status on success, error code on failure
    response: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.code.isdigit() and int(self.code) < 300

    def __str__(self) -> str:
        return f"{self.request} -> {self.code}"


def attempt(request: str, call: Callable[[], dict[str, Any]]) -> Attempt:
    """Make one request; a refusal is a result, a connection failure aborts the run."""
    try:
        response = call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        if code in CREDENTIAL_ERRORS:
            raise CannotVerifyError(
                f"{request}: the credentials were refused ({code}); check the stack outputs and your AWS credentials"
            ) from None
        return Attempt(request, code)
    except (
        EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    ) as exc:
        raise CannotVerifyError(
            f"{request}: cannot reach the endpoint ({exc}); check --endpoint-url and the network"
        ) from None
    except CERTIFICATE_ERRORS as exc:
        raise CannotVerifyError(
            f"{request}: IAM Roles Anywhere gave the probe certificate no session ({exc})"
        ) from None
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
    return Attempt(request, str(status), response)


#: The probe's image: the bytes every JPEG starts with, then a marker of its own.
PROBE_IMAGE = contract.JPEG_MAGIC + b"\xe0probe-image\xff\xd9"


def new_key() -> str:
    return f"{uuid.uuid4()}.jpg"


def tag_header(fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(fields)
