"""Prove, rule by rule, that a deployed stack honours the storage contract.

    python -m learning_images.verify.verify_contract --stack prod            # outputs from the Pulumi CLI
    python -m learning_images.verify.verify_contract --outputs outputs.json  # outputs from a file

Every rule is probed with the real tier credentials (the probe city, the Command Centre and
training roles) and reported PASS, FAIL or SKIP with the reason and the evidence (the request
made and the status or error code seen). Rules that rest on IAM conditions are probed like every
other: against AWS, or against the sandbox's enforcing local S3, which evaluates them as IAM does.

Exit codes: 0 nothing failed; 1 a rule failed; 2 usage, credentials, connection or time budget.
Every object a run creates (all versions, in the primary and the replica) is removed before it
exits, also when a probe fails or the run is interrupted. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import fcntl
import hashlib
import json
import os
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import boto3
import botocore
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from rich.console import Console
from rich.table import Table

from learning_images import PROJECT, contract, rules
from learning_images.ops import arguments
from learning_images.ops.clients import (
    CERTIFICATE_ERRORS,
    CREDENTIAL_ERRORS,
    CertificateSessionError,
    Endpoint,
    ProbeSessionMissingError,
    TierSessions,
    certificate_session,
    interrupts_as_exceptions,
    tier_sessions,
    without_expect_continue,
)
from learning_images.outputs import OutputsError, StackOutputs, add_outputs_arguments, outputs_from_args

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


class Verifier:
    """Runs the rules in order against one stack; remembers what it created for cleanup."""

    def __init__(
        self,
        outputs: StackOutputs,
        sessions: TierSessions,
        endpoint: Endpoint,
        *,
        wait_replication: float,
        plain_http_url: str | None = None,
        state_dir: Path | None = None,
    ):
        self.outputs = outputs
        #: When the run must stop (time.monotonic()); set by :meth:`run`.
        self.deadline = float("inf")
        #: Probe objects (bucket/key) the clean-up could not remove, or every one if it did not run to its end.
        self.left: list[str] = []
        #: Where the same store answers plain HTTP (default: the endpoint with http://).
        self.plain_http_url = plain_http_url
        #: Where the probe-key journal lives (None: no journal).
        self.state_dir = state_dir
        self.endpoint = endpoint
        self.wait_replication = wait_replication
        # The probe city's key is valid where cities upload: the R2 upload gateway, if there is one.
        at = dataclasses.replace(endpoint, url=outputs.city_endpoint_url) if outputs.city_endpoint_url else endpoint
        city = at.client(sessions.probe, "s3")
        if outputs.capabilities.upload_gateway:
            city = without_expect_continue(city)
        self.s3 = {
            "operator": endpoint.client(sessions.operator, "s3"),
            "city": city,
            "command-centre": endpoint.client(sessions.command_centre, "s3"),
            "training": endpoint.client(sessions.training, "s3"),
        }
        self.sessions = sessions
        self.created: list[str] = []
        self.results: list[Result] = []
        self.main_key = ""

    # --- helpers -------------------------------------------------------------------------------

    @property
    def bucket(self) -> str:
        return self.outputs.bucket_name

    def fields(self, **overrides: str) -> dict[str, str]:
        """A probe sample's metadata: the probe city, a correct label, now."""
        base = {
            contract.CITY_ID: contract.PROBE_CITY_ID,
            contract.CAMERA_ID: "probe-camera",
            contract.EVENT_ID: f"probe-{uuid.uuid4().hex[:12]}",
            contract.LABEL_STATUS: contract.Label.CORRECT.value,
            contract.UPLOADED_AT: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        return {k: v for k, v in {**base, **overrides}.items() if v != ""}

    def put(
        self,
        tier: str,
        key: str | None = None,
        *,
        tags: dict[str, str] | None = None,
        conditional: bool = True,
        lock: bool = False,
        body: bytes = PROBE_IMAGE,
    ) -> Attempt:
        """An upload as the contract asks for it, or as ``tags``/``conditional``/``lock``/``body``
        break it. ``tags`` values that are empty strings are sent blank, not left out."""
        key = key or new_key()
        tags = tags if tags is not None else self.fields()
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": contract.OBJECT_CONTENT_TYPE,
            "Metadata": {contract.metadata_key(k): v for k, v in tags.items()},
            # As the uploader sends it: the store (or the gateway) verifies the image it receives.
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
        }
        if self.outputs.capabilities.object_tags:
            args["Tagging"] = tag_header(tags)
        if conditional:
            args["IfNoneMatch"] = "*"
        if lock:
            # A COMPLIANCE date nobody could lift: the store must refuse it (GDPR erasure).
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = datetime(2099, 1, 1, tzinfo=UTC)
        self.created.append(key)
        self.remember(key)
        request = f"{tier}: PutObject {key}" + (" If-None-Match:*" if conditional else "")
        return attempt(request, lambda: self.s3[tier].put_object(**args))

    def record(self, rule: str, title: str, status: Status, evidence: object = "", reason: str = "") -> None:
        if time.monotonic() > self.deadline:
            raise CannotVerifyError(
                f"the time budget ran out after {len(self.results)} rules; raise --time-budget or check the "
                "endpoint's latency"
            )
        # The capability matrix decides: a rule the backend does not enforce is a GAP whatever
        # the probe saw (a gap is never a PASS), one its API cannot answer is SKIP. Where the
        # storage or the upload gateway holds the rule, the probe decides, and says which held it.
        gateway = self.outputs.capabilities.upload_gateway
        if treatment := rules.treatment(self.outputs.backend, rule, gateway=gateway):
            status, reason = Status(treatment[0]), treatment[1]
        held = rules.enforcement(self.outputs.backend, rule, gateway=gateway)
        enforcement = held.value if held and status in (Status.PASS, Status.FAIL) else ""
        self.results.append(Result(rule, title, status, str(evidence), reason, enforcement))

    def expect(
        self, rule: str, title: str, result: Attempt, *, allowed: bool, refused_with: set[str] | None = None
    ) -> None:
        refused_with = refused_with or ACCESS_DENIED
        good = result.ok if allowed else not result.ok and result.code in refused_with
        expected = "success" if allowed else " or ".join(sorted(refused_with))
        self.verdict(rule, title, good, result, f"expected {expected}")

    def verdict(self, rule: str, title: str, good: bool, evidence: object, reason: str = "") -> None:
        """PASS when ``good``; otherwise FAIL with ``reason``."""
        self.record(rule, title, Status.PASS if good else Status.FAIL, evidence, "" if good else reason)

    def read_config(self, operation: str) -> Attempt:
        """The operator reads one of the bucket's configurations back, e.g. ``GetBucketVersioning``."""
        method = getattr(self.s3["operator"], xform_name(operation))
        return attempt(f"operator: {operation} {self.bucket}", lambda: method(Bucket=self.bucket))

    def skip(self, rule: str, title: str, reason: str) -> None:
        self.record(rule, title, Status.SKIP, reason=reason)

    def conditional(self, rule: str, title: str, probe: Callable[[], Attempt]) -> None:
        """A refusal that rests on IAM conditions (a verdict on AWS and in the enforcing sandbox)."""
        self.expect(rule, title, probe(), allowed=False)

    # --- 1. configuration read back -----------------------------------------------------------

    def check_configuration(self) -> None:
        blocks = self.read_config("GetPublicAccessBlock")
        config = blocks.response.get("PublicAccessBlockConfiguration", {})
        all_on = blocks.ok and len(config) == 4 and all(config.values())
        self.verdict(
            "config.public-access-block",
            "all four public-access blocks are on",
            all_on,
            f"{blocks} {config}",
        )

        encryption = self.read_config("GetBucketEncryption")
        rules = encryption.response.get("ServerSideEncryptionConfiguration", {}).get("Rules", [{}])
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
        good = (
            default.get("SSEAlgorithm") == "aws:kms"
            and default.get("KMSMasterKeyID") == self.outputs.kms_key_arn
            and rules[0].get("BucketKeyEnabled") is True
        )
        self.verdict(
            "config.default-encryption",
            "default encryption is SSE-KMS with the stack's key and the bucket key",
            good,
            f"{encryption} {default}",
        )

        versioning = self.read_config("GetBucketVersioning")
        on = versioning.response.get("Status") == "Enabled"
        self.verdict("config.versioning", "versioning is enabled", on, versioning)

        lifecycle = self.read_config("GetBucketLifecycleConfiguration")
        expected = {rule.id: _expected_rule(rule) for rule in self.outputs.lifecycle.rules()}
        actual = {rule.get("ID"): _actual_rule(rule) for rule in lifecycle.response.get("Rules", [])}
        diff = {
            rid: (expected.get(rid), actual.get(rid))
            for rid in expected.keys() | actual.keys()
            if expected.get(rid) != actual.get(rid)
        }
        self.verdict(
            "config.lifecycle",
            "lifecycle rules equal the contract's",
            lifecycle.ok and not diff,
            lifecycle,
            f"differs: {diff}",
        )

        self.check_replication_configuration()
        self.check_object_lock()
        self.check_bucket_policy()

    def check_replication_configuration(self) -> None:
        rule, title = "config.replication", "objects replicate, KMS-encrypted, to the replica"
        replica = self.outputs.replica
        if replica is None:
            self.skip(rule, title, "the stack has no replica (replication off)")
            return
        got = self.read_config("GetBucketReplication")
        rules = got.response.get("ReplicationConfiguration", {}).get("Rules", [])
        good = any(
            r.get("Status") == "Enabled"
            and r.get("Destination", {}).get("Bucket") == replica.bucket_arn
            and r.get("Destination", {}).get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")
            == replica.kms_key_arn
            and r.get("DeleteMarkerReplication", {}).get("Status") == "Disabled"
            for r in rules
        )
        self.verdict(rule, title, good, got)

    def check_object_lock(self) -> None:
        rule, title = "config.object-lock", "Object Lock default retention is the stack's"
        lock = self.outputs.object_lock
        if lock is None:
            self.skip(rule, title, "the stack asked for no Object Lock")
            return
        got = self.read_config("GetObjectLockConfiguration")
        retention = got.response.get("ObjectLockConfiguration", {}).get("Rule", {}).get("DefaultRetention", {})
        good = retention.get("Mode") == lock.mode and retention.get("Days") == lock.days
        self.verdict(rule, title, good, f"{got} {retention}")

    def check_bucket_policy(self) -> None:
        rule, title = "config.bucket-policy-guards", "the bucket policy carries every guard"
        got = self.read_config("GetBucketPolicy")
        present = {s.get("Sid") for s in json.loads(got.response.get("Policy", "{}")).get("Statement", [])}
        expected = rules.learning_bucket_sids(administrators=bool(self.outputs.configuration_administrators))
        missing = sorted(expected - present)
        self.verdict(
            rule,
            title,
            got.ok and not missing,
            got,
            f"missing: {missing}",
        )

    # --- 2. a valid upload, read back -----------------------------------------------------------

    def check_valid_upload(self) -> None:
        key = new_key()
        fields = self.fields()
        upload = self.put("city", key, tags=fields)
        self.expect("upload.accepted", "the probe city's valid upload is accepted", upload, allowed=True)
        if not upload.ok:
            for rule in ("upload.read-back", "upload.encrypted", "upload.reference"):
                self.skip(rule, "needs the valid upload", "the valid upload was refused")
            return
        self.main_key = key
        cc = self.s3["command-centre"]
        head = attempt(f"command-centre: HeadObject {key}", lambda: cc.head_object(Bucket=self.bucket, Key=key))
        tags = attempt(
            f"command-centre: GetObjectTagging {key}", lambda: cc.get_object_tagging(Bucket=self.bucket, Key=key)
        )
        metadata = head.response.get("Metadata", {})
        tag_set = {t["Key"]: t["Value"] for t in tags.response.get("TagSet", [])}
        expected_metadata = {contract.metadata_key(k): v for k, v in fields.items()}
        identical = (
            head.ok
            and metadata == expected_metadata
            and (not self.outputs.capabilities.object_tags or (tags.ok and tag_set == fields))
        )
        self.verdict(
            "upload.read-back",
            "the Command Centre reads it back with identical metadata and tags",
            identical,
            f"{head}; {tags}",
            f"metadata {metadata}, tags {tag_set}",
        )
        encrypted = (
            head.response.get("ServerSideEncryption") == "aws:kms"
            and head.response.get("SSEKMSKeyId") == self.outputs.kms_key_arn
        )
        self.verdict(
            "upload.encrypted",
            "it is encrypted with the stack's KMS key",
            encrypted,
            head,
            f"encryption {head.response.get('ServerSideEncryption')} key {head.response.get('SSEKMSKeyId')}",
        )
        reference = self.outputs.reference(key)
        good = reference == f"{self.outputs.capabilities.reference_scheme}://{self.bucket}/{key}"
        self.verdict(
            "upload.reference",
            "its image_reference is in the backend's format",
            good,
            reference,
        )

    # --- 3. refusals -----------------------------------------------------------------------------

    def check_refusals(self) -> None:
        if self.main_key:
            again = self.put("city", self.main_key)
            self.expect(
                "refuse.overwrite",
                "the same key uploaded again is refused",
                again,
                allowed=False,
                refused_with={"PreconditionFailed", "412"},
            )
        else:
            self.skip("refuse.overwrite", "the same key uploaded again is refused", "the valid upload was refused")
        self.conditional(
            "refuse.without-if-none-match",
            "an upload without If-None-Match is refused",
            lambda: self.put("city", conditional=False),
        )
        self.conditional(
            "refuse.unsure-label",
            "an upload labelled unsure is refused",
            lambda: self.put("city", tags=self.fields(label_status=contract.Label.UNSURE.value)),
        )
        self.conditional(
            "refuse.missing-tag",
            "an upload missing a metadata tag is refused",
            lambda: self.put("city", tags=self.fields(camera_id="")),
        )
        self.conditional(
            "refuse.other-city",
            "an upload tagged as another city is refused",
            lambda: self.put("city", tags=self.fields(city_id="another-city")),
        )
        self.conditional(
            "refuse.key-with-slash",
            "a key with '/' is refused",
            lambda: self.put("city", f"paris/{new_key()}"),
        )
        self.conditional(
            "refuse.key-not-uuid",
            "a key that is not <uuid>.jpg is refused",
            lambda: self.put("city", "not-a-uuid.png"),
        )
        self.conditional(
            "refuse.blank-metadata",
            "an upload with a blank metadata value is refused",
            lambda: self.put("city", tags={**self.fields(), contract.CAMERA_ID: ""}),
        )
        self.conditional(
            "refuse.not-jpeg",
            "an upload whose body is not a JPEG is refused",
            lambda: self.put("city", body=b"\x89PNG\r\n\x1a\nprobe-not-a-jpeg"),
        )
        self.conditional(
            "refuse.lock-headers",
            "an upload that sets its own Object Lock retention is refused",
            lambda: self.put("city", lock=True),
        )
        if self.main_key:
            key = self.main_key
            # s3:PutObjectTagging is also the tag part of every upload: the refusal rests on the
            # stored object's tags (s3:ExistingObjectTag).
            self.conditional(
                "refuse.tag-rewrite",
                "a tag rewrite is refused, even to the Command Centre",
                lambda: attempt(
                    f"command-centre: PutObjectTagging {key}",
                    lambda: self.s3["command-centre"].put_object_tagging(
                        Bucket=self.bucket,
                        Key=key,
                        Tagging={"TagSet": [{"Key": contract.LABEL_STATUS, "Value": "changed"}]},
                    ),
                ),
            )

    # --- 4. tiers ----------------------------------------------------------------------------------

    def operation(self, tier: str, name: str) -> Attempt:
        s3, bucket, key = self.s3[tier], self.bucket, self.main_key
        calls: dict[str, Callable[[], dict[str, Any]]] = {
            "GetObject": lambda: s3.get_object(Bucket=bucket, Key=key),
            "ListObjectsV2": lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key),
            "ListObjectVersions": lambda: s3.list_object_versions(Bucket=bucket, Prefix=key),
            "GetObjectTagging": lambda: s3.get_object_tagging(Bucket=bucket, Key=key),
            "DeleteObject": lambda: s3.delete_object(Bucket=bucket, Key=key),
        }
        if name == "PutObject":
            return self.put(tier)
        return attempt(f"{tier}: {name} {key}", calls[name])

    def check_tiers(self) -> None:
        if not self.main_key:
            self.skip("tier.*", "tier probes", "need the valid upload, which was refused")
            return
        plan = [
            (contract.CITY, ["GetObject", "ListObjectsV2", "GetObjectTagging", "DeleteObject"]),
            (
                contract.TRAINING,
                ["GetObject", "GetObjectTagging", "ListObjectsV2", "ListObjectVersions", "PutObject", "DeleteObject"],
            ),
            (
                contract.COMMAND_CENTRE,
                ["GetObject", "GetObjectTagging", "ListObjectsV2", "ListObjectVersions", "PutObject"],
            ),
        ]
        # Destructive probes after every other tier's: where a backend lets a tier delete (an R2
        # city token, once its lock has passed), the object must still be there for the reads.
        probes = [(tier, name) for tier, operations in plan for name in operations]
        probes.sort(key=lambda probe: probe[1].startswith("Delete"))
        for tier, name in probes:
            allowed = contract.may(tier, name)
            self.expect(
                f"tier.{tier.name}.{name}",
                f"{tier.name} {'may' if allowed else 'may not'} {name}",
                self.operation(tier.name, name),
                allowed=allowed,
            )
        self.check_erase_versions()

    def check_erase_versions(self) -> None:
        """GDPR: the Command Centre removes an object for good, every version of it."""
        key = new_key()
        upload = self.put("command-centre", key)
        cc = self.s3["command-centre"]
        versions = attempt(
            f"command-centre: ListObjectVersions {key}", lambda: cc.list_object_versions(Bucket=self.bucket, Prefix=key)
        )
        ids = [v["VersionId"] for v in versions.response.get("Versions", []) if v["Key"] == key]

        def erase(version: str) -> Attempt:
            return attempt(
                f"command-centre: DeleteObject {key} version {version}",
                lambda: cc.delete_object(Bucket=self.bucket, Key=key, VersionId=version, **self.bypass()),
            )

        deleted = [erase(v) for v in ids]
        after = attempt(
            f"command-centre: ListObjectVersions {key}", lambda: cc.list_object_versions(Bucket=self.bucket, Prefix=key)
        )
        gone = not after.response.get("Versions") and not after.response.get("DeleteMarkers")
        good = upload.ok and bool(ids) and all(d.ok for d in deleted) and gone
        self.verdict(
            "tier.command-centre.DeleteObjectVersion",
            "command-centre may erase every version of an object",
            good,
            "; ".join(str(a) for a in [upload, versions, *deleted, after]),
        )

    def bypass(self) -> dict[str, bool]:
        return {"BypassGovernanceRetention": True} if self.outputs.object_lock else {}

    # --- 5. anonymous and plain HTTP --------------------------------------------------------------

    def check_public_access(self) -> None:
        anonymous = self.endpoint.client(boto3.Session(), "s3", signature_version=botocore.UNSIGNED)
        key = self.main_key or new_key()
        read = attempt(f"anonymous: GetObject {key}", lambda: anonymous.get_object(Bucket=self.bucket, Key=key))
        self.expect("access.anonymous-read-refused", "an anonymous read is refused", read, allowed=False)
        listing = attempt(
            f"anonymous: ListObjectsV2 {self.bucket}", lambda: anonymous.list_objects_v2(Bucket=self.bucket)
        )
        self.expect("access.anonymous-list-refused", "an anonymous listing is refused", listing, allowed=False)

        rule, title = "access.plain-http-refused", "requests over plain HTTP are refused"
        if not self.outputs.capabilities.plain_http_listener:  # a probe would only time out
            self.skip(rule, title, "")
            return
        url = self.plain_http_url or (self.endpoint.url or f"https://s3.{self.outputs.region}.amazonaws.com").replace(
            "https://", "http://", 1
        )
        plain = self.sessions.command_centre.client("s3", endpoint_url=url, config=self.endpoint.config())
        got = attempt(
            f"command-centre: GetObject {key} over {url}", lambda: plain.get_object(Bucket=self.bucket, Key=key)
        )
        self.expect(rule, title, got, allowed=False)

    # --- 6. replication ----------------------------------------------------------------------------

    def check_replication(self) -> None:
        rule, title = "replication.arrives", "the probe object arrives in the replica, encrypted and tagged"
        replica = self.outputs.replica
        if not self.wait_replication:
            self.skip(rule, title, "not asked (--wait-replication SECONDS)")
            return
        if replica is None or not self.main_key:
            self.skip(rule, title, "the stack has no replica" if replica is None else "the valid upload was refused")
            return
        s3 = self.endpoint.client(self.sessions.operator, "s3", region_name=replica.region)
        deadline = time.monotonic() + self.wait_replication
        head = Attempt("", "")
        while time.monotonic() < deadline:
            head = attempt(
                f"operator: HeadObject {replica.bucket_name}/{self.main_key}",
                lambda: s3.head_object(Bucket=replica.bucket_name, Key=self.main_key),
            )
            if head.ok:
                break
            time.sleep(5)
        tags = attempt(
            f"operator: GetObjectTagging {replica.bucket_name}/{self.main_key}",
            lambda: s3.get_object_tagging(Bucket=replica.bucket_name, Key=self.main_key),
        )
        good = (
            head.ok
            and head.response.get("SSEKMSKeyId") == replica.kms_key_arn
            and len(tags.response.get("TagSet", [])) == len(contract.METADATA_FIELDS)
        )
        self.verdict(
            rule,
            title,
            good,
            f"{head}; {tags}",
            f"not replicated within {self.wait_replication:.0f}s",
        )

    # --- run and clean up -------------------------------------------------------------------------

    @property
    def journal(self) -> Path | None:
        """Where this verifier notes each probe key before writing it, per bucket: a run killed
        (SIGKILL) before its cleanup leaves them there, and the next run removes them first."""
        if self.state_dir is None:
            return None
        return self.state_dir / f"probes-{store_name(self.bucket, self.endpoint.url)}.txt"

    def remember(self, key: str) -> None:
        if self.journal is None:
            return
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        with self.journal.open("a", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def clean_up_previous(self) -> None:
        """Probe objects a killed run left (its journal survived it): removed before this run."""
        if self.journal is None or not self.journal.exists():
            return
        left = [line for line in self.journal.read_text(encoding="utf-8").split() if line]
        if left:
            self.created = list(dict.fromkeys(left))
            self.clean_up()
            print(f"removed the probe objects a stopped run left behind: {', '.join(self.created)}", file=sys.stderr)
            self.created = []
        self.journal.unlink(missing_ok=True)

    def preflight(self) -> None:
        """One request, one attempt, before any probe: an endpoint that accepts connections and never
        answers stops the run within one timeout, not after every probe's retries."""
        quick = self.endpoint.client(
            self.sessions.command_centre, "s3", retries={"mode": "standard", "max_attempts": 1}
        )
        attempt(f"command-centre: HeadBucket {self.bucket} (pre-flight)", lambda: quick.head_bucket(Bucket=self.bucket))

    def run(self, deadline: float) -> list[Result]:
        self.deadline = deadline
        steps = [
            self.check_configuration,
            self.check_valid_upload,
            self.check_refusals,
            self.check_tiers,
            self.check_public_access,
            self.check_replication,
        ]
        self.preflight()
        self.clean_up_previous()
        try:
            for step in steps:
                if time.monotonic() > deadline:
                    raise CannotVerifyError(
                        "the time budget ran out before every rule was checked; "
                        "raise --time-budget or check the endpoint's latency"
                    )
                step()
        finally:
            self.clean_up()
            # Kept while anything is left: the next run removes what it names.
            if self.journal is not None and not self.left:
                self.journal.unlink(missing_ok=True)
        return self.results

    def clean_up(self) -> None:
        """Delete every version and delete marker of every key this run wrote, primary and replica.
        What could not be removed is in :attr:`left` (all of it until the clean-up ends)."""
        self.left = [f"{self.bucket}/{key}" for key in dict.fromkeys(self.created)]
        kept = self._clean_up()
        self.left = kept

    def _clean_up(self) -> list[str]:
        targets = [(self.s3["command-centre"], self.bucket)]
        if self.outputs.replica:
            replica = self.outputs.replica
            targets.append(
                (
                    self.endpoint.client(self.sessions.command_centre, "s3", region_name=replica.region),
                    replica.bucket_name,
                )
            )
        if not self.outputs.capabilities.object_versions:
            return self.clean_up_locked()
        kept = []
        for s3, bucket in targets:
            for key in dict.fromkeys(self.created):
                try:
                    listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
                    for version in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]:
                        if version["Key"] == key:
                            s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"], **self.bypass())
                except (ClientError, BotoCoreError) as exc:
                    kept.append(f"{bucket}/{key}")
                    print(f"warning: could not remove probe object {bucket}/{key}: {exc}", file=sys.stderr)
        return kept

    def clean_up_locked(self) -> list[str]:
        """R2 has no versions, and its bucket lock refuses deletions until objects are older than
        the lock: delete what can be deleted, and name what stays and until when."""
        s3, kept = self.s3["command-centre"], []
        for key in dict.fromkeys(self.created):
            try:
                s3.delete_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in {"NoSuchKey", "404"}:
                    kept.append(key)
        if kept:
            print(
                f"warning: {len(kept)} probe objects stay locked for {self.outputs.bucket_lock_days} days "
                f"(city_id={contract.PROBE_CITY_ID}; the retention job removes them afterwards): {', '.join(kept)}",
                file=sys.stderr,
            )
        return [f"{self.bucket}/{key}" for key in kept]


def _expected_rule(rule: contract.LifecycleRule) -> dict[str, Any]:
    return {
        "tag": list(rule.tag) if rule.tag else None,
        "transition": [rule.transition_days, rule.transition_class] if rule.transition_class else None,
        "expiration_days": rule.expiration_days,
        "expired_object_delete_marker": rule.expired_object_delete_marker,
        "noncurrent_days": rule.noncurrent_expiration_days,
        "abort_days": rule.abort_incomplete_multipart_days,
    }


def _actual_rule(rule: dict[str, Any]) -> dict[str, Any]:
    tag = rule.get("Filter", {}).get("Tag")
    transitions = rule.get("Transitions") or []
    expiration = rule.get("Expiration", {})
    return {
        "tag": [tag["Key"], tag["Value"]] if tag else None,
        "transition": [transitions[0].get("Days"), transitions[0].get("StorageClass")] if transitions else None,
        "expiration_days": expiration.get("Days"),
        "expired_object_delete_marker": bool(expiration.get("ExpiredObjectDeleteMarker", False)),
        "noncurrent_days": rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
        "abort_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
    }


# --- reports ---------------------------------------------------------------------------------------


def summary(results: list[Result]) -> str:
    count = {status: sum(r.status is status for r in results) for status in Status}
    gaps = f", {count[Status.GAP]} backend gap{'s' if count[Status.GAP] != 1 else ''}" if count[Status.GAP] else ""
    by_gateway = sum(r.status is Status.PASS and r.enforcement == rules.Enforcement.GATEWAY for r in results)
    held = f" ({by_gateway} of them enforced by the gateway)" if by_gateway else ""
    return f"{count[Status.PASS]} rules passed{held}, {count[Status.FAIL]} failed, {count[Status.SKIP]} skipped{gaps}"


def print_table(results: list[Result], console: Console) -> None:
    table = Table(title="Storage contract verification", show_lines=False)
    # Status and rule ids are never broken: a reader greps for `refuse.overwrite`, not `refuse.ove`.
    table.add_column("status", no_wrap=True)
    table.add_column("rule", no_wrap=True, min_width=max((len(r.rule) for r in results), default=4))
    for column in ("what", "enforced by", "evidence / reason"):
        table.add_column(column, overflow="fold")
    colours = {Status.PASS: "green", Status.FAIL: "red", Status.SKIP: "yellow", Status.GAP: "magenta"}
    for r in results:
        detail = " | ".join(part for part in (r.evidence, r.reason) if part)
        held = r.enforcement.removeprefix("enforced by the ")
        table.add_row(f"[{colours[r.status]}]{r.status.value}[/]", r.rule, r.title, held, detail)
    console.print(table)
    console.print(summary(results))


def write_json(results: list[Result], path: Path) -> None:
    path.write_text(
        json.dumps(
            {"summary": summary(results), "results": [r.__dict__ | {"status": r.status.value} for r in results]},
            indent=2,
        )
    )


def write_junit(results: list[Result], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="storage-contract",
        tests=str(len(results)),
        failures=str(sum(r.status is Status.FAIL for r in results)),
        skipped=str(sum(r.status in {Status.SKIP, Status.GAP} for r in results)),
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=r.rule.split(".")[0], name=r.rule)
        if r.status is Status.FAIL:
            ET.SubElement(case, "failure", message=r.reason or r.title).text = r.evidence
        elif r.status in {Status.SKIP, Status.GAP}:
            ET.SubElement(case, "skipped", message=f"{r.status.value}: {r.reason}")
        ET.SubElement(case, "system-out").text = f"{r.title}: {r.evidence}"
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)


# --- command line ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser("verify", "Prove a deployed stack honours the storage contract.")
    add_outputs_arguments(parser)
    parser.add_argument("--endpoint-url", help="S3/IAM/STS endpoint (default: the backend's own, e.g. AWS)")
    parser.add_argument(
        "--plain-http-url",
        default=os.environ.get("LEARNING_IMAGES_PLAIN_HTTP_URL"),
        help="where the store answers plain HTTP, to prove it refuses (default: the endpoint's)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / PROJECT,
        help="where probe keys are noted before each upload, so a run killed before its cleanup is "
        "cleaned by the next (default: $XDG_STATE_HOME/learning-images)",
    )
    probe = parser.add_mutually_exclusive_group()
    probe.add_argument(
        "--probe-certificate",
        type=Path,
        help=f"where cities authenticate with certificates: a certificate (PEM) of the cities' CA with CN "
        f"{contract.PROBE_CITY_ID}, the probe city's identity (needs --probe-private-key, the [certificates] extra)",
    )
    probe.add_argument(
        "--probe-profile",
        help="where cities authenticate with certificates: an AWS profile whose credential_process presents the "
        f"{contract.PROBE_CITY_ID} certificate (aws_signing_helper credential-process ...)",
    )
    parser.add_argument("--probe-private-key", type=Path, help="the private key of --probe-certificate (PEM)")
    parser.add_argument(
        "--time-budget", type=arguments.positive_seconds, default=300.0, help="seconds for the whole run (default: 300)"
    )
    parser.add_argument(
        "--wait-replication",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also wait this long for the probe object in the replica",
    )
    parser.add_argument("--json", type=Path, dest="json_path", help="also write the report as JSON here")
    parser.add_argument("--junit", type=Path, help="also write the report as JUnit XML here (for CI)")
    args = parser.parse_args(argv)
    if (args.probe_certificate is None) != (args.probe_private_key is None):
        parser.error("--probe-certificate and --probe-private-key go together")
    return args


def probe_session(args: argparse.Namespace, outputs: StackOutputs) -> boto3.Session | None:
    """The probe city's session from a certificate or a profile; None: its key from the outputs."""
    if args.probe_certificate is not None:
        return certificate_session(outputs, args.probe_certificate, args.probe_private_key)
    if args.probe_profile is not None:
        return boto3.Session(profile_name=args.probe_profile, region_name=outputs.region)
    return None


def main(argv: list[str] | None = None, *, operator: boto3.Session | None = None) -> int:
    args = parse_args(argv)
    # Wide enough for the evidence column when the output is a CI log rather than a terminal.
    console = Console(width=None if sys.stdout.isatty() else 180)
    journal = args.state_dir / "probes-*.txt"
    # Installed first, so no signal at any instant kills the run with a traceback or a signal's exit
    # status: the first unwinds (clean-up runs), a second exits 2 at once, naming the journal.
    with interrupts_as_exceptions(
        second=f"probe objects may remain; {journal} names them and the next run removes them", exit_code=2
    ):
        try:
            return verify(args, console, operator)
        except KeyboardInterrupt:
            console.print(f"[red]interrupted:[/] nothing was verified to the end; {journal} names what may remain")
            return 2


def verify(args: argparse.Namespace, console: Console, operator: boto3.Session | None) -> int:
    try:
        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
    except OutputsError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    endpoint = Endpoint(
        url=args.endpoint_url or outputs.endpoint_url,
        region=outputs.region,
        timeout=max(1.0, min(30.0, args.time_budget / 10)),
    )
    deadline = time.monotonic() + args.time_budget
    verifier = None
    try:
        with state_lock(args.state_dir, store_name(outputs.bucket_name, endpoint.url)):
            try:
                if outputs.command_centre_role_arn is not None and operator is None:  # tiers are roles
                    operator = boto3.Session(region_name=outputs.region)
                sessions = tier_sessions(outputs, operator, endpoint, probe=probe_session(args, outputs))
            except ClientError as exc:
                raise CannotVerifyError(
                    f"cannot assume the tier roles as the operator ({exc.response['Error']['Code']}): run with "
                    f"credentials allowed to assume {outputs.command_centre_role_arn} and {outputs.training_role_arn}"
                ) from None
            except NoCredentialsError:
                raise CannotVerifyError(
                    "no AWS credentials for the operator: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                    "or a CI role allowed to assume the tier roles"
                ) from None
            except BotoCoreError as exc:
                raise CannotVerifyError(f"cannot reach or authenticate to the endpoint: {exc}") from None
            except (ProbeSessionMissingError, CertificateSessionError) as exc:
                raise CannotVerifyError(str(exc)) from None
            verifier = Verifier(
                outputs,
                sessions,
                endpoint,
                wait_replication=args.wait_replication,
                plain_http_url=args.plain_http_url,
                state_dir=args.state_dir,
            )
            try:
                results = verifier.run(deadline)
            except KeyboardInterrupt:
                console.print(f"[red]interrupted:[/] {left_note(verifier)}; nothing was verified to the end")
                return 2
    except CannotVerifyError as exc:
        console.print(f"[red]error:[/] {exc}" + (f"; {left_note(verifier)}" if verifier else ""))
        return 2
    except Exception as exc:  # a probe that broke half-way: cleanup has run, say what broke
        console.print(
            f"[red]error:[/] the verification stopped on an unexpected {type(exc).__name__}: {exc}"
            + (f"; {left_note(verifier)}" if verifier else "")
        )
        return 2
    print_table(results, console)
    if args.json_path:
        write_json(results, args.json_path)
    if args.junit:
        write_junit(results, args.junit)
    return 1 if any(r.status is Status.FAIL for r in results) else 0


def left_note(verifier: Verifier) -> str:
    """Exactly what the clean-up left, and where the next run finds it."""
    if not verifier.left:
        return "every probe object was removed"
    return (
        f"{len(verifier.left)} probe objects remain ({', '.join(verifier.left)}); {verifier.journal} names them and "
        "the next run removes them first"
    )


def store_name(bucket: str, endpoint_url: str | None) -> str:
    """What names one store in the state directory: its bucket, and where another endpoint than the
    backend's own serves it (two sandboxes may hold buckets of one name), a digest of that URL."""
    if endpoint_url is None:
        return bucket
    return f"{bucket}-{hashlib.sha256(endpoint_url.encode()).hexdigest()[:8]}"


@contextmanager
def state_lock(state_dir: Path | None, store: str) -> Iterator[None]:
    """One verifier per store and state directory: two share the probe journal and would remove
    each other's probes mid-run (5 FAILs that were not the store's). An exclusive lock on
    ``<state-dir>/lock-<store>``, held for the run."""
    if state_dir is None:
        yield
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / f"lock-{store}").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CannotVerifyError(
                f"another verification of this store is running with the state directory {state_dir}; wait for "
                "it, or give this one its own --state-dir"
            ) from None
        yield


if __name__ == "__main__":
    sys.exit(main())
