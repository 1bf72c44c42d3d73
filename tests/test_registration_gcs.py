"""Registration's event source as the Cloud Storage program declares it (under Pulumi's mocks): the
bucket's notification, the Pub/Sub topics and subscriptions with their dead-letter policy, the
service agents' grants, the receiver's service account and the alert policies."""

from __future__ import annotations

import pytest

from learning_images import gcs as gcs_data
from learning_images.outputs import parse_outputs
from learning_images.sandbox.render import GCP_PROJECT_NUMBER
from learning_images_infra.settings import SettingsError, parse_settings
from tests.support.stack import Graph, Resource, render, stack_config

TOPIC, SUBSCRIPTION = "gcp:pubsub/topic:Topic", "gcp:pubsub/subscription:Subscription"
TOPIC_GRANT = "gcp:pubsub/topicIAMMember:TopicIAMMember"
SUBSCRIPTION_GRANT = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
NOTIFICATION = "gcp:storage/notification:Notification"
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
PUBSUB_AGENT = gcs_data.pubsub_service_agent(GCP_PROJECT_NUMBER)


def topic(graph: Graph, name: str) -> Resource:
    return graph.one(TOPIC, name)


def subscription(graph: Graph, name: str) -> Resource:
    return graph.one(SUBSCRIPTION, name)


def grants(graph: Graph, type_: str, target: str, prop: str) -> dict[str, str]:
    """Member -> role of the grants on the topic or subscription whose id is ``target``."""
    return {g["member"]: g["role"] for g in graph.of_type(type_) if g[prop] == target}


def test_the_bucket_notifies_creations_and_removals_once_the_storage_agent_may_publish(gcs: Graph) -> None:
    (notification,) = gcs.of_type(NOTIFICATION)
    events = topic(gcs, "registration-events")
    assert notification["topic"] == events.id, f"{notification.urn}: must publish to the events topic"
    assert notification["payloadFormat"] == "JSON_API_V1"
    assert set(notification["eventTypes"]) == set(gcs_data.NOTIFICATION_EVENT_TYPES), notification["eventTypes"]
    assert "registration-events-storage-agent" in gcs.depends_on[notification.name], (
        f"{notification.urn}: Cloud Storage refuses a notification its agent cannot publish: wait for the grant"
    )
    publishers = grants(gcs, TOPIC_GRANT, events.id, "topic")
    assert list(publishers) == [gcs.one(TOPIC_GRANT, "registration-events-storage-agent")["member"]], publishers
    assert publishers[next(iter(publishers))] == "roles/pubsub.publisher"
    assert next(iter(publishers)).endswith("@" + gcs_data.STORAGE_AGENT_DOMAIN), publishers


def test_a_failing_event_moves_to_a_dead_letter_topic_that_keeps_it(gcs: Graph) -> None:
    events = subscription(gcs, "registration-events")
    dead_topic = topic(gcs, "registration-dead-letters")
    policy = events["deadLetterPolicy"]
    assert policy["deadLetterTopic"] == dead_topic.id, f"{events.urn}: must dead-letter to {dead_topic.name}"
    assert policy["maxDeliveryAttempts"] >= 5, "a short database outage must not dead-letter events"
    assert subscription(gcs, "registration-dead-letters")["topic"] == dead_topic.id, "a topic alone keeps nothing"
    for found in (events, subscription(gcs, "registration-dead-letters")):
        assert found["expirationPolicy"]["ttl"] == "", f"{found.urn}: an idle subscription must never expire"
    # Pub/Sub's own agent moves dead letters: it must publish there and acknowledge here.
    assert grants(gcs, TOPIC_GRANT, dead_topic.id, "topic").get(PUBSUB_AGENT) == "roles/pubsub.publisher"
    assert grants(gcs, SUBSCRIPTION_GRANT, events.id, "subscription").get(PUBSUB_AGENT) == "roles/pubsub.subscriber"


def test_the_receiver_reads_metadata_pulls_and_dead_letters_and_nothing_else(gcs: Graph) -> None:
    account = gcs.one("gcp:serviceaccount/account:Account", "receiver-service-account")
    member = account.outputs["member"]
    role = gcs.one("gcp:projects/iAMCustomRole:IAMCustomRole", "receiver-role")
    assert role["permissions"] == list(gcs_data.RECEIVER_PERMISSIONS), f"{role.urn}: {role['permissions']}"
    bucket_grants = [g for g in gcs.of_type("gcp:storage/bucketIAMMember:BucketIAMMember") if g["member"] == member]
    assert [g["role"] for g in bucket_grants] == [role.outputs["name"]], f"{member}: bucket grants {bucket_grants}"
    events = subscription(gcs, "registration-events")
    assert grants(gcs, SUBSCRIPTION_GRANT, events.id, "subscription").get(member) == "roles/pubsub.subscriber"
    dead = topic(gcs, "registration-dead-letters")
    assert grants(gcs, TOPIC_GRANT, dead.id, "topic").get(member) == "roles/pubsub.publisher"
    everywhere = [
        g.name for g in (*gcs.of_type(TOPIC_GRANT), *gcs.of_type(SUBSCRIPTION_GRANT)) if g["member"] == member
    ]
    assert sorted(everywhere) == ["registration-dead-letters-receiver", "registration-events-receiver"], everywhere


def test_the_registration_output_names_the_subscription_and_holds_the_receiver_keys_as_secrets(gcs: Graph) -> None:
    outputs = parse_outputs(gcs.outputs, "the gcs render")
    registration = outputs.registration
    assert registration is not None and registration.source == "pubsub"
    assert registration.queue_url == f"{gcs_data.PUBSUB_API}/{subscription(gcs, 'registration-events').id}"
    assert registration.dead_letter_queue_url == f"{gcs_data.PUBSUB_API}/{topic(gcs, 'registration-dead-letters').id}"
    credentials = registration.receiver_credentials
    assert credentials is not None and credentials.service_account_key is not None
    assert gcs.secret_outputs["registration"], "the registration output holds the receiver's keys: a secret"


def test_alert_policies_watch_dead_letters_and_the_oldest_event(gcs: Graph) -> None:
    alerts = {a.name: a for a in gcs.of_type(ALERT)}
    dead, backlog = alerts["registration-dead-letters-alarm"], alerts["registration-backlog-alarm"]
    (dead_condition,) = dead["conditions"]
    assert "subscription/num_undelivered_messages" in dead_condition["conditionThreshold"]["filter"]
    assert subscription(gcs, "registration-dead-letters")["name"] in dead_condition["conditionThreshold"]["filter"]
    (backlog_condition,) = backlog["conditions"]
    assert "subscription/oldest_unacked_message_age" in backlog_condition["conditionThreshold"]["filter"]
    assert subscription(gcs, "registration-events")["name"] in backlog_condition["conditionThreshold"]["filter"]


def test_the_alert_policies_notify_the_configured_channels() -> None:
    channel = "projects/learning-images-test/notificationChannels/42"
    graph = render({**stack_config("gcs"), "learning-images:registrationAlarmChannels": f'["{channel}"]'}, stack="gcs")
    for alert in graph.of_type(ALERT):
        assert alert["notificationChannels"] == [channel], f"{alert.urn}: must notify {channel}"


def test_alarm_channels_that_are_not_notification_channels_are_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings({**stack_config("gcs"), "learning-images:registrationAlarmChannels": '["alarms"]'})
    message = str(raised.value)
    assert "learning-images:registrationAlarmChannels" in message and "notificationChannels" in message, message


def test_registration_off_declares_no_topic_and_no_receiver() -> None:
    graph = render({**stack_config("gcs"), "learning-images:registration": "false"}, stack="gcs")
    found = [r.name for r in graph if r.type.startswith("gcp:pubsub/") or r.type == NOTIFICATION]
    assert not found, f"registration off still declares {found}"
    assert graph.outputs["registration"] is None
