"""The R2, Cloud Storage and B2 sandboxes' event sources: the stand-in queue services
(``learning_images.sandbox.queues``) fed with the local S3's own object events, and the receiver's
stand-in credential, put into the outputs the backend program exports.

The local stack's bucket notifies its SQS queue as S3 does; each pull of a stand-in first moves
what arrived there into the stand-in, rewritten into the backend service's own event form:
- R2 event notifications (R2 docs, "Event notifications"): ``{"account", "action", "bucket",
  "object": {"key", "size", "eTag"}, "eventTime"}``;
- Cloud Storage notifications (``JSON_API_V1``): the event in the attributes, the object resource
  in the data. The bucket is versioned, so a live object deleted is ``OBJECT_ARCHIVE``, a version
  deleted for good ``OBJECT_DELETE``;
- B2's event webhooks (Event Notifications Reference Guide): ``{"events": [{"eventType",
  "bucketName", "objectName", "objectVersionId", "eventTimestamp", ...}]}``, signed with the rule's
  secret and POSTed to the upload gateway's ``/_events``, which queues each event on Cloudflare
  Queues' stand-in itself: a stand-in B2 notifier, not a stand-in of the gateway. A live object
  deleted leaves a delete marker, B2's hide marker (``b2:HideMarkerCreated:Hide``).
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from learning_images import b2
from learning_images.sandbox.local import LocalStore, client
from learning_images.sandbox.queues import (
    CloudflareQueues,
    Feed,
    PubSub,
    StandInQueue,
    new_service_account,
    serving,
)
from learning_images.sandbox.stand_in import stand_in_user

#: The S3 event a local S3 record is, as each service names it (by the S3 event name's prefix).
R2_ACTIONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "ObjectRemoved": "DeleteObject",
    "LifecycleExpiration": "LifecycleDeletion",
}
GCS_EVENT_TYPES = {
    "ObjectCreated": "OBJECT_FINALIZE",
    "ObjectRemoved:DeleteMarkerCreated": "OBJECT_ARCHIVE",
    "ObjectRemoved:Delete": "OBJECT_DELETE",
    "LifecycleExpiration": "OBJECT_DELETE",
}
B2_EVENT_TYPES = {
    "ObjectCreated": "b2:ObjectCreated:Upload",
    "ObjectRemoved:DeleteMarkerCreated": "b2:HideMarkerCreated:Hide",
    "ObjectRemoved:Delete": "b2:ObjectDeleted:Delete",
    "LifecycleExpiration": "b2:ObjectDeleted:LifecycleRule",
}
#: Dead letters wait for a person: delivered as often as asked, never moved on.
NEVER = 10**9


def _named(table: dict[str, str], event: str) -> str | None:
    """The entry for the longest key ``event`` starts with."""
    found = [key for key in table if event == key or event.startswith(key + ":")]
    return table[max(found, key=len)] if found else None


def r2_form(record: dict[str, Any], account_id: str) -> tuple[str, dict[str, str]] | None:
    action = _named(R2_ACTIONS, str(record["eventName"]))
    if action is None:
        return None
    found = record["s3"]["object"]
    body = {
        "account": account_id,
        "action": action,
        "bucket": record["s3"]["bucket"]["name"],
        "object": {
            "key": urllib.parse.unquote_plus(found["key"]),
            "size": found.get("size", 0),
            "eTag": found.get("eTag", ""),
        },
        "eventTime": record["eventTime"],
    }
    return json.dumps(body), {}


def gcs_form(record: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    event_type = _named(GCS_EVENT_TYPES, str(record["eventName"]))
    if event_type is None:
        return None
    bucket, found = record["s3"]["bucket"]["name"], record["s3"]["object"]
    key = urllib.parse.unquote_plus(found["key"])
    resource = {"kind": "storage#object", "name": key, "bucket": bucket, "size": str(found.get("size", 0))}
    attributes = {
        "notificationConfig": f"projects/_/buckets/{bucket}/notificationConfigs/1",
        "eventType": event_type,
        "payloadFormat": "JSON_API_V1",
        "bucketId": bucket,
        "objectId": key,
        "eventTime": record["eventTime"],
    }
    return json.dumps(resource), attributes


def b2_form(record: dict[str, Any]) -> dict[str, Any] | None:
    """One local S3 record as the event B2 puts in a webhook delivery."""
    event_type = _named(B2_EVENT_TYPES, str(record["eventName"]))
    if event_type is None:
        return None
    found = record["s3"]["object"]
    at = datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))
    return {
        "eventType": event_type,
        "eventVersion": 1,
        "eventId": secrets.token_hex(16),
        "matchedRuleName": b2.NOTIFICATION_RULE_NAME,
        "bucketName": record["s3"]["bucket"]["name"],
        "objectName": urllib.parse.unquote_plus(found["key"]),
        "objectSize": found.get("size", 0),
        "objectVersionId": found.get("versionId") or secrets.token_hex(12),
        "eventTimestamp": int(at.timestamp() * 1000),
    }


def b2_notifier(
    sqs: Any, queue_url: str, webhook: str, signing_secret: str, ca_bundle: Path
) -> Callable[[], list[tuple[str, dict[str, str]]]]:
    """A stand-in for B2's notifier, run before each pull of the queue the gateway feeds: what the
    local S3 queued, as one signed delivery to the gateway's webhook. A record leaves the local
    queue only once the gateway answered 200 (it has queued every event), as B2 delivers again
    until it does. Returns nothing to push itself: the gateway has pushed."""

    def post(records: list[dict[str, Any]]) -> None:
        events = [event for record in records if (event := b2_form(record)) is not None]
        if not events:
            return
        body = json.dumps({"events": events}).encode()
        answer = requests.post(
            webhook,
            data=body,
            headers={b2.SIGNATURE_HEADER: b2.signature(signing_secret, body), "content-type": "application/json"},
            timeout=30,
            verify=str(ca_bundle),
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the gateway refused B2's delivery: {answer.status_code} {answer.text[:200]}")

    def deliver() -> list[tuple[str, dict[str, str]]]:
        drain(sqs, queue_url, post)
        return []

    return deliver


def drain(sqs: Any, queue_url: str, each: Callable[[list[dict[str, Any]]], None]) -> None:
    """Everything the local S3 queued, a batch at a time: ``each`` sees a batch's S3 records, and
    the batch leaves the queue only once ``each`` returned (an exception leaves it there)."""
    # WaitTimeSeconds=0: the queue long-polls by default, and a pull must answer at once.
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    ):
        each([record for message in messages for record in json.loads(message["Body"]).get("Records", [])])
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )


def sqs_feed(sqs: Any, queue_url: str, form: Callable[[dict[str, Any]], tuple[str, dict[str, str]] | None]) -> Feed:
    """What the local S3 queued since the last pull, each record in the service's form."""

    def feed() -> list[tuple[str, dict[str, str]]]:
        found: list[tuple[str, dict[str, str]]] = []
        drain(sqs, queue_url, lambda records: found.extend(f for record in records if (f := form(record)) is not None))
        return found

    return feed


def local_queue(store: LocalStore) -> tuple[Any, str]:
    """The local stack's events queue, which the local S3 notifies, and an SQS client for it."""
    sqs = client(store.url, "sqs", **store.operator)
    urls = sqs.list_queues().get("QueueUrls", [])
    (url,) = [u for u in urls if u.endswith("registration-events")]
    return sqs, url


def _publish(store: LocalStore, registration: dict[str, Any]) -> None:
    store.outputs["registration"] = registration
    store.outputs_file.write_text(json.dumps(store.outputs))


def queue_account(rendered: dict[str, Any]) -> str:
    """The Cloudflare account the program's queue URL names (``learning_images.r2.queue_url``)."""
    return urllib.parse.urlparse(str(rendered["queue_url"])).path.split("/")[4]


@contextmanager
def _cloudflare_queues(
    store: LocalStore, rendered: dict[str, Any], receiver: str, receiver_policy: str, feed: Feed | None
) -> Iterator[tuple[StandInQueue, str, str]]:
    """Cloudflare Queues' stand-in, its events and dead-letter queues, published in the outputs'
    ``registration`` in place of the program's (``rendered``) with the receiver's stand-in
    credential (an IAM user named ``receiver``); yields the events queue, its URL and the token."""
    account = queue_account(rendered)
    dead = StandInQueue(max_deliveries=NEVER)
    events = StandInQueue(max_deliveries=int(rendered["max_receives"]), dead_letter=dead, feed=feed)
    token = secrets.token_urlsafe(32)
    key = stand_in_user(client(store.url, "iam", **store.operator), receiver, receiver_policy)
    with serving(CloudflareQueues(account, token, {"events": events, "dead-letters": dead})) as server:
        assert isinstance(server, CloudflareQueues)
        _publish(
            store,
            {
                **rendered,
                "queue_url": server.queue_url("events"),
                "dead_letter_queue_url": server.queue_url("dead-letters"),
                "receiver_credentials": {**key, "api_token": token},
            },
        )
        yield events, server.queue_url("events"), token


@contextmanager
def r2_event_source(store: LocalStore, rendered: dict[str, Any] | None, receiver_policy: str) -> Iterator[None]:
    """Cloudflare Queues' stand-in behind the r2 program's ``registration`` (``rendered``), for the block."""
    if not rendered:
        yield
        return
    sqs, url = local_queue(store)
    account = queue_account(rendered)
    feed = sqs_feed(sqs, url, lambda record: r2_form(record, account))
    with _cloudflare_queues(store, rendered, "receiver-token", receiver_policy, feed):
        yield


@contextmanager
def gcs_event_source(
    store: LocalStore, rendered: dict[str, Any] | None, receiver_policy: str, project: str, ack_deadline_seconds: int
) -> Iterator[None]:
    """Pub/Sub's stand-in behind the gcs program's ``registration`` (``rendered``), for the block."""
    if not rendered:
        yield
        return
    sqs, url = local_queue(store)
    dead = StandInQueue(max_deliveries=NEVER)
    events = StandInQueue(
        max_deliveries=int(rendered["max_receives"]), dead_letter=dead, feed=sqs_feed(sqs, url, gcs_form)
    )
    account = new_service_account(f"receiver@{project}.iam.gserviceaccount.com")
    server = PubSub(
        project,
        account,
        subscriptions={"events": events, "dead-letters": dead},
        topics={"dead-letters": ["dead-letters"]},
        ack_deadline_seconds=ack_deadline_seconds,
    )
    key = stand_in_user(client(store.url, "iam", **store.operator), "receiver-service-account", receiver_policy)
    with serving(server):
        _publish(
            store,
            {
                **rendered,
                "queue_url": server.subscription_url("events"),
                "dead_letter_queue_url": server.topic_url("dead-letters"),
                "receiver_credentials": {
                    **key,
                    "service_account_key": account.key_file(f"{server.url}/token", project),
                },
            },
        )
        yield


@contextmanager
def webhook_event_source(
    store: LocalStore, rendered: dict[str, Any] | None, receiver_policy: str
) -> Iterator[tuple[StandInQueue, dict[str, str]] | None]:
    """Cloudflare Queues' stand-in behind a program's ``registration`` (``rendered``) whose events
    the upload gateway queues (B2's webhooks), for the block: the events queue (its feed, the
    backend's notifier, is the caller's to set once the gateway runs) and the gateway's ``events``
    setting (the queue's URL and token; the signing secret is the caller's)."""
    if not rendered:
        yield None
        return
    with _cloudflare_queues(store, rendered, "receiver-key", receiver_policy, None) as (events, url, token):
        yield events, {"queue_url": url, "token": token}
