"""The object events of each event service, read into one form: what object, created or removed, when.

- S3 Event Notifications (SQS): a JSON body of ``Records`` (S3 User Guide, "Event message structure"),
  keys URL-encoded; S3 sends a test event when the notification is written.
- R2 event notifications (Cloudflare Queues): one JSON object per message, ``action`` and
  ``object.key`` (R2 docs, "Event notifications", message format).
- MinIO's PostgreSQL notification target: a row whose data is S3's body, each record's name
  prefixed ``s3:`` (``s3:ObjectCreated:Put``; minio/minio internal/event/name.go).
- B2 event notifications (the upload gateway queues each event of a webhook delivery as one
  message on Cloudflare Queues): ``eventType``, ``bucketName``, ``objectName``, ``eventTimestamp``
  in milliseconds (Backblaze, "Event Notifications Reference Guide").
- Cloud Storage notifications (Pub/Sub): the event in the message's attributes (``eventType``,
  ``bucketId``, ``objectId``, ``eventTime``), the object resource in its data (Cloud Storage docs,
  "Pub/Sub notifications").

Each reader raises :class:`NotAnEventError` for a message that is not this bucket's object event:
the receiver acknowledges and counts it, never retries it.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from learning_images import b2, gcs, r2

#: What the receiver reads: an S3 event record's name, by its first part.
Kind = Literal["created", "removed"]
CREATED: Kind = "created"
REMOVED: Kind = "removed"
_KINDS: Mapping[str, Kind] = {
    "ObjectCreated": CREATED,
    "ObjectRemoved": REMOVED,
    "LifecycleExpiration": REMOVED,
}


@dataclass(frozen=True)
class ObjectEvent:
    kind: Kind
    #: The S3 event's own name (``ObjectCreated:Put``, ``LifecycleExpiration:Delete``).
    name: str
    bucket: str
    key: str
    time: datetime


class NotAnEventError(ValueError):
    """A message that is not this bucket's object event: acknowledged and counted, never retried."""


def s3_events(body: str, bucket: str, *, name_prefix: str = "") -> list[ObjectEvent]:
    """The object events of one queue message (S3 User Guide, "Event message structure"), each
    record's name after ``name_prefix``. Raises :class:`NotAnEventError` for S3's test event,
    another bucket's events or a body that is not an S3 event at all."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        raise NotAnEventError("not JSON") from None
    if not isinstance(message, dict):
        raise NotAnEventError("not an S3 event")
    if message.get("Event") == "s3:TestEvent":
        raise NotAnEventError("S3's test event (sent when the notification is configured)")
    records = message.get("Records")
    if not isinstance(records, list) or not records:
        raise NotAnEventError("not an S3 event (no Records)")
    events = []
    for record in records:
        try:
            name, source = str(record["eventName"]), record["s3"]
            kind = _KINDS.get(name.removeprefix(name_prefix).split(":", 1)[0]) if name.startswith(name_prefix) else None
            if kind is None:
                continue  # e.g. ObjectRestore, Replication: nothing for the table
            if source["bucket"]["name"] != bucket:
                raise NotAnEventError(f"an event of another bucket ({source['bucket']['name']})")
            # S3 URL-encodes keys in events, spaces as '+' (S3 User Guide, "Event message structure").
            key = urllib.parse.unquote_plus(source["object"]["key"])
            time = datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, NotAnEventError):
                raise
            raise NotAnEventError(f"a record without {exc}") from None
        events.append(ObjectEvent(kind, name, bucket, key, time))
    return events


def minio_events(body: str, bucket: str) -> list[ObjectEvent]:
    """The object events of one row of MinIO's PostgreSQL target (S3's records, names ``s3:``-prefixed)."""
    return s3_events(body, bucket, name_prefix="s3:")


def _time(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _event_object(body: str, field: str, service: str) -> dict[str, Any]:
    """One message's JSON object, which names its event in ``field``."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        raise NotAnEventError("not JSON") from None
    if not isinstance(message, dict) or field not in message:
        raise NotAnEventError(f"not {service} (no {field})")
    return message


def r2_events(body: str, bucket: str) -> list[ObjectEvent]:
    """The object event of one R2 event-notification message."""
    message = _event_object(body, "action", "an R2 event notification")
    action = str(message["action"])
    if action not in r2.EVENT_ACTIONS:
        return []  # an action the table does not follow
    if message.get("bucket") != bucket:
        raise NotAnEventError(f"an event of another bucket ({message.get('bucket')})")
    try:
        key, time = str(message["object"]["key"]), _time(message["eventTime"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAnEventError(f"an event without {exc}") from None
    kind = REMOVED if action in r2.REMOVAL_ACTIONS else CREATED
    return [ObjectEvent(kind, action, bucket, key, time)]


def b2_events(body: str, bucket: str) -> list[ObjectEvent]:
    """The object event of one B2 event the gateway queued."""
    message = _event_object(body, "eventType", "a B2 event notification")
    event_type = str(message["eventType"])
    removed = event_type.startswith(b2.REMOVAL_PREFIXES)
    if not (removed or event_type.startswith("b2:ObjectCreated:")):
        return []  # e.g. B2's test event: nothing for the table
    if message.get("bucketName") != bucket:
        raise NotAnEventError(f"an event of another bucket ({message.get('bucketName')})")
    try:
        key = str(message["objectName"])
        time = datetime.fromtimestamp(int(message["eventTimestamp"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAnEventError(f"an event without {exc}") from None
    return [ObjectEvent(REMOVED if removed else CREATED, event_type, bucket, key, time)]


def gcs_events(attributes: Mapping[str, str], bucket: str) -> list[ObjectEvent]:
    """The object event of one Cloud Storage notification (its attributes carry it all)."""
    event_type = attributes.get("eventType")
    if not event_type:
        raise NotAnEventError("not a Cloud Storage notification (no eventType attribute)")
    if event_type not in gcs.NOTIFICATION_EVENT_TYPES:
        return []  # e.g. OBJECT_METADATA_UPDATE: nothing for the table
    if attributes.get("bucketId") != bucket:
        raise NotAnEventError(f"an event of another bucket ({attributes.get('bucketId')})")
    try:
        key, time = attributes["objectId"], _time(attributes["eventTime"])
    except (KeyError, ValueError) as exc:
        raise NotAnEventError(f"a notification without {exc}") from None
    kind = REMOVED if event_type in gcs.REMOVAL_EVENT_TYPES else CREATED
    return [ObjectEvent(kind, event_type, bucket, key, time)]
