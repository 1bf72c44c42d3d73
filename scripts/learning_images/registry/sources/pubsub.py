"""The receiver's source on Cloud Storage: the Pub/Sub subscription the bucket's notifications feed,
read with Pub/Sub's REST pull (``:pull``, ``:acknowledge``, ``:modifyAckDeadline``).

The credential is the receiver service account's JSON key (``registration.receiver_credentials``),
exchanged for access tokens by google-auth. Pub/Sub counts deliveries (``deliveryAttempt``, set
where the subscription has a dead-letter policy) and moves a message to the dead-letter topic after
its last; the receiver does it first, publishing the message with ``reason`` and ``receives``
attributes added.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
from typing import Any

from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from learning_images.outputs import RegistrationOutputs
from learning_images.registry.events import ObjectEvent, gcs_events
from learning_images.registry.sources import Message, SourceError
from learning_images.registry.sources.http import mount, post

SERVICE = "Pub/Sub"
SCOPES = ("https://www.googleapis.com/auth/pubsub",)
#: Pub/Sub's limit on an attribute's value, in bytes.
ATTRIBUTE_ROOM = 1024
#: The longest pause after an empty pull (a pull may also answer empty before its wait).
IDLE_PAUSE_SECONDS = 5


def open_source(registration: RegistrationOutputs, *, aws: object = None, engine: object = None) -> PubSubSource:
    credentials = registration.receiver_credentials
    if credentials is None or credentials.service_account_key is None:
        raise SourceError("the registration output holds no receiver service-account key for Pub/Sub")
    try:
        info = json.loads(base64.b64decode(credentials.service_account_key.get_secret_value()))
        google = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except (ValueError, binascii.Error) as exc:
        raise SourceError(f"the receiver's service-account key is not a JSON key file: {exc}") from None
    http = AuthorizedSession(google)
    mount(http)
    return PubSubSource(http, registration)


class PubSubSource:
    def __init__(self, http: AuthorizedSession, registration: RegistrationOutputs) -> None:
        self.http = http
        self.subscription_url = registration.queue_url
        self.dead_letter_topic_url = registration.dead_letter_queue_url
        self.max_receives = registration.max_receives

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            found = post(self.http, SERVICE, url, body)
        except Exception as exc:
            if isinstance(exc, SourceError):
                raise
            # google-auth's token refresh failing (a revoked key, the token endpoint down).
            raise SourceError(f"{SERVICE}: cannot authenticate the receiver: {type(exc).__name__}: {exc}") from None
        return found if isinstance(found, dict) else {}

    def receive(self, count: int, wait_seconds: int) -> list[Message]:
        found = self._post(f"{self.subscription_url}:pull", {"maxMessages": count})
        received = found.get("receivedMessages") or []
        if not received:
            time.sleep(min(wait_seconds, IDLE_PAUSE_SECONDS))
        messages = []
        for item in received:
            message = item.get("message") or {}
            data = base64.b64decode(message.get("data") or "").decode("utf-8", "replace")
            messages.append(
                Message(
                    str(message.get("messageId", "")),
                    data,
                    str(item["ackId"]),
                    max(1, int(item.get("deliveryAttempt") or 1)),
                    dict(message.get("attributes") or {}),
                )
            )
        return messages

    def acknowledge(self, messages: list[Message]) -> list[str]:
        if messages:
            self._post(f"{self.subscription_url}:acknowledge", {"ackIds": [m.receipt for m in messages]})
        return []

    def release(self, messages: list[Message]) -> None:
        if not messages:
            return
        with contextlib.suppress(SourceError):  # lapsed leases return the messages by themselves
            self._post(
                f"{self.subscription_url}:modifyAckDeadline",
                {"ackIds": [m.receipt for m in messages], "ackDeadlineSeconds": 0},
            )

    def last_receive(self, message: Message) -> bool:
        return self.max_receives is not None and message.receives >= self.max_receives

    def dead_letter(self, message: Message, reason: str) -> None:
        attributes = {
            **message.attributes,
            "reason": reason.encode()[:ATTRIBUTE_ROOM].decode("utf-8", "ignore"),
            "receives": str(message.receives),
        }
        data = base64.b64encode(message.body.encode()).decode()
        self._post(f"{self.dead_letter_topic_url}:publish", {"messages": [{"data": data, "attributes": attributes}]})
        self.acknowledge([message])

    def events(self, message: Message, bucket: str) -> list[ObjectEvent]:
        return gcs_events(message.attributes, bucket)
