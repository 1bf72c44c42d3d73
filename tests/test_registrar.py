"""How the receiver reads an S3 event message and judges an object against the contract: pure
functions, no server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from learning_images import contract, rules
from learning_images.registry.events import NotAnEventError, b2_events, minio_events, s3_events
from learning_images.registry.registrar import contract_breach

BUCKET = "learning-images"
KEY = "5d0f3c1e-2a4b-4c6d-8e0f-1a2b3c4d5e6f.jpg"
FIELDS = {
    contract.CITY_ID: "paris",
    contract.CAMERA_ID: "cam-1",
    contract.EVENT_ID: "evt-1",
    contract.LABEL_STATUS: "correct",
    contract.UPLOADED_AT: "2026-12-01T10:00:00Z",
}


def message(*records: dict[str, object]) -> str:
    return json.dumps({"Records": list(records)})


def record(name: str = "ObjectCreated:Put", key: str = KEY, bucket: str = BUCKET) -> dict[str, object]:
    return {
        "eventName": name,
        "eventTime": "2026-12-01T10:00:00.000Z",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
    }


def test_creations_removals_and_lifecycle_expirations_are_the_events_registration_reads() -> None:
    events = s3_events(
        message(record(), record("ObjectRemoved:DeleteMarkerCreated"), record("LifecycleExpiration:Delete")), BUCKET
    )
    assert [(e.kind, e.name) for e in events] == [
        ("created", "ObjectCreated:Put"),
        ("removed", "ObjectRemoved:DeleteMarkerCreated"),
        ("removed", "LifecycleExpiration:Delete"),
    ]


def test_an_event_key_is_url_decoded_as_s3_encodes_it() -> None:
    (event,) = s3_events(message(record(key="a+b%2Fc.jpg")), BUCKET)
    assert event.key == "a b/c.jpg", "S3 encodes keys in events, spaces as '+'"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}), "test event"),
        (message(record(bucket="another-bucket")), "another bucket"),
        ("{not json", "not JSON"),
        (json.dumps({"Records": []}), "no Records"),
        (message({"eventName": "ObjectCreated:Put"}), "without"),
    ],
)
def test_a_message_that_is_not_this_buckets_event_is_refused_named(body: str, why: str) -> None:
    with pytest.raises(NotAnEventError, match=why):
        s3_events(body, BUCKET)


def test_a_minio_record_is_read_by_its_s3_prefixed_name() -> None:
    events = minio_events(
        message(
            record("s3:ObjectCreated:Put"), record("s3:ObjectRemoved:DeleteMarkerCreated"), record("ObjectCreated:Put")
        ),
        BUCKET,
    )
    assert [(e.kind, e.name) for e in events] == [
        ("created", "s3:ObjectCreated:Put"),
        ("removed", "s3:ObjectRemoved:DeleteMarkerCreated"),
    ], f"MinIO's records read as {events} (an unprefixed name is not MinIO's and is skipped)"


def b2_event(event_type: str, bucket: str = BUCKET) -> str:
    return json.dumps(
        {"eventType": event_type, "bucketName": bucket, "objectName": KEY, "eventTimestamp": 1764583200000}
    )


def test_b2_creations_deletions_and_hide_markers_are_the_events_registration_reads() -> None:
    kinds = {
        event_type: [e.kind for e in b2_events(b2_event(event_type), BUCKET)]
        for event_type in (
            "b2:ObjectCreated:Upload",
            "b2:ObjectCreated:MultipartUpload",
            "b2:ObjectDeleted:Delete",
            "b2:HideMarkerCreated:Hide",
            "b2:HideMarkerCreated:LifecycleRule",
            "b2:TestEvent",
        )
    }
    assert kinds == {
        "b2:ObjectCreated:Upload": ["created"],
        "b2:ObjectCreated:MultipartUpload": ["created"],
        "b2:ObjectDeleted:Delete": ["removed"],
        "b2:HideMarkerCreated:Hide": ["removed"],
        "b2:HideMarkerCreated:LifecycleRule": ["removed"],
        "b2:TestEvent": [],
    }, kinds
    (event,) = b2_events(b2_event("b2:ObjectCreated:Upload"), BUCKET)
    assert (event.key, event.time.isoformat()) == (KEY, "2025-12-01T10:00:00+00:00"), event


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("not json", "not JSON"),
        ('{"objectName": "k"}', "no eventType"),
        (b2_event("b2:ObjectCreated:Upload", "other"), "another bucket"),
    ],
)
def test_a_b2_message_that_is_not_this_buckets_event_is_refused_named(body: str, why: str) -> None:
    with pytest.raises(NotAnEventError, match=why):
        b2_events(body, BUCKET)


@pytest.mark.parametrize(("message_format", "reads"), [("b2-webhook", "b2"), ("r2-notification", "r2"), (None, "r2")])
def test_a_cloudflare_queue_is_read_as_the_events_its_outputs_name(message_format: Any, reads: str) -> None:
    """One queue service, two backends' events: the outputs' message_format says which (a stack
    from before B2 names none, and its queue carries R2's)."""
    from learning_images.outputs import RegistrationOutputs  # noqa: PLC0415
    from learning_images.registry.sources import Message  # noqa: PLC0415
    from learning_images.registry.sources.cloudflare import CloudflareQueueSource  # noqa: PLC0415

    registration = RegistrationOutputs(
        source="cloudflare-queues",
        message_format=message_format,
        queue_url="https://api.cloudflare.com/client/v4/accounts/a/queues/q",
        dead_letter_queue_url="https://api.cloudflare.com/client/v4/accounts/a/queues/d",
    )
    source = CloudflareQueueSource(requests.Session(), registration)
    b2_body = b2_event("b2:ObjectCreated:Upload")
    r2_body = json.dumps(
        {"action": "PutObject", "bucket": BUCKET, "object": {"key": KEY}, "eventTime": "2026-12-01T10:00:00Z"}
    )
    body = b2_body if reads == "b2" else r2_body
    (event,) = source.events(Message(id="m", body=body, receipt="r", receives=1), BUCKET)
    assert (event.kind, event.key) == ("created", KEY), f"message_format {message_format}: read as {reads}'s event"


def test_a_compliant_object_breaks_no_rule() -> None:
    assert contract_breach(KEY, FIELDS, dict(FIELDS)) is None


@pytest.mark.parametrize(
    ("key", "fields", "tags", "rule"),
    [
        ("paris/" + KEY, FIELDS, None, "refuse.key-with-slash"),
        ("not-a-uuid.jpg", FIELDS, None, "refuse.key-not-uuid"),
        (KEY, {k: v for k, v in FIELDS.items() if k != contract.CAMERA_ID}, None, "refuse.missing-tag"),
        (KEY, FIELDS | {contract.EVENT_ID: " padded"}, None, "refuse.blank-metadata"),
        (KEY, FIELDS | {contract.LABEL_STATUS: "unsure"}, None, "refuse.unsure-label"),
        (KEY, FIELDS, FIELDS | {contract.LABEL_STATUS: "changed"}, "refuse.tag-rewrite"),
    ],
)
def test_an_object_that_breaks_a_rule_is_quarantined_with_that_rule(
    key: str, fields: dict[str, str], tags: dict[str, str] | None, rule: str
) -> None:
    breach = contract_breach(key, fields, tags)
    assert breach is not None and breach[0] == rule, f"{key} {fields}: expected {rule}, got {breach}"
    assert rule in rules.all_checks(), f"{rule} is no check of the rule catalogue"


def test_training_reads_only_trainable_rows_never_quarantined_erased_or_the_probes() -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    from sqlalchemy import create_engine, insert  # noqa: PLC0415

    from learning_images.registry.models import Base, LearningSample, trainable  # noqa: PLC0415

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)

    def row(name: str, **changes: object) -> dict[str, object]:
        base = {"image_reference": f"s3://b/{name}", "bucket": "b", "object_key": name, "size_bytes": 1, "etag": "e"}
        # Every row the same keys: an executemany takes its columns from the first row.
        return base | {"stored_at": now, "quarantined_rule": None, "erased_at": None, **FIELDS} | changes

    with engine.begin() as connection:
        connection.execute(
            insert(LearningSample),
            [
                row("good.jpg"),
                row("quarantined.jpg", quarantined_rule="refuse.unsure-label"),
                row("erased.jpg", erased_at=now),
                row("probe.jpg", city_id=contract.PROBE_CITY_ID),
            ],
        )
        found = connection.execute(trainable().with_only_columns(LearningSample.object_key)).scalars().all()
    assert found == ["good.jpg"], f"training would read {found}"
