"""The contract on Backblaze B2, whose bucket and keys are the project's dynamic resources (one type,
``pulumi-python:dynamic:Resource``, told apart by their props): a governance lock the Command Centre
may bypass for GDPR, a lifecycle that never hides a live file, and keys that hold exactly one tier's
capabilities on the store's bucket (or the receiver's), and, where the stack registers, a
notification rule that sends every event, signed, to the upload gateway, which queues it for a
consumer with a dead-letter queue."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .catalogue import (
    B2_EVENT_TYPES,
    B2_NOTIFICATION_RULE_NAME,
    B2_RECEIVER_CAPABILITIES,
    B2_TIER_CAPABILITIES,
    GATEWAY_EVENTS_BINDINGS,
    GATEWAY_EVENTS_PATH,
    GDPR_ERASURE_DAYS,
)
from .graph import Graph
from .shared import resource_policy, stack_policy
from .tokens import DYNAMIC, R2_QUEUE, WORKERS_SCRIPT


def _bucket(args: ResourceValidationArgs) -> bool:
    return args.resource_type == DYNAMIC and "lock_mode" in args.props


def _key(args: ResourceValidationArgs) -> bool:
    return args.resource_type == DYNAMIC and "key_name" in args.props


def _notifications(resource_type: str, props: Any) -> bool:
    return resource_type == DYNAMIC and "rules" in props and "bucket_id" in props


def b2_bucket_locked(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _bucket(args):
        return
    if args.props.get("lock_mode") != "governance":
        report(
            f"the bucket's default retention is {args.props.get('lock_mode')!r}: only governance lets the Command "
            "Centre erase (GDPR)",
            args.urn,
        )
    days: Any = args.props.get("lock_days")
    if not isinstance(days, int | float) or days < 1:
        report(f"the bucket's default retention lasts {days!r} days: at least one", args.urn)


def b2_lifecycle_follows_contract(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _bucket(args):
        return
    rules = args.props.get("lifecycle_rules") or []
    if any(r.get("daysFromUploadingToHiding") for r in rules):
        report("a lifecycle rule hides live files by age: B2 cannot read labels, and `changed` is kept", args.urn)
    hidden = [int(r.get("daysFromHidingToDeleting") or 0) for r in rules]
    if not any(0 < days <= GDPR_ERASURE_DAYS for days in hidden):
        report(f"hidden versions must be deleted within {GDPR_ERASURE_DAYS} days (GDPR erasure)", args.urn)


def b2_keys_bucket_scoped(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _key(args):
        return
    if not args.props.get("bucket_id"):
        report("the key is not scoped to a bucket: it reaches the whole account", args.urn)
    held = frozenset(args.props.get("capabilities") or [])
    if held not in B2_TIER_CAPABILITIES.values() and held != B2_RECEIVER_CAPABILITIES:
        report(
            f"the key's capabilities {sorted(held)} are no tier's ({B2_TIER_CAPABILITIES}) nor the receiver's "
            f"({sorted(B2_RECEIVER_CAPABILITIES)})",
            args.urn,
        )


def b2_events_reach_the_gateway(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _notifications(args.resource_type, args.props):
        return
    rule = next((r for r in args.props["rules"] or [] if r.get("name") == B2_NOTIFICATION_RULE_NAME), None)
    if rule is None:
        report(f"no rule {B2_NOTIFICATION_RULE_NAME!r}: the receiver would hear of no object", args.urn)
        return
    if missing := sorted(B2_EVENT_TYPES - set(rule.get("eventTypes") or [])):
        report(f"the receiver would miss objects: the rule lacks {missing}", args.urn)
    if not rule.get("isEnabled"):
        report("the rule is disabled: no event reaches the receiver", args.urn)
    if rule.get("objectNamePrefix"):
        report(f"the prefix {rule['objectNamePrefix']!r} would keep objects from the receiver", args.urn)
    target = rule.get("targetConfiguration") or {}
    url = str(target.get("url") or "")
    if not (url.startswith("https://") and url.endswith(GATEWAY_EVENTS_PATH)):
        report(f"the rule posts to {url!r}, not the upload gateway's {GATEWAY_EVENTS_PATH}", args.urn)
    if not target.get("hmacSha256SigningSecret"):
        report("the rule's deliveries are unsigned: the gateway would queue anyone's forged events", args.urn)


def b2_gateway_queues_events_for_a_consumer(args: StackValidationArgs, report: ReportViolation) -> None:
    """Where a bucket notifies the gateway, the Worker binds the queue and the signing secret, and
    that queue has a pull consumer with a dead-letter queue: no delivery is taken and then lost."""
    graph = Graph(args.resources)
    if not any(_notifications(r.resource_type, r.props) for r in graph.resources):
        return
    queue_binding, secret_binding = GATEWAY_EVENTS_BINDINGS
    queues = {q.urn: q for q in graph.of(R2_QUEUE)}
    for script in graph.of(WORKERS_SCRIPT):
        bindings = {b.get("name"): b for b in script.props.get("bindings") or []}
        if queue_binding not in bindings or secret_binding not in bindings:
            report(
                f"the gateway lacks its {queue_binding} and {secret_binding} bindings: B2's events are refused",
                script.urn,
            )
            continue
        bound = {urn for urn in Graph.targets(script, "bindings") if urn in queues}
        graph.consumed_with_dead_letters(
            bound, "the gateway queues events on a queue without a consumer", script.urn, report
        )


POLICIES: list[Policy] = [
    resource_policy(
        "b2-bucket-locked",
        "The B2 bucket has a governance default retention of at least a day.",
        "Declare the B2Bucket with lock_mode='governance' and lock_days >= 1.",
        b2_bucket_locked,
    ),
    resource_policy(
        "b2-lifecycle-follows-contract",
        "A B2 bucket's lifecycle hides no live file and deletes hidden versions within GDPR's month.",
        "Build the lifecycle rules with learning_images_infra.b2.store.lifecycle_rules.",
        b2_lifecycle_follows_contract,
    ),
    resource_policy(
        "b2-keys-bucket-scoped",
        "Every B2 application key is scoped to a bucket and holds exactly one tier's capabilities.",
        "Create keys with learning_images.b2.capabilities(tier) and the store bucket's id.",
        b2_keys_bucket_scoped,
    ),
    resource_policy(
        "b2-events-reach-the-gateway",
        "A B2 bucket's notification rule sends every object created, deleted or hidden, unfiltered and signed, to "
        "the upload gateway's webhook.",
        "Build the rule with learning_images_infra.b2.store.notification_rule and the gateway's URL.",
        b2_events_reach_the_gateway,
    ),
    stack_policy(
        "b2-gateway-queues-events-for-a-consumer",
        "Where a B2 bucket notifies the gateway, the Worker binds the events queue and the signing secret, and the "
        "queue has a pull consumer with a dead-letter queue.",
        "Pass StoreEvents to the gateway and build the queues with learning_images_infra.r2.registration.event_queues.",
        b2_gateway_queues_events_for_a_consumer,
    ),
]
