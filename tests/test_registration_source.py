"""Registration's event source as the AWS program declares it (under Pulumi's mocks), and the
receiver's and S3's permissions on it judged by the independent IAM evaluator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from learning_images.sandbox.iam_simulator import Check, IamSimulator, Principal, iam_simulator
from tests.support.stack import Graph, Resource, policy_of, render, stack_config

QUEUE, QUEUE_POLICY = "aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ACCOUNT = "123456789012"


def queue(graph: Graph, name: str) -> Resource:
    return graph.one(QUEUE, name)


def test_object_events_go_to_a_queue_encrypted_with_its_own_rotated_key(prod: Graph) -> None:
    key = prod.named("registration-key")
    assert key["enableKeyRotation"] is True, f"{key.urn}: the queue key must rotate"
    for name in ("registration-events", "registration-dead-letters"):
        found = queue(prod, name)
        assert found["kmsMasterKeyId"] == key.outputs["arn"], f"{found.urn}: not encrypted with the registration key"
    assert "registration-key" in prod.protected, "the queued events are unreadable without their key: protect it"


def test_the_bucket_notifies_creations_removals_and_expirations_once_the_queue_accepts_them(prod: Graph) -> None:
    (notification,) = prod.of_type(NOTIFICATION)
    (target,) = notification["queues"]
    assert target["queueArn"] == queue(prod, "registration-events").outputs["arn"]
    assert set(target["events"]) == {"s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"}
    # S3 sends a test event when the configuration is written: a queue that refuses it fails the deploy.
    assert {"registration-events-policy", "registration-key"} <= prod.depends_on[notification.name], (
        f"{notification.urn}: must wait for the queue policy and the key policy"
    )


def test_a_failing_event_moves_to_the_dead_letter_queue_after_its_receives(prod: Graph) -> None:
    redrive = json.loads(queue(prod, "registration-events")["redrivePolicy"])
    assert redrive["deadLetterTargetArn"] == queue(prod, "registration-dead-letters").outputs["arn"]
    assert redrive["maxReceiveCount"] >= 3, "a short database outage must not dead-letter events"


def test_alarms_watch_dead_letters_and_the_oldest_event_and_notify_the_configured_topic(prod: Graph) -> None:
    alarms = {a.name: a for a in prod.of_type(ALARM)}
    topic = stack_config("prod")["learning-images:registrationAlarmTopicArn"]
    dead, backlog = alarms["registration-dead-letters-alarm"], alarms["registration-backlog-alarm"]
    assert dead["metricName"] == "ApproximateNumberOfMessagesVisible" and dead["threshold"] == 0
    assert dead["dimensions"] == {"QueueName": queue(prod, "registration-dead-letters").outputs["name"]}
    assert backlog["metricName"] == "ApproximateAgeOfOldestMessage"
    assert backlog["dimensions"] == {"QueueName": queue(prod, "registration-events").outputs["name"]}
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [topic], f"{alarm.urn}: must notify {topic}"


def test_a_stack_without_an_alarm_topic_warns_and_its_alarms_have_no_action(dev: Graph) -> None:
    assert all(not a.get("alarmActions") for a in dev.of_type(ALARM))


def test_registration_off_declares_no_event_source_and_no_output() -> None:
    graph = render(stack_config("dev") | {"learning-images:registration": "false"})
    assert not graph.of_type(QUEUE) and not graph.of_type(NOTIFICATION), "registration off declared a queue"
    assert graph.outputs["registration"] is None


def test_the_outputs_name_the_queue_the_dead_letters_and_the_receivers_role(prod: Graph) -> None:
    found = prod.outputs["registration"]
    assert found["source"] == "sqs"
    assert found["queue_url"] == queue(prod, "registration-events").outputs["url"]
    assert found["dead_letter_queue_url"] == queue(prod, "registration-dead-letters").outputs["url"]
    assert found["receiver_role_arn"] == prod.named("receiver-role").outputs["arn"]


# --- under IAM semantics ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[IamSimulator]:
    with iam_simulator() as running:
        yield running


def _receiver(prod: Graph) -> Principal:
    role = prod.named("receiver-role").outputs["arn"]
    policy = policy_of(prod.named("receiver-role-policy"))
    return Principal(
        "receiver",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/receiver-role/register",
        principal_arn=role,
        account=ACCOUNT,
        identity_policies=(("receiver", policy),),
    )


def _decide(
    simulator: IamSimulator, prod: Graph, principal: Principal, action: str, resource: str, **context: Any
) -> bool:
    check = Check(action, resource, ACCOUNT, {"aws:SecureTransport": "true", **context})
    # KMS reads the key's own policy first (it must delegate to the account's IAM policies).
    key_policy = policy_of(prod.named("registration-key")) if action.startswith("kms:") else None
    return simulator.evaluate(principal, check, key_policy).allowed


def test_the_receiver_may_receive_acknowledge_and_read_metadata_and_nothing_else(
    simulator: IamSimulator, prod: Graph
) -> None:
    receiver = _receiver(prod)
    events = queue(prod, "registration-events").outputs["arn"]
    dead = queue(prod, "registration-dead-letters").outputs["arn"]
    bucket = prod.one("aws:s3/bucket:Bucket", "learning-images").outputs["arn"]
    key = prod.named("registration-key").outputs["arn"]
    allowed: list[tuple[str, str, dict[str, str]]] = [
        ("sqs:ReceiveMessage", events, {}),
        ("sqs:DeleteMessage", events, {}),
        ("sqs:ChangeMessageVisibility", events, {}),
        ("sqs:SendMessage", dead, {}),
        ("s3:GetObject", f"{bucket}/a.jpg", {}),
        ("s3:GetObjectTagging", f"{bucket}/a.jpg", {}),
        ("kms:Decrypt", key, {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}),
    ]
    refused: list[tuple[str, str, dict[str, str]]] = [
        ("sqs:SendMessage", events, {}),
        ("sqs:PurgeQueue", events, {}),
        ("sqs:ReceiveMessage", dead, {}),
        ("s3:PutObject", f"{bucket}/a.jpg", {}),
        ("s3:DeleteObject", f"{bucket}/a.jpg", {}),
        ("s3:ListBucket", bucket, {}),
        ("s3:PutObjectTagging", f"{bucket}/a.jpg", {}),
        ("kms:Decrypt", key, {}),
    ]
    wrong = [f"{a} {r}: should be allowed" for a, r, c in allowed if not _decide(simulator, prod, receiver, a, r, **c)]
    wrong += [f"{a} {r}: should be refused" for a, r, c in refused if _decide(simulator, prod, receiver, a, r, **c)]
    assert not wrong, f"receiver-role-policy: {wrong}"


def test_only_s3_for_this_bucket_and_account_may_send_events_and_never_over_plain_http(
    simulator: IamSimulator, prod: Graph
) -> None:
    events = queue(prod, "registration-events").outputs["arn"]
    bucket = prod.one("aws:s3/bucket:Bucket", "learning-images").outputs["arn"]
    policy = policy_of(prod.one(QUEUE_POLICY))
    s3 = Principal("s3", "s3.amazonaws.com")

    def sends(principal: Principal, **context: str) -> bool:
        check = Check("sqs:SendMessage", events, ACCOUNT, {"aws:SecureTransport": "true", **context})
        return simulator.evaluate(principal, check, policy).allowed

    assert sends(s3, **{"aws:SourceArn": bucket, "aws:SourceAccount": ACCOUNT}), "S3 must deliver this bucket's events"
    assert not sends(s3, **{"aws:SourceArn": "arn:aws:s3:::another-bucket", "aws:SourceAccount": ACCOUNT})
    assert not sends(s3, **{"aws:SourceArn": bucket, "aws:SourceAccount": "210987654321"})
    anyone = Principal("other", "arn:aws:iam::210987654321:user/someone", account="210987654321")
    assert not sends(anyone), "another account may not send to the queue"
    assert not sends(s3, **{"aws:SourceArn": bucket, "aws:SourceAccount": ACCOUNT, "aws:SecureTransport": "false"}), (
        "plain HTTP must be refused"
    )


def test_a_stack_without_an_alarm_topic_is_warned_at_preview_except_the_sandbox(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING"):
        render(stack_config("dev"), stack="dev")
    assert "registrationAlarmTopicArn is unset" in caplog.text, "dev: nobody would be told of dead letters"
    caplog.clear()
    with caplog.at_level("WARNING"):
        render(stack_config("local"), stack="local")
    assert "registrationAlarmTopicArn" not in caplog.text, "the sandbox stack has nobody to tell"
