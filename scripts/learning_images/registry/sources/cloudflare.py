"""The receiver's source on Cloudflare Queues: the queue R2's event notifications feed (r2), or the
one the upload gateway queues B2's webhooks on (b2), read through its HTTP pull consumer (Cloudflare
docs, "Pull consumers"). Which events the messages are is the outputs' ``message_format``.

A pull leases up to ``batch_size`` messages for ``visibility_timeout_ms``; an acknowledgement names
each message by its lease id; a retry with no delay releases one at once. The pull answers at once
(there is no long poll), so an empty pull waits a little before the next. The queue's consumer
moves a message to its dead-letter queue after its retries; the receiver does it first on the last
delivery, pushing ``{"reason", "receives", "event"}`` there (a queue message carries no attributes).
The bearer token is the receiver's (``registration.receiver_credentials.api_token``).
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import requests

from learning_images.outputs import RegistrationOutputs
from learning_images.registry.events import ObjectEvent, b2_events, r2_events
from learning_images.registry.sources import Message, SourceError
from learning_images.registry.sources.http import mount, post

SERVICE = "Cloudflare Queues"
#: How long a pulled message stays leased to this receiver (the consumer's own setting is a default).
VISIBILITY_MS = 120_000
#: The longest pause after an empty pull: events wait at most this long beyond their arrival.
IDLE_PAUSE_SECONDS = 5
#: Each message format's reader (``registration.message_format``; None: R2's).
READERS = {"r2-notification": r2_events, "b2-webhook": b2_events}


def open_source(
    registration: RegistrationOutputs, *, aws: object = None, engine: object = None
) -> CloudflareQueueSource:
    credentials = registration.receiver_credentials
    if credentials is None or credentials.api_token is None:
        raise SourceError("the registration output holds no receiver token for Cloudflare Queues")
    http = mount(requests.Session())
    http.headers["Authorization"] = f"Bearer {credentials.api_token.get_secret_value()}"
    return CloudflareQueueSource(http, registration)


def _text(body: object) -> str:
    """A message body as text: R2's events arrive as JSON, which the API may hand over decoded."""
    return body if isinstance(body, str) else json.dumps(body)


class CloudflareQueueSource:
    def __init__(self, http: requests.Session, registration: RegistrationOutputs) -> None:
        self.http = http
        self.queue_url = registration.queue_url
        self.dead_letter_queue_url = registration.dead_letter_queue_url
        self.max_receives = registration.max_receives
        self.read_events = READERS[registration.message_format or "r2-notification"]

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        found = post(self.http, SERVICE, url, body)
        if not isinstance(found, dict) or found.get("success") is False:
            raise SourceError(f"{SERVICE} refused {url.rsplit('/', 1)[-1]}: {found}")
        result = found.get("result")
        return result if isinstance(result, dict) else {}

    def receive(self, count: int, wait_seconds: int) -> list[Message]:
        result = self._post(
            f"{self.queue_url}/messages/pull", {"batch_size": count, "visibility_timeout_ms": VISIBILITY_MS}
        )
        pulled = result.get("messages") or []
        if not pulled:
            time.sleep(min(wait_seconds, IDLE_PAUSE_SECONDS))
        return [
            Message(str(m["id"]), _text(m.get("body", "")), str(m["lease_id"]), max(1, int(m.get("attempts") or 1)))
            for m in pulled
        ]

    def acknowledge(self, messages: list[Message]) -> list[str]:
        if not messages:
            return []
        result = self._post(
            f"{self.queue_url}/messages/ack", {"acks": [{"lease_id": m.receipt} for m in messages], "retries": []}
        )
        warned = set((result.get("warnings") or {}).keys())
        return [m.id for m in messages if m.receipt in warned]

    def release(self, messages: list[Message]) -> None:
        if not messages:
            return
        with contextlib.suppress(SourceError):  # lapsed leases return the messages by themselves
            self._post(
                f"{self.queue_url}/messages/ack",
                {"acks": [], "retries": [{"lease_id": m.receipt, "delay_seconds": 0} for m in messages]},
            )

    def last_receive(self, message: Message) -> bool:
        return self.max_receives is not None and message.receives >= self.max_receives

    def dead_letter(self, message: Message, reason: str) -> None:
        try:
            event: object = json.loads(message.body)
        except json.JSONDecodeError:
            event = message.body
        body = {"reason": reason[:1024], "receives": message.receives, "event": event}
        self._post(f"{self.dead_letter_queue_url}/messages", {"body": body, "content_type": "json"})
        self.acknowledge([message])

    def events(self, message: Message, bucket: str) -> list[ObjectEvent]:
        return self.read_events(message.body, bucket)
