"""Registration's event source on Cloud Storage: the bucket's notifications, on Pub/Sub, for the receiver.

A bucket notification (``JSON_API_V1``) publishes every new object, every live version made
noncurrent and every version deleted (``learning_images.gcs.NOTIFICATION_EVENT_TYPES``) to a topic;
Cloud Storage's service agent may publish there, and the notification waits for that grant (Cloud
Storage checks it when the notification is created). The receiver pulls from a subscription whose
dead-letter policy moves a message Pub/Sub delivered ``MAX_DELIVERY_ATTEMPTS`` times to a
dead-letter topic; Pub/Sub's own service agent does the moving, so it may publish there and
subscribe here. The dead-letter topic has its own subscription: a topic alone keeps nothing.

The receiver is a service account holding a custom role of ``storage.objects.get`` on the bucket
(HeadObject through the XML API, with its HMAC key), subscriber on the subscription and publisher on
the dead-letter topic (a message it gives up on goes there with its reason); its JSON key is the
Pub/Sub credential. Two alert policies watch the dead letters and the oldest unacknowledged event.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from learning_images import gcs
from learning_images_infra.gcs.access import HmacCredentials, grant, hmac_identity, role_id
from learning_images_infra.naming import Naming, with_digest

#: Deliveries before Pub/Sub moves a message to the dead-letter topic (Pub/Sub takes 5 to 100):
#: a database down for a few minutes does not dead-letter anything (each retry backs off first).
MAX_DELIVERY_ATTEMPTS = 10
#: Seconds a pulled message stays leased to one receiver while it registers the batch.
ACK_DEADLINE_SECONDS = 120
#: Pub/Sub's longest retention of unacknowledged messages: a week.
RETENTION = f"{7 * 86_400}s"
#: Retries back off from 10 s to 10 minutes.
RETRY_BACKOFF = ("10s", "600s")
#: A message older than this has waited for a receiver too long: someone must look.
OLDEST_MESSAGE_ALARM_SECONDS = 3_600
PUBLISHER = "roles/pubsub.publisher"
SUBSCRIBER = "roles/pubsub.subscriber"
#: Pub/Sub topic and subscription names: at most 255 characters.
_NAME_ROOM = 255


def _topic_grant(
    name: str,
    *,
    project: str,
    topic: gcp.pubsub.Topic,
    role: str,
    member: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> gcp.pubsub.TopicIAMMember:
    return gcp.pubsub.TopicIAMMember(name, project=project, topic=topic.id, role=role, member=member, opts=opts)


def _subscription_grant(
    name: str,
    *,
    project: str,
    subscription: gcp.pubsub.Subscription,
    role: str,
    member: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> gcp.pubsub.SubscriptionIAMMember:
    return gcp.pubsub.SubscriptionIAMMember(
        name, project=project, subscription=subscription.id, role=role, member=member, opts=opts
    )


@dataclass(frozen=True)
class Registration:
    subscription: gcp.pubsub.Subscription
    dead_letter_topic: gcp.pubsub.Topic
    receiver: HmacCredentials
    receiver_key: gcp.serviceaccount.Key

    def outputs(self, source: str) -> dict[str, object]:
        """The store's ``registration`` output (``learning_images.outputs.RegistrationOutputs``)."""
        return {
            "source": source,
            "queue_url": self.subscription.id.apply(lambda name: f"{gcs.PUBSUB_API}/{name}"),
            "dead_letter_queue_url": self.dead_letter_topic.id.apply(lambda name: f"{gcs.PUBSUB_API}/{name}"),
            "max_receives": MAX_DELIVERY_ATTEMPTS,
            "receiver_credentials": pulumi.Output.secret(
                {
                    "access_key_id": self.receiver.access_key_id,
                    "secret_access_key": self.receiver.secret_access_key,
                    "service_account_key": self.receiver_key.private_key,
                }
            ),
        }


def registration(
    *,
    names: Naming,
    project: str,
    scope: str,
    bucket: gcp.storage.Bucket,
    bucket_name: str,
    alarm_channels: list[str],
    labels: dict[str, str],
    child: pulumi.ResourceOptions,
) -> Registration:
    """The topics, subscriptions and grants, the bucket's notification, the receiver and the alerts."""
    invoke = pulumi.InvokeOutputOptions(parent=child.parent)
    storage_agent = gcp.storage.get_project_service_account_output(project=project, opts=invoke)
    number = gcp.organizations.get_project_output(project_id=project, opts=invoke).number
    pubsub_agent = number.apply(lambda found: gcs.pubsub_service_agent(str(found)))

    def name(role: str) -> str:
        found = f"{bucket_name}-{role}"
        return found if len(found) <= _NAME_ROOM else with_digest(found, _NAME_ROOM, found)

    topic = gcp.pubsub.Topic(
        names("registration-events"), project=project, name=name("events"), labels=labels, opts=child
    )
    dead_letter_topic = gcp.pubsub.Topic(
        names("registration-dead-letters"), project=project, name=name("dead-letters"), labels=labels, opts=child
    )
    never_expires = gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl="")
    # What lands in the dead-letter topic waits here for a person (a topic alone keeps nothing).
    dead_letters = gcp.pubsub.Subscription(
        names("registration-dead-letters"),
        project=project,
        name=name("dead-letters"),
        topic=dead_letter_topic.id,
        message_retention_duration=RETENTION,
        expiration_policy=never_expires,
        labels=labels,
        opts=child,
    )
    subscription = gcp.pubsub.Subscription(
        names("registration-events"),
        project=project,
        name=name("events"),
        topic=topic.id,
        ack_deadline_seconds=ACK_DEADLINE_SECONDS,
        message_retention_duration=RETENTION,
        # A subscription without pulls expires after 31 days by default: this one must not.
        expiration_policy=never_expires,
        dead_letter_policy=gcp.pubsub.SubscriptionDeadLetterPolicyArgs(
            dead_letter_topic=dead_letter_topic.id, max_delivery_attempts=MAX_DELIVERY_ATTEMPTS
        ),
        retry_policy=gcp.pubsub.SubscriptionRetryPolicyArgs(
            minimum_backoff=RETRY_BACKOFF[0], maximum_backoff=RETRY_BACKOFF[1]
        ),
        labels=labels,
        opts=child,
    )
    # Pub/Sub's service agent moves dead letters: it publishes there and acknowledges here.
    topic_grant = functools.partial(_topic_grant, project=project, opts=child)
    subscription_grant = functools.partial(_subscription_grant, project=project, opts=child)
    topic_grant(
        names("registration-dead-letters-pubsub-agent"),
        topic=dead_letter_topic,
        role=PUBLISHER,
        member=pubsub_agent,
    )
    subscription_grant(
        names("registration-events-pubsub-agent"),
        subscription=subscription,
        role=SUBSCRIBER,
        member=pubsub_agent,
    )
    publisher = topic_grant(
        names("registration-events-storage-agent"), topic=topic, role=PUBLISHER, member=storage_agent.member
    )
    gcp.storage.Notification(
        names("learning-images-events"),
        bucket=bucket.name,
        payload_format="JSON_API_V1",
        topic=topic.id,
        event_types=list(gcs.NOTIFICATION_EVENT_TYPES),
        # Cloud Storage refuses a notification to a topic its agent cannot publish to.
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[publisher, subscription])),
    )
    receiver = hmac_identity(
        names("receiver-service-account"),
        project=project,
        scope=scope,
        who="receiver",
        description="learning-images receiver: reads objects' metadata and pulls the bucket's notifications",
        opts=child,
    )
    role = gcp.projects.IAMCustomRole(
        names("receiver-role"),
        project=project,
        role_id=role_id(scope, "receiver"),
        title=f"learning-images {scope} receiver",
        description="Reads an object's metadata (HeadObject), nothing else.",
        permissions=list(gcs.RECEIVER_PERMISSIONS),
        stage="GA",
        opts=child,
    )
    grant(
        names("receiver-grant"),
        bucket=bucket,
        role=role,
        member=receiver.account.member,
        condition=None,
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[bucket])),
    )
    subscription_grant(
        names("registration-events-receiver"),
        subscription=subscription,
        role=SUBSCRIBER,
        member=receiver.account.member,
    )
    topic_grant(
        names("registration-dead-letters-receiver"),
        topic=dead_letter_topic,
        role=PUBLISHER,
        member=receiver.account.member,
    )
    key = gcp.serviceaccount.Key(
        names("receiver-service-account-key"), service_account_id=receiver.account.name, opts=child
    )
    if not alarm_channels:
        pulumi.log.warn(
            f"store {names.scope}: registrationAlarmChannels is empty, so nobody is told when an event is "
            "dead-lettered or waits over an hour: the alert policies exist without a channel"
        )
    _alert(
        names("registration-dead-letters-alarm"),
        project=project,
        title=f"learning-images {scope}: an object event was dead-lettered",
        content="An object event failed registration and waits in the dead-letter subscription: read its reason, "
        "fix the cause, then republish it (docs/operating.md, Registration).",
        subscription=dead_letters,
        metric="pubsub.googleapis.com/subscription/num_undelivered_messages",
        threshold=0,
        channels=alarm_channels,
        labels=labels,
        opts=child,
    )
    _alert(
        names("registration-backlog-alarm"),
        project=project,
        title=f"learning-images {scope}: an object event has waited over an hour",
        content="An object event has waited over an hour: is the receiver running?",
        subscription=subscription,
        metric="pubsub.googleapis.com/subscription/oldest_unacked_message_age",
        threshold=OLDEST_MESSAGE_ALARM_SECONDS,
        channels=alarm_channels,
        labels=labels,
        opts=child,
    )
    return Registration(
        subscription=subscription, dead_letter_topic=dead_letter_topic, receiver=receiver, receiver_key=key
    )


def _alert(
    resource_name: str,
    *,
    project: str,
    title: str,
    content: str,
    subscription: gcp.pubsub.Subscription,
    metric: str,
    threshold: float,
    channels: list[str],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> gcp.monitoring.AlertPolicy:
    """An alert on one of a subscription's Pub/Sub metrics above ``threshold`` for five minutes."""
    return gcp.monitoring.AlertPolicy(
        resource_name,
        project=project,
        display_name=title,
        combiner="OR",
        conditions=[
            gcp.monitoring.AlertPolicyConditionArgs(
                display_name=title,
                condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                    filter=subscription.name.apply(
                        lambda found: (
                            f'resource.type = "pubsub_subscription" AND resource.labels.subscription_id = '
                            f'"{found}" AND metric.type = "{metric}"'
                        )
                    ),
                    comparison="COMPARISON_GT",
                    threshold_value=threshold,
                    duration="300s",
                    aggregations=[
                        gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                            alignment_period="300s", per_series_aligner="ALIGN_MAX"
                        )
                    ],
                ),
            )
        ],
        documentation=gcp.monitoring.AlertPolicyDocumentationArgs(content=content, mime_type="text/markdown"),
        notification_channels=channels,
        user_labels=labels,
        opts=opts,
    )
