"""IAM Roles Anywhere, stood in for by the enforcing local S3 (moto has no Roles Anywhere).

Where a stack's cities authenticate with certificates, a city's client calls Roles Anywhere's
CreateSession (``POST /sessions``) with its certificate; the front answers it here as the service
would, in the same order of checks:

1. the request is signed with the certificate's key (SigV4 with ``AWS4-X509-RSA-SHA256`` or
   ``AWS4-X509-ECDSA-SHA256``, the certificate in ``X-Amz-X509``), checked with botocore's
   canonical request and the certificate's public key;
2. the certificate was issued by the trust anchor's CA and is within its validity;
3. the profile is the anchor's and vends the role asked for;
4. the role's trust policy lets ``rolesanywhere.amazonaws.com`` assume it for this trust anchor,
   judged by the same IAM evaluator as every other request;
5. a session of the role is made in moto's STS, and the certificate's subject and issuer become
   its session tags (``x509Subject/CN``, ``x509Issuer/CN``: IAM Roles Anywhere User Guide, "Trust
   model"), which the front reads as the session's principal tags.

What it does not stand in for: CRLs (none is imported locally), instance properties, session
policies, and the certificate chain beyond one CA. The sandbox says so in its report.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from learning_images import contract
from learning_images.sandbox.iam_simulator import Check, Policy, Principal

SERVICE_PRINCIPAL = "rolesanywhere.amazonaws.com"
_AUTHORIZATION = re.compile(
    r"^(?P<algorithm>AWS4-X509-(RSA|ECDSA)-SHA256) Credential=(?P<serial>\d+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"rolesanywhere/aws4_request, SignedHeaders=(?P<headers>[^,]+), Signature=(?P<signature>[0-9a-f]+)$"
)


class SessionRefused(Exception):  # noqa: N818 (an answer, not a failure)
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class RolesAnywhere:
    """The stood-in service's state: trust anchors and profiles (registered by the sandbox's
    provisioning), and the session tags of every session it made (read by the front)."""

    #: trust anchor ARN -> its CA certificates
    trust_anchors: dict[str, list[x509.Certificate]] = field(default_factory=dict)
    #: profile ARN -> (role ARNs, session seconds)
    profiles: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    #: session access key id -> principal tags from the certificate
    session_tags: dict[str, dict[str, str]] = field(default_factory=dict)

    def register(self, document: Mapping[str, Any]) -> None:
        """``{"trust_anchors": {arn: pem}, "profiles": {arn: {"role_arns": [...], "duration_seconds": n}}}``."""
        for arn, pem in document.get("trust_anchors", {}).items():
            self.trust_anchors[arn] = x509.load_pem_x509_certificates(pem.encode())
        for arn, profile in document.get("profiles", {}).items():
            self.profiles[arn] = (list(profile["role_arns"]), int(profile["duration_seconds"]))

    def create_session(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        trust_allows: Callable[[Principal, Check, Policy | None], bool],
        trust_policy: Callable[[str], Policy | None],
        assume: Callable[[str, str, int], tuple[str, str, str, str]],
        account: str,
    ) -> dict[str, Any]:
        """CreateSession's answer, or :class:`SessionRefused` as the service's status and code."""
        certificate = self._authenticate(url, headers, body)
        request = json.loads(body or b"{}")
        anchor, profile, role = request.get("trustAnchorArn"), request.get("profileArn"), request.get("roleArn")
        authorities = self.trust_anchors.get(anchor or "")
        if not authorities:
            raise SessionRefused(403, "AccessDeniedException", f"unknown trust anchor {anchor}")
        if not any(_issued_by(certificate, ca) for ca in authorities):
            raise SessionRefused(403, "AccessDeniedException", "the certificate was not issued by the trust anchor")
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise SessionRefused(403, "AccessDeniedException", "the certificate is not valid now")
        roles, seconds = self.profiles.get(profile or "", ([], 0))
        if role not in roles:
            raise SessionRefused(403, "AccessDeniedException", f"profile {profile} does not vend role {role}")
        tags = _certificate_tags(certificate)
        service = Principal("IAM Roles Anywhere", SERVICE_PRINCIPAL)
        for action in ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"):
            check = Check(action, role, account, {"aws:SourceArn": anchor})
            if not trust_allows(service, check, trust_policy(role)):
                raise SessionRefused(403, "AccessDeniedException", f"the role's trust policy refuses {action}")
        duration = min(int(request.get("durationSeconds") or seconds), seconds)
        key_id, secret, token, expiration = assume(role, str(certificate.serial_number), duration)
        self.session_tags[key_id] = tags
        return {
            "credentialSet": [
                {
                    "assumedRoleUser": {"arn": f"{role}/{certificate.serial_number}", "assumedRoleId": key_id},
                    "credentials": {
                        "accessKeyId": key_id,
                        "secretAccessKey": secret,
                        "sessionToken": token,
                        "expiration": expiration,
                    },
                    "packedPolicySize": 0,
                    "roleArn": role,
                    "sourceIdentity": tags.get(contract.CITY_CERTIFICATE_TAG, ""),
                }
            ],
            "subjectArn": f"{anchor}/subject/{certificate.serial_number}",
        }

    @staticmethod
    def _authenticate(url: str, headers: Mapping[str, str], body: bytes) -> x509.Certificate:
        found = _AUTHORIZATION.match(headers.get("authorization", ""))
        if not found or "x-amz-x509" not in headers:
            raise SessionRefused(403, "AccessDeniedException", "CreateSession must be signed with an X.509 certificate")
        certificate = x509.load_der_x509_certificate(base64.b64decode(headers["x-amz-x509"]))
        if str(certificate.serial_number) != found["serial"]:
            raise SessionRefused(403, "AccessDeniedException", "the credential's serial is not the certificate's")
        names = found["headers"].split(";")
        request = AWSRequest(method="POST", url=url, headers={n: headers.get(n, "") for n in names}, data=body)
        request.context["timestamp"] = headers.get("x-amz-date", "")
        signer = SigV4Auth(Credentials("x509", "unused"), "rolesanywhere", found["region"])
        canonical = signer.canonical_request(request)
        scope = f"{found['date']}/{found['region']}/rolesanywhere/aws4_request"
        digest = hashes.Hash(hashes.SHA256())
        digest.update(canonical.encode())
        to_sign = "\n".join([found["algorithm"], request.context["timestamp"], scope, digest.finalize().hex()])
        if not _verifies(certificate.public_key(), bytes.fromhex(found["signature"]), to_sign.encode()):
            raise SessionRefused(403, "AccessDeniedException", "the request signature does not match the certificate")
        return certificate


def _verifies(key: Any, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _issued_by(certificate: x509.Certificate, authority: x509.Certificate) -> bool:
    if certificate.issuer != authority.subject:
        return False
    algorithm = certificate.signature_hash_algorithm
    key = authority.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(certificate.signature, certificate.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _certificate_tags(certificate: x509.Certificate) -> dict[str, str]:
    """The principal tags Roles Anywhere derives from a certificate (its subject's and issuer's CN)."""
    tags = {}
    for prefix, name in (("x509Subject", certificate.subject), ("x509Issuer", certificate.issuer)):
        common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        if common:
            tags[f"{prefix}/CN"] = str(common[0].value)
    return tags
