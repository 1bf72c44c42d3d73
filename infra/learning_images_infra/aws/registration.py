"""Registration's event source on AWS: the bucket's object events, queued for the receiver.

S3 Event Notifications (objects created, removed, expired by lifecycle) go to an SQS queue
encrypted with a key of its own, which only S3, for this bucket and account, may send to. A
message the receiver keeps failing moves to a dead-letter queue after ``MAX_RECEIVES`` receives,
with what the receiver said of it; alarms watch that queue and the age of the oldest message. The
receiver is a role the Command Centre's principals assume: it may receive and acknowledge the
queue's messages and read objects' metadata and tags, nothing else (``iam.receiver_policy``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from learning_images_infra.aws import iam
from learning_images_infra.aws.encryption import DELETION_WINDOW_DAYS
from learning_images_infra.naming import Naming

#: The S3 events the receiver registers from (S3 User Guide, "Supported event types"): every
#: creation, every removal (a deleted version, a delete marker) and lifecycle's expirations.
EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*")
#: Receives before a message moves to the dead-letter queue: a database down for a few minutes
#: does not dead-letter anything (each receive waits out the visibility timeout first).
MAX_RECEIVES = 10
#: Seconds a received message stays hidden from other receivers while one registers it.
VISIBILITY_SECONDS = 120
#: SQS's longest retention: events wait two weeks for a receiver that is down.
RETENTION_SECONDS = 1_209_600
#: A message older than this has waited for a receiver too long: someone must look.
OLDEST_MESSAGE_ALARM_SECONDS = 3_600


@dataclass(frozen=True)
class Registration:
    queue: aws.sqs.Queue
    dead_letter_queue: aws.sqs.Queue
    key: aws.kms.Key
    receiver_role: aws.iam.Role


def registration(
    *,
    names: Naming,
    bucket: aws.s3.Bucket,
    region: str,
    account_id: pulumi.Input[str],
    account_root_arn: pulumi.Input[str],
    receiver_principals: pulumi.Input[list[str]],
    iam_path: str,
    alarm_topic_arn: str | None,
    administrator_patterns: tuple[str, ...],
    tags: dict[str, str],
    child: pulumi.ResourceOptions,
    ready: list[pulumi.Resource],
    protected: pulumi.ResourceOptions,
    emulator: bool = False,
) -> Registration:
    """The queue, its dead-letter queue and key, the bucket's notification, the receiver's role and
    the alarms. ``ready``: what must exist before S3 tests the notification (the bucket policy)."""
    key = aws.kms.Key(
        names("registration-key"),
        description=f"learning-images {names('registration-key')}: SQS encryption of the bucket's object events",
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=pulumi.Output.all(account_root_arn, bucket.arn, account_id).apply(
            lambda a: json.dumps(iam.queue_key_policy(a[0], a[1], a[2], administrator_patterns))
        ),
        tags=tags,
        # The queued events are unreadable without it: protected like the store's own keys.
        opts=protected,
    )
    dead_letter_queue = aws.sqs.Queue(
        names("registration-dead-letters"),
        kms_master_key_id=key.arn,
        message_retention_seconds=RETENTION_SECONDS,
        tags=tags,
        opts=child,
    )
    queue = aws.sqs.Queue(
        names("registration-events"),
        kms_master_key_id=key.arn,
        # One data key per five minutes: fewer KMS calls, as S3 sends many small messages.
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=RETENTION_SECONDS,
        visibility_timeout_seconds=VISIBILITY_SECONDS,
        # Long polling: a receive waits up to 20 s for messages instead of answering empty.
        receive_wait_time_seconds=20,
        redrive_policy=dead_letter_queue.arn.apply(
            lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES})
        ),
        tags=tags,
        opts=child,
    )
    policy = aws.sqs.QueuePolicy(
        names("registration-events-policy"),
        queue_url=queue.id,
        policy=pulumi.Output.all(queue.arn, bucket.arn, account_id).apply(
            lambda a: json.dumps(iam.queue_policy(a[0], a[1], a[2]))
        ),
        opts=child,
    )
    # S3 sends a test event when the configuration is written: the queue must already accept it.
    aws.s3.BucketNotification(
        names("learning-images-events"),
        bucket=bucket.id,
        queues=[aws.s3.BucketNotificationQueueArgs(queue_arn=queue.arn, events=list(EVENTS))],
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[policy, key, *ready])),
    )
    role = aws.iam.Role(
        names("receiver-role"),
        path=iam_path,
        assume_role_policy=pulumi.Output.from_input(receiver_principals).apply(
            lambda arns: json.dumps(iam.assume_role_policy(list(arns)))
        ),
        tags={**tags, "tier": "receiver"},
        opts=child,
    )
    aws.iam.RolePolicy(
        names("receiver-role-policy"),
        role=role.id,
        policy=pulumi.Output.all(queue.arn, dead_letter_queue.arn, key.arn, bucket.arn).apply(
            lambda a: json.dumps(iam.receiver_policy(a[0], a[1], a[2], a[3], region))
        ),
        opts=child,
    )
    actions = [alarm_topic_arn] if alarm_topic_arn else []
    if not alarm_topic_arn and not emulator:  # the sandbox has nobody to tell
        pulumi.log.warn(
            f"store {names.scope}: registrationAlarmTopicArn is unset, so nobody is told when an event is "
            "dead-lettered or waits over an hour: the alarms exist without an action"
        )
    alarm = functools.partial(_queue_alarm, actions=actions, tags=tags, opts=child)
    alarm(
        names("registration-dead-letters-alarm"),
        "An object event failed registration and waits in the dead-letter queue: read its reason, fix the "
        "cause, then redrive it (docs/operating.md, Registration).",
        metric="ApproximateNumberOfMessagesVisible",
        queue=dead_letter_queue,
        threshold=0,
    )
    alarm(
        names("registration-backlog-alarm"),
        "An object event has waited over an hour: is the receiver running?",
        metric="ApproximateAgeOfOldestMessage",
        queue=queue,
        threshold=OLDEST_MESSAGE_ALARM_SECONDS,
    )
    return Registration(queue=queue, dead_letter_queue=dead_letter_queue, key=key, receiver_role=role)


def _queue_alarm(
    name: str,
    description: str,
    *,
    metric: str,
    queue: aws.sqs.Queue,
    threshold: float,
    actions: list[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """An alarm on one of a queue's SQS metrics, over five minutes, notifying ``actions``."""
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        namespace="AWS/SQS",
        metric_name=metric,
        dimensions={"QueueName": queue.name},
        statistic="Maximum",
        period=300,
        evaluation_periods=1,
        threshold=threshold,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=actions,
        ok_actions=actions,
        tags=tags,
        opts=opts,
    )
