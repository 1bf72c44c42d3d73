"""Where the receiver pulls object events from: the event service a store's outputs name
(``registration.source``, the backend row's ``event_source``), one module each.

Every source is a queue of competing consumers: a pulled message is leased to one receiver for a
while, acknowledged once its rows are committed, released at once when its batch was not, and on
its last delivery moved by the receiver to the dead-letter queue with the reason (the service
would move it too, but without one). Receivers side by side share a queue: that is how
registration grows past one machine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from learning_images.outputs import RegistrationOutputs

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from learning_images.registry.events import ObjectEvent


class SourceError(Exception):
    """The event service failed or refused a request; the message says which and why."""


@dataclass(frozen=True)
class Message:
    id: str
    body: str
    #: What acknowledges it: an SQS receipt handle, a Cloudflare lease id, a Pub/Sub ack id, a row id.
    receipt: str
    #: How many times it has been delivered, this time included.
    receives: int
    #: The message's attributes (Pub/Sub carries a Cloud Storage event in them).
    attributes: Mapping[str, str] = field(default_factory=dict)


class Source(Protocol):
    def receive(self, count: int, wait_seconds: int) -> list[Message]: ...

    def acknowledge(self, messages: list[Message]) -> list[str]:
        """Acknowledge ``messages`` (their effect is committed); the ids the service did not take."""
        ...

    def release(self, messages: list[Message]) -> None:
        """Offer ``messages`` again at once (their batch was not committed); best effort."""
        ...

    def last_receive(self, message: Message) -> bool: ...

    def dead_letter(self, message: Message, reason: str) -> None: ...

    def events(self, message: Message, bucket: str) -> list[ObjectEvent]:
        """The object events ``message`` carries (raises ``NotAnEventError``)."""
        ...


#: Each event service's module: it provides ``open_source(registration, aws=..., engine=...)``.
MODULES: Mapping[str, str] = {
    "sqs": "learning_images.registry.sources.sqs",
    "cloudflare-queues": "learning_images.registry.sources.cloudflare",
    "pubsub": "learning_images.registry.sources.pubsub",
    "postgresql": "learning_images.registry.sources.postgresql",
}


def open_source(
    registration: RegistrationOutputs, *, aws: Callable[[str], Any], engine: Engine | None = None
) -> Source:
    """The source ``registration`` names; ``aws(service)``: a client of the receiver's AWS session
    (the SQS source's; Cloudflare's and Pub/Sub's speak REST with the credential the outputs
    hold); ``engine``: the learning store's database (the PostgreSQL source's table is there)."""
    module = importlib.import_module(MODULES[registration.source])
    source: Source = module.open_source(registration, aws=aws, engine=engine)
    return source
