"""The verifier's state and helpers: tier clients, probe uploads, verdicts, the clean-up."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from learning_images import contract, rules
from learning_images.ops.clients import (
    Endpoint,
    TierSessions,
    without_expect_continue,
)
from learning_images.outputs import StackOutputs
from learning_images.verify.journal import journal_path, note
from learning_images.verify.probes import (
    ACCESS_DENIED,
    PROBE_IMAGE,
    Attempt,
    CannotVerifyError,
    Result,
    Status,
    attempt,
    new_key,
    tag_header,
)


class VerifierBase:
    """One stack's clients and results, the probe helpers every check uses, and the clean-up of
    what the run created. The checks (``checks/``) add one area of rules each."""

    def __init__(
        self,
        outputs: StackOutputs,
        sessions: TierSessions,
        endpoint: Endpoint,
        *,
        wait_replication: float,
        plain_http_url: str | None = None,
        state_dir: Path | None = None,
        learning_store: SecretStr | None = None,
        wait_registration: float = 60.0,
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
        #: The learning store's URL (a secret), where the registration rules read the probe's row.
        self.learning_store = learning_store
        self.wait_registration = wait_registration
        # The probe city's key is valid where cities upload: the R2 upload gateway, if there is one.
        at = (
            dataclasses.replace(endpoint, url=outputs.city_endpoint_url, region=outputs.cities_region)
            if outputs.city_endpoint_url
            else endpoint
        )
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

    def erase_every_version(self, key: str) -> tuple[Attempt, list[Attempt]]:
        """The Command Centre's GDPR erasure of ``key``: its versions listed, each deleted (with the
        governance bypass where Object Lock is on). The listing, and one attempt per version."""
        cc = self.s3["command-centre"]
        listing = attempt(
            f"command-centre: ListObjectVersions {key}", lambda: cc.list_object_versions(Bucket=self.bucket, Prefix=key)
        )
        ids = [str(v["VersionId"]) for v in listing.response.get("Versions", []) if v["Key"] == key]

        def erase(version: str) -> Attempt:
            return attempt(
                f"command-centre: DeleteObject {key} version {version}",
                lambda: cc.delete_object(Bucket=self.bucket, Key=key, VersionId=version, **self.bypass()),
            )

        return listing, [erase(v) for v in ids]

    def bypass(self) -> dict[str, bool]:
        return {"BypassGovernanceRetention": True} if self.outputs.object_lock else {}

    # --- the journal and the clean-up ------------------------------------------------------------

    @property
    def journal(self) -> Path | None:
        """Where this verifier notes each probe key before writing it: a run killed (SIGKILL) before
        its clean-up leaves them there, and the next run removes them first."""
        return None if self.state_dir is None else journal_path(self.state_dir, self.bucket, self.endpoint.url)

    def remember(self, key: str) -> None:
        if self.journal is not None:
            note(self.journal, key)

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
