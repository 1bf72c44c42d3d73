"""The daily batch upload of a city: the reference client of the storage contract.

    python -m learning_images.ops.upload_batch --outputs outputs.json --city paris \\
        --images batch/ --manifest batch/manifest.csv --report paris-2026-11-24.jsonl

Selection as the contract says: ``unsure`` samples and samples below ``--min-quality`` are
excluded; a record with a missing or malformed field is ``invalid`` (the report names the field
and the reason) and never uploaded. Every manifest row ends in the report.

Each sample's key is a UUID v5 of its identity: city, camera, event, label and image content
(``contract.sample_key``; a correction is a new object), and
every upload is create-only (``If-None-Match: *``): a 412 means the sample is already stored and
counts as success, so a rerun, an interrupted batch run again, or the same sample in two
batches never creates a duplicate. An upload carries the contract's metadata (user metadata,
and on AWS the same fields as tags, which the bucket policy and lifecycle read), the image's
SHA-256 as metadata and as a checksum S3 verifies, and ``Content-Type: image/jpeg``.

Large files: the AWS store denies multipart uploads (their parts carry no tags, so the bucket
policy could not tell a tag-less completion from a tag-less upload; ``guards.deny_multipart_upload``),
so on AWS an image is one PUT of at most 5 GiB. On R2, which has no such guard, files above
``--multipart-threshold`` go multipart with a create-only ``CompleteMultipartUpload``. boto3's
``upload_file`` is not used: it cannot send ``If-None-Match`` (boto3 issue 4366).

Exit codes: 0 every sample is stored (or already was) or left out by the contract's selection;
1 some row was invalid or failed (see the report); 2 usage, manifest, images folder, credentials
or endpoint, before anything is sent (no report is written); 130 interrupted (no report; rerun
to finish).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email.utils
import hashlib
import json
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import botocore.exceptions
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from learning_images import contract
from learning_images.backends import BACKENDS, DEFAULT, BackendProfile, backend, profile_for
from learning_images.ops import arguments
from learning_images.ops.clients import (
    CERTIFICATE_ERRORS,
    CREDENTIAL_ERRORS,
    CertificateSessionError,
    Endpoint,
    certificate_session,
    interrupts_as_exceptions,
    key_session,
    new_session,
    without_expect_continue,
)
from learning_images.ops.manifest import ManifestError, Record, Sample, check_manifest, read_manifest
from learning_images.ops.reports import (
    JsonlReport,
    ReportBusyError,
    ReportPathError,
    ReportWriteError,
    print_counts,
)
from learning_images.outputs import (
    OutputsError,
    StackOutputs,
    add_outputs_arguments,
    outputs_from_args,
)

JPEG_MAGIC = contract.JPEG_MAGIC
#: Images up to this size are read once into memory (hash and body from the same bytes); larger
#: ones are hashed and sent as a stream. Memory stays below workers x this, whatever the batch.
IN_MEMORY_LIMIT = 8 * 1024**2
CHUNK = 1024**2
#: R2 wants equal parts except the last; 16 MiB keeps workers x part size modest.
PART_SIZE = 16 * 1024**2
CONFLICT_ATTEMPTS = 3


class Status(StrEnum):
    UPLOADED = "uploaded"
    ALREADY_PRESENT = "already-present"
    EXCLUDED_UNSURE = "excluded-unsure"
    EXCLUDED_QUALITY = "excluded-quality"
    INVALID = "invalid"
    FAILED = "failed"


STATUS_ORDER = [s.value for s in Status]


class FatalError(Exception):
    """The batch cannot go on (credentials, endpoint): exit 2 with this message, no report."""


@dataclass(frozen=True)
class Target:
    """Where a batch goes: the bucket, what its backend can do, and its endpoint."""

    bucket: str
    profile: BackendProfile
    endpoint: Endpoint

    def reference(self, key: str) -> str:
        return contract.object_reference(self.profile.reference_scheme, self.bucket, key)


@dataclass(frozen=True)
class Options:
    city_id: str
    images: Path
    uploaded_at: str
    min_quality: float | None
    multipart_threshold: int
    part_size: int = PART_SIZE


@dataclass(frozen=True)
class Image:
    path: Path
    size: int
    #: The bytes, for an image up to IN_MEMORY_LIMIT; None for a larger one (streamed).
    body: bytes | None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


class Uploader:
    """Turns one manifest record into one report row; safe to call from many threads."""

    def __init__(self, s3: Any, target: Target, options: Options) -> None:
        self.s3 = s3
        self.target = target
        self.options = options
        self.stop = threading.Event()
        self.root = options.images.resolve()

    # --- selection ---------------------------------------------------------------------------

    def row(self, record: Record, status: Status, **extra: Any) -> dict[str, Any]:
        raw = record.sample.model_dump(mode="json") if record.sample else record.raw
        return {
            "row": record.row,
            "image": raw.get("image"),
            "city_id": self.options.city_id,
            "camera_id": raw.get("camera_id"),
            "event_id": raw.get("event_id"),
            "label_status": raw.get("label_status"),
            "captured_at": raw.get("captured_at"),
            "status": status.value,
            "key": None,
            "image_reference": None,
            "content_sha256": None,
            "uploaded_at": None,
            "error": None,
            **extra,
        }

    def invalid(self, record: Record, errors: dict[str, str]) -> dict[str, Any]:
        return self.row(
            record,
            Status.INVALID,
            fields=sorted(errors),
            error="; ".join(f"{field}: {reason}" for field, reason in sorted(errors.items())),
        )

    def selected(self, record: Record) -> dict[str, Any] | None:
        """The row of a record the contract keeps out of the store, or None to upload it."""
        sample = record.sample
        if sample is None:
            # Every problem of the row at once: its fields, and its image if the path itself is valid.
            errors = dict(record.errors)
            image = record.raw.get("image")
            if "image" not in errors and isinstance(image, str) and image:
                found = self.open_image(image)
                if isinstance(found, str):
                    errors["image"] = found
            return self.invalid(record, errors)
        if sample.label_status in contract.EXCLUDED_LABELS:
            return self.row(record, Status.EXCLUDED_UNSURE)
        if self.options.min_quality is not None:
            if sample.quality is None:
                return self.invalid(record, {"quality": "required when a --min-quality threshold is set"})
            if sample.quality < self.options.min_quality:
                return self.row(record, Status.EXCLUDED_QUALITY)
        return None

    def process(self, record: Record) -> dict[str, Any]:
        if (excluded := self.selected(record)) is not None:
            return excluded
        sample = record.sample
        assert sample is not None
        image = self.open_image(sample.image)
        if isinstance(image, str):
            return self.invalid(record, {"image": image})
        if self.stop.is_set():
            return self.row(record, Status.FAILED, error="not attempted: the batch stopped")
        return self.upload(record, sample, image)

    def open_image(self, relative: str) -> Image | str:  # noqa: PLR0911 (one return per reason an image is invalid)
        """The image, read into memory if small (hash and body from one read), or why it is invalid."""
        root = self.root
        try:
            path = (root / relative).resolve()
            if not path.is_relative_to(root):
                return "must be inside the images folder"
            # A FIFO or a device would block the read forever: only regular files are images.
            if not stat.S_ISREG(path.stat().st_mode):
                return "is not a regular file"
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                # Exactly the size fstat gave: a larger request makes the buffered reader
                # allocate (and zero) that much for every image.
                head = handle.read(size if size <= IN_MEMORY_LIMIT else len(JPEG_MAGIC))
        except FileNotFoundError:
            return f"no such file in {self.options.images}"
        except (OSError, ValueError, RuntimeError) as exc:
            # Unreadable, a symlink loop, a NUL byte in the path: this row is invalid, not the batch.
            return f"cannot be read ({type(exc).__name__}: {exc})"
        limit = self.target.profile.upload_limit_bytes
        if limit is not None and size > limit:
            return f"{size} bytes exceeds the {limit}-byte limit of this store's upload gateway"
        if size > contract.MAX_SINGLE_PUT_BYTES and not self.target.profile.multipart_uploads:
            return (
                f"{size} bytes exceeds the 5 GiB single-PUT limit, and this store "
                "refuses multipart uploads (they cannot carry the required tags)"
            )
        if not head.startswith(JPEG_MAGIC):
            return "is not a JPEG (no FF D8 FF signature)"
        return Image(path, size, head if size <= IN_MEMORY_LIMIT else None)

    # --- upload ------------------------------------------------------------------------------

    def fields(self, sample: Sample) -> dict[str, str]:
        return {
            contract.CITY_ID: self.options.city_id,
            contract.CAMERA_ID: sample.camera_id,
            contract.EVENT_ID: sample.event_id,
            contract.LABEL_STATUS: sample.label_status.value,
            contract.UPLOADED_AT: self.options.uploaded_at,
        }

    def metadata(self, sample: Sample, sha256: str) -> dict[str, str]:
        extra = {
            contract.CAPTURED_AT: sample.captured_at.isoformat(),
            contract.CONTENT_SHA256: sha256,
            **({contract.QUALITY: repr(sample.quality)} if sample.quality is not None else {}),
        }
        return {contract.metadata_key(k): v for k, v in {**self.fields(sample), **extra}.items()}

    def upload(self, record: Record, sample: Sample, image: Image) -> dict[str, Any]:
        path, size, body = image.path, image.size, image.body
        sha256 = hashlib.sha256(body).hexdigest() if body is not None else sha256_of(path)
        key = contract.sample_key(
            self.options.city_id, sample.camera_id, sample.event_id, sample.label_status.value, sha256
        )
        done = {
            "key": key,
            "image_reference": self.target.reference(key),
            "content_sha256": sha256,
            "uploaded_at": self.options.uploaded_at,
        }
        multipart = self.target.profile.multipart_uploads and size > self.options.multipart_threshold
        for _ in range(CONFLICT_ATTEMPTS):
            try:
                if multipart:
                    self.put_multipart(key, path, sample, sha256)
                else:
                    self.put(key, body if body is not None else path, sample, sha256)
                return self.row(record, Status.UPLOADED, **done)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code"))
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if code == "PreconditionFailed" or status == 412:
                    return self.row(record, Status.ALREADY_PRESENT, **done)
                if code in CREDENTIAL_ERRORS:
                    raise FatalError(
                        f"the store refused the credentials ({code}): check the city's access key "
                        "(stack outputs, AWS_PROFILE or the environment)"
                    ) from None
                # S3 documents 409 ConditionalRequestConflict for a concurrent create of the same
                # key: start over, and the repeat ends in success or in 412 "already stored".
                if code == "ConditionalRequestConflict" or status == 409:
                    continue
                return self.row(record, Status.FAILED, **done, error=f"{code}: {exc.response['Error'].get('Message')}")
            except (
                botocore.exceptions.EndpointConnectionError,
                botocore.exceptions.ConnectTimeoutError,
                botocore.exceptions.ReadTimeoutError,
                botocore.exceptions.NoCredentialsError,
            ) as exc:
                raise FatalError(f"cannot upload: {exc}") from None
            except (BotoCoreError, OSError) as exc:
                return self.row(record, Status.FAILED, **done, error=f"{type(exc).__name__}: {exc}")
        return self.row(record, Status.FAILED, **done, error="ConditionalRequestConflict: retries exhausted")

    def put(self, key: str, body: bytes | Path, sample: Sample, sha256: str) -> None:
        args: dict[str, Any] = {
            "Bucket": self.target.bucket,
            "Key": key,
            "ContentType": contract.OBJECT_CONTENT_TYPE,
            "Metadata": self.metadata(sample, sha256),
            # S3 recomputes it and refuses the object (BadDigest) if a byte changed in transit.
            # The algorithm header is also what an Object Lock bucket requires of every upload.
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": b64(sha256),
            "IfNoneMatch": "*",
        }
        if self.target.profile.object_tags:
            args["Tagging"] = urlencode(self.fields(sample))
        if isinstance(body, bytes):
            self.s3.put_object(Body=body, **args)
            return
        with body.open("rb") as stream:  # botocore rewinds the stream on a retry
            self.s3.put_object(Body=stream, **args)

    def put_multipart(self, key: str, path: Path, sample: Sample, sha256: str) -> None:
        """R2 only (see the module docstring): parts with their own SHA-256, a create-only completion."""
        bucket = self.target.bucket
        upload_id = self.s3.create_multipart_upload(
            Bucket=bucket,
            Key=key,
            ContentType=contract.OBJECT_CONTENT_TYPE,
            Metadata=self.metadata(sample, sha256),
            ChecksumAlgorithm="SHA256",
        )["UploadId"]
        try:
            parts = []
            with path.open("rb") as handle:
                for number, chunk in enumerate(iter(lambda: handle.read(self.options.part_size), b""), start=1):
                    checksum = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
                    etag = self.s3.upload_part(
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                        ChecksumSHA256=checksum,
                    )["ETag"]
                    parts.append({"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum})
            self.s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
            )
        except BaseException:
            # Parts of an abandoned upload are billed and invisible; the lifecycle's abort rule is
            # the backstop, this is the prompt cleanup.
            with contextlib.suppress(ClientError, BotoCoreError):
                self.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise


# --- the batch -------------------------------------------------------------------------------------


def run_batch(
    records: Iterator[Record],
    uploader: Uploader,
    report: JsonlReport,
    workers: int,
    *,
    progress: Progress | None = None,
    total: int | None = None,
) -> None:
    """Process the records on ``workers`` threads, each pulling the next record when it is free.

    Memory is bounded by the concurrency, not by the batch: a worker holds one record at a time.
    Workers pull rather than a dispatcher pushing futures, because on a client that shares its
    cores with the rest of the machine every wake-up of a dispatcher thread is CPU taken from the
    uploads (measured: about 0.3 ms of client CPU per file). A worker's fatal error, or an
    interrupt, stops the others after their current upload and is raised here.
    """
    task = progress.add_task("uploading", total=total) if progress else None
    lock = threading.Lock()  # guards the record iterator, the report and the progress bar
    failures: list[BaseException] = []

    done = [threading.Event() for _ in range(workers)]
    # Workers wait for every one of them to be started: an interrupt inside Thread.start() (which
    # waits for the new thread) then leaves no worker that has touched a record or the report.
    go = threading.Event()

    def work(finished: threading.Event) -> None:
        try:
            go.wait()
            while not uploader.stop.is_set():
                with lock:
                    record = next(records, None)
                if record is None:
                    return
                row = uploader.process(record)
                with lock:
                    report.write(row)
                    if progress and task is not None:
                        progress.advance(task)
        except BaseException as exc:  # handed to the main thread and re-raised there
            failures.append(exc)
            uploader.stop.set()
        finally:
            finished.set()

    threads = [threading.Thread(target=work, args=(d,), name=f"upload-{n}", daemon=True) for n, d in enumerate(done)]
    try:
        for thread in threads:
            thread.start()
        go.set()
        wait_for(done)
    except BaseException:
        uploader.stop.set()
        if go.is_set():
            # Every row a worker writes must reach the report before it is closed: wait again.
            wait_for(done)
        go.set()  # workers not yet released see the stop and leave without a record
        raise
    if failures:
        raise failures[0]


def wait_for(done: list[threading.Event]) -> None:
    """Until every worker has set its ``done`` event. Not ``Thread.join()``: on CPython 3.11 an
    interrupt raised inside ``join()`` releases the thread's state lock while the thread still
    runs and marks it stopped (``_wait_for_tstate_lock``; CPython issue 90882), so a second
    ``join()`` returns at once and the report would be closed while a worker still writes to it.
    ``Event.wait`` leaves the event as it was when interrupted."""
    for event in done:
        while not event.wait(0.1):
            pass


def stopped_note(report: JsonlReport) -> str:
    done = sum(report.counts.values())
    if not done:
        return "nothing was recorded"
    return f"the {done} rows done so far are in {report.partial}"


def preflight(s3: Any, target: Target, now: Callable[[], float] = time.time) -> None:
    """Before the first upload: the endpoint answers, the bucket exists and this machine's clock
    agrees with the store's. HeadBucket needs s3:ListBucket, which a city does not hold, so a 403
    means the bucket is there; a 404, a dead endpoint, a TLS failure or a clock off by more than S3
    accepts stops the batch now (exit 2) instead of failing every row."""
    try:
        check_clock(s3.head_bucket(Bucket=target.bucket), now())
    except ClientError as exc:
        check_clock(exc.response, now())
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in CREDENTIAL_ERRORS:
            raise FatalError(f"the store refused the credentials ({code})") from None
        if status == 404 or code in {"NoSuchBucket", "404"}:
            raise FatalError(f"no bucket {target.bucket!r} at {target.endpoint.url or 'the AWS endpoint'}") from None
        if status != 403:
            raise FatalError(f"the store answered {code} to a first request") from None
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    ) as exc:
        raise FatalError(f"cannot reach the store: {exc}") from None
    except botocore.exceptions.SSLError as exc:
        raise FatalError(
            f"cannot reach or authenticate to the endpoint: TLS failed ({exc}); where the store presents a "
            "private CA, point AWS_CA_BUNDLE at its certificate"
        ) from None
    except CERTIFICATE_ERRORS as exc:
        raise FatalError(f"IAM Roles Anywhere gave the certificate no session ({exc})") from None


def check_clock(response: dict[str, Any], now: float) -> None:
    """A signed request's time must be within 15 minutes of the store's: every answer carries the
    store's clock in its Date header (a HEAD's 403 has no body to name RequestTimeTooSkewed)."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        server = email.utils.parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        server = None
    if server is None or abs(now - server) <= contract.MAX_CLOCK_SKEW_SECONDS:
        return
    skew = now - server
    hours, minutes = divmod(round(abs(skew) / 60), 60)
    raise FatalError(
        f"this machine's clock is {'ahead of' if skew > 0 else 'behind'} the store's by about "
        f"{f'{hours} h ' if hours else ''}{minutes} min, and the store refuses requests signed more than "
        f"{contract.MAX_CLOCK_SKEW_SECONDS // 60} min off: set the clock (NTP) and rerun"
    )


def target_from(args: argparse.Namespace, outputs: StackOutputs | None, timeout: float) -> Target:
    if outputs is not None:
        # The city's key is valid where cities upload (the R2 gateway, if any); any other key at
        # the store's own endpoint.
        as_city = uses_city_key(args, outputs)
        own = outputs.cities_endpoint_url if as_city else outputs.endpoint_url
        url = args.endpoint_url or own
        region = outputs.cities_region if as_city else outputs.region
        return Target(outputs.bucket_name, outputs.capabilities, Endpoint(url, region, timeout))
    row = backend(args.backend)
    profile = profile_for(row.name, upload_gateway=args.upload_gateway)
    # Each backend's S3 API signs for its own region ("auto" on R2); the AWS SDK needs one to sign.
    return Target(args.bucket, profile, Endpoint(args.endpoint_url, args.region or row.default_region, timeout))


def uses_city_key(args: argparse.Namespace, outputs: StackOutputs) -> bool:
    """Whether the run signs with the city's key from the stack outputs."""
    return not args.credential_chain and args.city in outputs.city_credentials


def session_for(args: argparse.Namespace, outputs: StackOutputs | None, region: str) -> boto3.Session:
    """The city's certificate session, the city's key from the stack outputs, else the usual AWS
    credential chain."""
    if args.certificate is not None and outputs is not None:
        return certificate_session(outputs, args.certificate, args.private_key)
    if outputs is not None and uses_city_key(args, outputs):
        return key_session(outputs.city_credentials[args.city], region)
    return new_session(profile_name=args.profile, region_name=region)


def quality_threshold(text: str) -> float:
    value = float(text)
    low, high = contract.QUALITY_RANGE
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g} (a sample's quality score), got {text}")
    return value


MANIFEST_HELP = f"""\
the manifest (--manifest, .csv with a header row or .jsonl), one sample per row:
  {"image":<13}path of the JPEG, relative to --images
  {"camera_id":<13}the camera's id
  {"event_id":<13}the detection event's id
  {"label_status":<13}{" | ".join(x.value for x in contract.Label)} \
({", ".join(x.value for x in contract.EXCLUDED_LABELS)} is never uploaded)
  {"captured_at":<13}ISO 8601 with a time zone, e.g. 2026-11-23T17:04:05Z
  {"quality":<13}optional, 0 to 1 (compared with --min-quality)

example manifest.csv:
  image,camera_id,event_id,label_status,captured_at,quality
  cam-17/evt-9f2.jpg,cam-17,evt-9f2,correct,2026-11-23T17:04:05Z,0.93

example:
  learning-images-upload --outputs kit/outputs.json --city paris \\
      --images batch/ --manifest batch/manifest.csv --report paris-2026-11-24.jsonl

exit codes: 0 every sample stored or left out by the contract; 1 some row invalid or failed (each is
printed, and in the report); 2 usage, inputs, credentials or endpoint; 130 interrupted (rerun).
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser(
        "upload",
        "Upload a city's daily batch of labelled images, create-only.",
        epilog=MANIFEST_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_outputs_arguments(parser, required=False)
    parser.add_argument("--bucket", help="without stack outputs: the learning bucket's name")
    parser.add_argument(
        "--backend", choices=list(BACKENDS), help=f"without stack outputs: the backend (default {DEFAULT})"
    )
    parser.add_argument(
        "--upload-gateway",
        action="store_true",
        help="without stack outputs: --endpoint-url is the R2 upload gateway (with --backend r2; one PUT per image)",
    )
    parser.add_argument("--region", help="without stack outputs: the bucket's region")
    parser.add_argument("--endpoint-url", help="S3 endpoint (default: the stack's, else the SDK's own)")
    parser.add_argument(
        "--city", type=arguments.city_id, required=True, help="the uploading city's id (its metadata city_id)"
    )
    parser.add_argument(
        "--credential-chain",
        action="store_true",
        help="use the AWS credential chain (environment, profile) even if the outputs hold the city's key",
    )
    parser.add_argument(
        "--profile",
        help="AWS profile of the credential chain (with certificates, one whose credential_process presents the "
        "city's certificate works too)",
    )
    parser.add_argument(
        "--certificate",
        type=Path,
        help="the city's certificate (PEM), where the stack's cities authenticate with certificates; needs "
        "--private-key, the stack outputs and the [certificates] extra",
    )
    parser.add_argument("--private-key", type=Path, help="the private key of --certificate (PEM)")
    parser.add_argument("--images", type=Path, required=True, help="folder the manifest's image paths are relative to")
    parser.add_argument("--manifest", type=Path, required=True, help="the batch manifest (.csv or .jsonl)")
    parser.add_argument("--report", type=Path, required=True, help="where to write the JSONL batch report")
    parser.add_argument(
        "--min-quality", type=quality_threshold, help="exclude samples whose quality (0 to 1) is below this"
    )
    parser.add_argument("--workers", type=arguments.positive_int, default=16, help="uploads in flight (default: 16)")
    parser.add_argument(
        "--max-attempts",
        type=arguments.positive_int,
        default=3,
        help="attempts per request; botocore's standard mode backs off on throttling and 5xx (default: 3)",
    )
    parser.add_argument(
        "--timeout",
        type=arguments.positive_seconds,
        default=arguments.REQUEST_TIMEOUT,
        help="connect and read timeout per attempt, seconds (default: 10; with 3 attempts a dead endpoint "
        "stops the batch within about 30 s)",
    )
    parser.add_argument(
        "--multipart-threshold",
        type=arguments.positive_int,
        default=64 * 1024**2,
        help="R2 only: files above this many bytes go multipart (default: 64 MiB); the AWS store refuses multipart",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if (args.certificate is None) != (args.private_key is None):
        parser.error("--certificate and --private-key go together")
    if args.certificate and not (args.stack or args.outputs):
        parser.error("--certificate needs the stack outputs (--stack or --outputs): they name the trust anchor")
    fronted = [name for name, row in BACKENDS.items() if row.gateway_capable]
    if args.upload_gateway and (
        not backend(args.backend).gateway_capable or not args.endpoint_url or args.stack or args.outputs
    ):
        parser.error(
            f"--upload-gateway goes with --backend {' or '.join(fronted)} and the gateway's --endpoint-url, "
            "without stack outputs"
        )
    if not (args.stack or args.outputs) and not (args.bucket and (args.region or args.endpoint_url)):
        parser.error("name the store: --stack or --outputs, or --bucket with --region (and --endpoint-url for R2)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # soft_wrap: outside a terminal a message stays one line (grep in logs finds it whole).
    console = Console(stderr=True, soft_wrap=True)
    try:
        # First of all, so a Ctrl-C or SIGTERM while the manifest is checked is a clean stop too.
        with interrupts_as_exceptions():
            return run(args, console)
    except KeyboardInterrupt:
        console.print("[red]interrupted:[/] before the first upload; nothing was sent or recorded")
        return 130


def run(args: argparse.Namespace, console: Console) -> int:  # noqa: PLR0911, PLR0912 (an exit per failure kind, docs/operating.md)
    report = JsonlReport(
        args.report,
        inputs=tuple(p for p in (args.manifest, args.outputs, args.certificate, args.private_key) if p is not None),
        owner={"manifest": str(args.manifest.resolve()), "city_id": args.city},
    )
    try:
        outputs = outputs_from_args(args)
        if outputs is not None and outputs.city_credentials and args.city not in outputs.city_credentials:
            raise OutputsError(
                f"city {args.city!r} has no credentials in the stack outputs; its cities are "
                f"{', '.join(sorted(outputs.city_credentials))} (add it to cityIds and deploy)"
            )
        if outputs is not None:
            warn_foreign_secrets(console, outputs, args.city)
        if not args.images.is_dir():
            raise ManifestError(f"--images {args.images} is not a folder: nothing was uploaded")
        # The whole manifest is read once before any upload: a broken file is refused whole, here.
        total = check_manifest(args.manifest)
        first = total or None
        show_progress = not args.quiet and console.is_terminal
        # Before the first request: a report that cannot be written would leave uploads unrecorded.
        report.check_path()
    except (OutputsError, ManifestError, ReportPathError, ReportWriteError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    if first is None:
        console.print(f"[yellow]warning:[/] manifest {args.manifest} has no records; the report will be empty")
    target = target_from(args, outputs, args.timeout)
    try:
        session = session_for(args, outputs, target.endpoint.region)
    except CertificateSessionError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    s3 = target.endpoint.client(
        session,
        "s3",
        max_pool_connections=args.workers,
        retries={"mode": "standard", "max_attempts": args.max_attempts},
    )
    if target.profile.upload_gateway:
        s3 = without_expect_continue(s3)
    options = Options(
        city_id=args.city,
        images=args.images,
        uploaded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        min_quality=args.min_quality,
        multipart_threshold=args.multipart_threshold,
    )
    uploader = Uploader(s3, target, options)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    try:
        # One attempt: a dead endpoint is known within one timeout, not after every retry.
        preflight(target.endpoint.client(session, "s3", retries={"mode": "standard", "max_attempts": 1}), target)
        with report, Progress(*columns, console=console, disable=not show_progress) as progress:
            run_batch(read_manifest(args.manifest), uploader, report, args.workers, progress=progress, total=total)
            report.commit()
    except (ReportBusyError, ReportPathError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except ReportWriteError as exc:
        console.print(
            f"[red]error:[/] {exc}; the batch stopped: images being uploaded then may be stored without a row. "
            "Free the disk and run the same command again: they come back as already-present"
        )
        return 2
    except FatalError as exc:
        console.print(f"[red]error:[/] {exc}; {stopped_note(report)}, rerun when fixed (uploads are create-only)")
        return 2
    except ManifestError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        console.print(
            f"[red]interrupted:[/] {stopped_note(report)}; run the same command again to finish "
            "(stored samples come back as already-present, nothing is duplicated)"
        )
        return 130
    print_counts(console, f"batch {args.manifest.name} -> {target.bucket}", report.counts, STATUS_ORDER)
    console.print(f"report: {args.report}")
    # 0 only when every sample is stored (or already was) or left out as the contract says: a
    # scheduler must be able to tell a bad batch from a good one.
    bad = report.counts.get(Status.FAILED, 0) + report.counts.get(Status.INVALID, 0)
    if bad:
        print_bad_rows(console, args.report, bad)
    return 1 if bad else 0


#: Rows the summary names one by one; the rest are counted (the report has them all).
SHOWN_BAD_ROWS = 50


def print_bad_rows(console: Console, report: Path, bad: int) -> None:
    """Each invalid or failed row, in manifest order: its number, image and every reason."""
    rows = []
    with report.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["status"] in (Status.FAILED, Status.INVALID):
                rows.append(row)
    rows.sort(key=lambda r: r["row"])
    console.print(f"[red]{bad} rows were not stored[/] (exit 1):")
    for row in rows[:SHOWN_BAD_ROWS]:
        console.print(f"  row {row['row']} ({row.get('image')}): {row['status']}: {row.get('error')}", markup=False)
    if bad > SHOWN_BAD_ROWS:
        console.print(f"  ... and {bad - SHOWN_BAD_ROWS} more in {report}")


def warn_foreign_secrets(console: Console, outputs: StackOutputs, city: str) -> None:
    """A city should hold its own kit (``learning-images-city-kit``), not the stack's outputs: they
    carry every other city's key and the Command Centre's and training tier's credentials."""
    foreign = outputs.foreign_secrets(city)
    if foreign:
        console.print(
            f"[yellow]warning:[/] these outputs carry credentials that are not city {city}'s "
            f"({', '.join(foreign)}): whoever holds this file can act as them. Ask the Command Centre for "
            "your city kit (learning-images-city-kit) and delete this file"
        )


if __name__ == "__main__":
    sys.exit(main())
