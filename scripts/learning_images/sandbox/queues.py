"""Local stand-ins for the event services the receiver pulls from on R2 and Cloud Storage: the
Cloudflare Queues pull API and Pub/Sub's REST pull, each an HTTP server on 127.0.0.1.

Each keeps what its service documents, as the receiver meets it:
- a queue of competing consumers: a pull leases messages for a visibility timeout (Cloudflare's
  ``visibility_timeout_ms``, the subscription's ack deadline); an acknowledgement removes one; a
  retry or a zero deadline offers it again; a lease that lapses offers it again too;
- deliveries counted (``attempts``, ``deliveryAttempt``), and after the last one the message moved
  to the dead-letter queue by the service itself;
- the credential checked on every request: Cloudflare's bearer token; on Pub/Sub an access token
  that the stand-in's OAuth endpoint issues for a JWT signed with the receiver's service-account
  key (RS256, verified against the key's public half), as Google's token endpoint does.

What feeds them is the sandbox's: the enforcing local S3 delivers S3 event notifications to its
own SQS queue, and each pull first moves those into the stand-in, rewritten into the service's own
event form (an R2 event notification; a Cloud Storage ``JSON_API_V1`` notification).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: What a pull brings in first: (body, attributes) of the events that arrived since the last one.
Feed = Callable[[], list[tuple[str, dict[str, str]]]]


@dataclass
class _Held:
    id: str
    body: str
    attributes: dict[str, str]
    published: float
    attempts: int = 0
    lease: str | None = None
    visible_at: float = 0.0


@dataclass
class StandInQueue:
    """One queue (or subscription): leases, delivery counts, and a dead-letter queue."""

    max_deliveries: int
    dead_letter: StandInQueue | None = None
    feed: Feed | None = None
    held: list[_Held] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, body: str, attributes: dict[str, str] | None = None) -> str:
        message = _Held(secrets.token_hex(16), body, dict(attributes or {}), time.time())
        with self.lock:
            self.held.append(message)
        return message.id

    def pull(self, count: int, lease_seconds: float) -> list[_Held]:
        for body, attributes in self.feed() if self.feed else []:
            self.push(body, attributes)
        now, leased, dead = time.time(), list[_Held](), list[_Held]()
        with self.lock:
            for message in list(self.held):
                if len(leased) >= count:
                    break
                if message.visible_at > now:
                    continue
                if message.attempts >= self.max_deliveries and self.dead_letter is not None:
                    self.held.remove(message)  # delivered its last time and never acknowledged
                    dead.append(message)
                    continue
                message.attempts += 1
                message.lease = secrets.token_urlsafe(24)
                message.visible_at = now + lease_seconds
                leased.append(message)
        for message in dead:
            assert self.dead_letter is not None
            self.dead_letter.push(message.body, message.attributes)
        return leased

    def acknowledge(self, leases: list[str]) -> list[str]:
        """Remove the leased messages; the leases that name none (lapsed, or unknown)."""
        with self.lock:
            found = {m.lease: m for m in self.held if m.lease and m.visible_at > time.time()}
            for lease in leases:
                if lease in found:
                    self.held.remove(found[lease])
        return [lease for lease in leases if lease not in found]

    def offer_again(self, leases: list[str], delay_seconds: float = 0) -> None:
        with self.lock:
            for message in self.held:
                if message.lease in leases:
                    message.lease, message.visible_at = None, time.time() + delay_seconds

    def waiting(self) -> int:
        with self.lock:
            return len(self.held)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the sandbox's own report says what happened."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, answer = self.server.answer(self.path, self.headers.get("Authorization") or "", raw, self.headers)
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def answer(self, path: str, authorization: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        raise NotImplementedError


class CloudflareQueues(_Server):
    """``/client/v4/accounts/<account>/queues/<id>/messages`` (push), ``/messages/pull`` and ``/messages/ack``."""

    def __init__(self, account_id: str, token: str, queues: dict[str, StandInQueue]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.account_id, self.token, self.queues = account_id, token, queues

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/client/v4"

    def queue_url(self, queue_id: str) -> str:
        return f"{self.url}/accounts/{self.account_id}/queues/{queue_id}"

    def answer(self, path: str, authorization: str, raw: bytes, headers: Any) -> tuple[int, Any]:  # noqa: PLR0911 (one answer per route)
        if not secrets.compare_digest(authorization, f"Bearer {self.token}"):
            return 403, _cloudflare_error(10000, "Authentication error")
        parts = path.split("/")  # '', client, v4, accounts, <account>, queues, <id>, messages[, verb]
        if len(parts) < 8 or parts[3:6] != ["accounts", self.account_id, "queues"] or parts[7] != "messages":
            return 404, _cloudflare_error(7003, "No route for the URI")
        queue = self.queues.get(parts[6])
        if queue is None:
            return 404, _cloudflare_error(11000, "Queue does not exist")
        body = json.loads(raw or b"{}")
        verb = parts[8] if len(parts) > 8 else ""
        if verb == "pull":
            leased = queue.pull(int(body.get("batch_size", 5)), int(body.get("visibility_timeout_ms", 30_000)) / 1000)
            messages = [
                {
                    "id": m.id,
                    "body": m.body,
                    "attempts": m.attempts,
                    "lease_id": m.lease,
                    "timestamp_ms": int(m.published * 1000),
                    "metadata": {"CF-Content-Type": "json"},
                }
                for m in leased
            ]
            return 200, _cloudflare_result({"message_backlog_count": queue.waiting(), "messages": messages})
        if verb == "ack":
            acks = [str(a["lease_id"]) for a in body.get("acks") or []]
            retries = body.get("retries") or []
            for retry in retries:
                queue.offer_again([str(retry["lease_id"])], float(retry.get("delay_seconds") or 0))
            lapsed = queue.acknowledge(acks)
            warnings = {lease: "lease not found (expired, or never issued)" for lease in lapsed}
            result = {"ackCount": len(acks) - len(lapsed), "retryCount": len(retries), "warnings": warnings}
            return 200, _cloudflare_result(result)
        if verb == "":
            message = body.get("body")
            queue.push(message if isinstance(message, str) else json.dumps(message))
            return 200, _cloudflare_result({})
        return 404, _cloudflare_error(7003, "No route for the URI")


def _cloudflare_result(result: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result}


def _cloudflare_error(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


@dataclass(frozen=True)
class ServiceAccount:
    """A service account and its JSON key, whose ``token_uri`` is the stand-in's token endpoint."""

    email: str
    key: rsa.RSAPrivateKey

    def key_file(self, token_uri: str, project: str) -> str:
        """The JSON key file, base64-encoded (the form ``google_service_account_key.private_key`` has)."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {
            "type": "service_account",
            "project_id": project,
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": self.email,
            "client_id": str(int.from_bytes(self.email.encode()[:8], "big")),
            "token_uri": token_uri,
        }
        return base64.b64encode(json.dumps(info).encode()).decode()


class PubSub(_Server):
    """``/v1/projects/<p>/subscriptions/<s>:pull|:acknowledge|:modifyAckDeadline``,
    ``/v1/projects/<p>/topics/<t>:publish`` and ``/token`` (the OAuth 2.0 JWT bearer grant)."""

    def __init__(
        self,
        project: str,
        account: ServiceAccount,
        subscriptions: dict[str, StandInQueue],
        topics: dict[str, list[str]],
        ack_deadline_seconds: int,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.project, self.account, self.subscriptions, self.topics = project, account, subscriptions, topics
        self.ack_deadline_seconds = ack_deadline_seconds
        self.tokens: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def subscription_url(self, name: str) -> str:
        return f"{self.url}/v1/projects/{self.project}/subscriptions/{name}"

    def topic_url(self, name: str) -> str:
        return f"{self.url}/v1/projects/{self.project}/topics/{name}"

    def answer(self, path: str, authorization: str, raw: bytes, headers: Any) -> tuple[int, Any]:  # noqa: PLR0911 (one answer per route)
        if path == "/token":
            return self._token(raw)
        if authorization.removeprefix("Bearer ") not in self.tokens:
            return 401, _google_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        resource, _, verb = path.removeprefix(f"/v1/projects/{self.project}/").partition(":")
        kind, _, name = resource.partition("/")
        body = json.loads(raw or b"{}")
        if kind == "topics" and verb == "publish" and name in self.topics:
            ids = []
            for message in body.get("messages") or []:
                data = base64.b64decode(message.get("data") or "").decode()
                ids += [self.subscriptions[s].push(data, message.get("attributes")) for s in self.topics[name]]
            return 200, {"messageIds": ids}
        queue = self.subscriptions.get(name) if kind == "subscriptions" else None
        if queue is None:
            return 404, _google_error(404, f"Resource not found (resource={name}).", "NOT_FOUND")
        if verb == "pull":
            leased = queue.pull(int(body.get("maxMessages", 1)), self.ack_deadline_seconds)
            return 200, {"receivedMessages": [_received(m) for m in leased]}
        if verb == "acknowledge":
            queue.acknowledge(list(body.get("ackIds") or []))
            return 200, {}
        if verb == "modifyAckDeadline":
            queue.offer_again(list(body.get("ackIds") or []), float(body.get("ackDeadlineSeconds") or 0))
            return 200, {}
        return 404, _google_error(404, f"no method {verb}", "NOT_FOUND")

    def _token(self, raw: bytes) -> tuple[int, Any]:
        """Google's token endpoint for a service account: the assertion must be a JWT its key signed."""
        form = urllib.parse.parse_qs(raw.decode())
        assertion = (form.get("assertion") or [""])[0]
        try:
            head, claims, signature = assertion.split(".")
            self.account.key.public_key().verify(
                _unpad(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            found = json.loads(_unpad(claims))
        except Exception:  # any malformed or forged assertion gets the same answer
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if found.get("iss") != self.account.email or float(found.get("exp", 0)) < time.time():
            return 400, {
                "error": "invalid_grant",
                "error_description": "Invalid JWT: Token must be a short-lived token",
            }
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


def _unpad(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _received(message: _Held) -> dict[str, Any]:
    return {
        "ackId": message.lease,
        "deliveryAttempt": message.attempts,
        "message": {
            "data": base64.b64encode(message.body.encode()).decode(),
            "attributes": message.attributes,
            "messageId": message.id,
            "publishTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(message.published)),
        },
    }


def _google_error(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


@contextmanager
def serving(server: _Server) -> Iterator[_Server]:
    """``server`` answering on its own thread for the block."""
    thread = threading.Thread(target=server.serve_forever, name=type(server).__name__, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def new_service_account(email: str) -> ServiceAccount:
    return ServiceAccount(email, rsa.generate_private_key(public_exponent=65537, key_size=2048))
