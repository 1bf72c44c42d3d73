"""Registration's event source on Cloudflare R2: the bucket's object events, queued for the receiver.

An R2 event-notification rule sends every creation and removal (``learning_images.r2.EVENT_ACTIONS``)
to a Cloudflare Queue whose consumer is an HTTP pull consumer: the receiver pulls batches over
Cloudflare's API and acknowledges them once their rows are committed. A message the receiver keeps
failing moves to a dead-letter queue after ``MAX_RETRIES`` retries. The receiver holds one token:
object read on this bucket (its S3 key, for HeadObject) and the account's Queues permissions.
The b2 store uses the same queues and token (:func:`event_queues`, :func:`receiver_token`): the
upload gateway queues B2's webhooks there.

What Cloudflare cannot do, said where it is decided:
- the Queues permission groups take only the account as their resource, so the receiver's token
  can pull from every queue of the account, not only this one (the rule catalogue records it);
- Cloudflare offers no alert on a queue's dead-letter depth or backlog age that a program can
  declare: the receiver's ``--once`` exit code 1 and ``learning-images-reconcile`` are the alarms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from learning_images import r2
from learning_images_infra.naming import Naming, with_digest
from learning_images_infra.r2.access import bucket_policy, token_credentials

#: Retries before a message moves to the dead-letter queue: a database down for a few minutes
#: does not dead-letter anything (each retry waits ``RETRY_DELAY_SECONDS`` first).
MAX_RETRIES = 9
#: Seconds a pulled message stays leased to one receiver while it registers the batch.
VISIBILITY_SECONDS = 120
#: Seconds before a message the receiver released (or let lapse) is offered again.
RETRY_DELAY_SECONDS = 30
#: Cloudflare Queues' longest retention (14 days): events wait for a receiver that is down.
RETENTION_SECONDS = 1_209_600
#: Messages per pull: the receiver's largest batch.
BATCH_SIZE = 10
#: Cloudflare Queue names: at most 63 characters.
_QUEUE_NAME_ROOM = 63


def queue_name(bucket_name: str, role: str) -> str:
    name = f"{bucket_name}-{role}"
    return name if len(name) <= _QUEUE_NAME_ROOM else with_digest(name, _QUEUE_NAME_ROOM, name)


@dataclass(frozen=True)
class EventQueues:
    """A store's event queue, its dead-letter queue, and the HTTP pull consumer the receiver is."""

    queue: cloudflare.Queue
    dead_letter_queue: cloudflare.Queue
    consumer: cloudflare.QueueConsumer


@dataclass(frozen=True)
class Registration:
    queues: EventQueues
    #: The S3 key the receiver reads objects' metadata with (HeadObject).
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    #: The Cloudflare token the receiver pulls and acknowledges with (the Queues API's bearer).
    api_token: pulumi.Input[str]

    def outputs(self, account_id: str, source: str, message_format: str | None) -> dict[str, object]:
        """The store's ``registration`` output (``learning_images.outputs.RegistrationOutputs``)."""
        return {
            "source": source,
            "message_format": message_format,
            "queue_url": self.queues.queue.queue_id.apply(lambda queue: r2.queue_url(account_id, str(queue))),
            "dead_letter_queue_url": self.queues.dead_letter_queue.queue_id.apply(
                lambda queue: r2.queue_url(account_id, str(queue))
            ),
            # The first delivery and its retries.
            "max_receives": MAX_RETRIES + 1,
            "receiver_credentials": pulumi.Output.secret(
                {
                    "access_key_id": self.access_key_id,
                    "secret_access_key": self.secret_access_key,
                    "api_token": self.api_token,
                }
            ),
        }


def event_queues(*, names: Naming, account_id: str, bucket_name: str, child: pulumi.ResourceOptions) -> EventQueues:
    """The queue a store's events wait in for the receiver, its dead-letter queue and its consumer."""

    def new_queue(role: str) -> cloudflare.Queue:
        return cloudflare.Queue(
            names(f"registration-{role}"),
            account_id=account_id,
            queue_name=queue_name(bucket_name, role),
            settings=cloudflare.QueueSettingsArgs(message_retention_period=RETENTION_SECONDS),
            opts=child,
        )

    dead_letter_queue = new_queue("dead-letters")
    queue = new_queue("events")
    consumer = cloudflare.QueueConsumer(
        names("registration-consumer"),
        account_id=account_id,
        queue_id=queue.queue_id,
        type="http_pull",
        dead_letter_queue=dead_letter_queue.queue_name,
        settings=cloudflare.QueueConsumerSettingsArgs(
            batch_size=BATCH_SIZE,
            max_retries=MAX_RETRIES,
            retry_delay=RETRY_DELAY_SECONDS,
            visibility_timeout_ms=VISIBILITY_SECONDS * 1000,
        ),
        opts=child,
    )
    return EventQueues(queue=queue, dead_letter_queue=dead_letter_queue, consumer=consumer)


def receiver_token(
    *,
    names: Naming,
    account_id: str,
    token_name: str,
    queues: EventQueues,
    also: list[cloudflare.AccountTokenPolicyArgs],
    child: pulumi.ResourceOptions,
) -> cloudflare.AccountToken:
    """The receiver's Cloudflare token: pull and acknowledge (the Queues groups take only the
    account as their resource), and ``also`` (R2: HeadObject on the bucket)."""
    return cloudflare.AccountToken(
        names("receiver-token"),
        account_id=account_id,
        name=token_name,
        policies=[
            *also,
            cloudflare.AccountTokenPolicyArgs(
                effect="allow",
                permission_groups=[
                    cloudflare.AccountTokenPolicyPermissionGroupArgs(id=group)
                    for group in r2.QUEUE_PERMISSION_GROUP_IDS
                ],
                resources=json.dumps({r2.account_resource(account_id): "*"}),
            ),
        ],
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[queues.queue])),
    )


def registration(
    *,
    names: Naming,
    account_id: str,
    jurisdiction: str,
    bucket: cloudflare.R2Bucket,
    bucket_name: str,
    token_name: str,
    child: pulumi.ResourceOptions,
) -> Registration:
    """The queues, the bucket's event rule and the receiver's token (its S3 key reads the bucket)."""
    queues = event_queues(names=names, account_id=account_id, bucket_name=bucket_name, child=child)
    # The rule sends to the queue only once the queue has its consumer (and its dead-letter queue):
    # no event waits in a queue nobody may pull.
    cloudflare.R2BucketEventNotification(
        names("learning-images-events"),
        account_id=account_id,
        bucket_name=bucket.name,
        jurisdiction=jurisdiction,
        queue_id=queues.queue.queue_id,
        rules=[
            cloudflare.R2BucketEventNotificationRuleArgs(
                actions=list(r2.EVENT_ACTIONS),
                description="learning-images: every object created or removed, for learning_samples",
            )
        ],
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[queues.consumer])),
    )
    # HeadObject on this bucket only: the receiver reads metadata and never writes.
    read = bucket_policy(
        account_id, jurisdiction, bucket_name, [r2.ITEM_READ], pulumi.InvokeOutputOptions(parent=child.parent)
    )
    token = token_credentials(
        receiver_token(
            names=names, account_id=account_id, token_name=token_name, queues=queues, also=[read], child=child
        )
    )
    return Registration(
        queues=queues,
        access_key_id=token.access_key_id,
        secret_access_key=token.secret_access_key,
        api_token=token.token.value,
    )
