"""The receiver's source on AWS: the SQS queue S3 Event Notifications feed.

Long polling, competing consumers (each message goes to one receiver at a time, hidden
from the others for the queue's visibility timeout), deletion as the acknowledgement. A message
the receiver gives up on is moved to the dead-letter queue by the receiver itself, with its reason
as a message attribute, on its last receive (the queue's redrive would move it without one).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from learning_images.outputs import RegistrationOutputs
from learning_images.registry.events import ObjectEvent, s3_events
from learning_images.registry.sources import Message


def open_source(registration: RegistrationOutputs, *, aws: Callable[[str], Any], engine: object = None) -> SqsSource:
    return SqsSource(aws("sqs"), registration)


class SqsSource:
    def __init__(self, sqs: Any, registration: RegistrationOutputs) -> None:
        self.sqs = sqs
        self.queue_url = registration.queue_url
        self.dead_letter_queue_url = registration.dead_letter_queue_url
        attributes = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
        redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
        #: The receive after which SQS moves a message to the dead-letter queue by itself.
        self.max_receives = int(redrive.get("maxReceiveCount", 0)) or registration.max_receives

    def receive(self, count: int, wait_seconds: int) -> list[Message]:
        found = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            Message(
                m["MessageId"],
                m["Body"],
                m["ReceiptHandle"],
                int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            )
            for m in found.get("Messages", [])
        ]

    def acknowledge(self, messages: list[Message]) -> list[str]:
        """Delete ``messages`` (their effect is committed); the ids SQS did not delete."""
        failed: list[str] = []
        for start in range(0, len(messages), 10):  # DeleteMessageBatch takes ten at most
            chunk = messages[start : start + 10]
            answer = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m.receipt} for n, m in enumerate(chunk)],
            )
            failed += [chunk[int(f["Id"])].id for f in answer.get("Failed", [])]
        return failed

    def release(self, messages: list[Message]) -> None:
        """Make ``messages`` visible again at once (their batch was not committed), so a receiver
        that restarts gets them without waiting out the visibility timeout. Best effort: a failure
        leaves them to reappear when the timeout ends."""
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            with contextlib.suppress(ClientError, BotoCoreError):
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m.receipt, "VisibilityTimeout": 0} for n, m in enumerate(chunk)
                    ],
                )

    def last_receive(self, message: Message) -> bool:
        return self.max_receives is not None and message.receives >= self.max_receives

    def dead_letter(self, message: Message, reason: str) -> None:
        """Move ``message`` to the dead-letter queue with ``reason``, then delete it here."""
        self.sqs.send_message(
            QueueUrl=self.dead_letter_queue_url,
            MessageBody=message.body,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1024]},
                "receives": {"DataType": "Number", "StringValue": str(message.receives)},
            },
        )
        self.acknowledge([message])

    def events(self, message: Message, bucket: str) -> list[ObjectEvent]:
        return s3_events(message.body, bucket)
