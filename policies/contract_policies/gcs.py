"""The contract on Google Cloud Storage: uniform access, customer keys, soft delete, dual region,
lifecycle and least-privilege custom roles."""

from __future__ import annotations

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .catalogue import (
    ARCHIVE_AFTER_DAYS,
    GCS_CITY_TIER,
    GCS_MIN_SOFT_DELETE_DAYS,
    GCS_RECEIVER_PERMISSIONS,
    GCS_STORAGE_AGENT_DOMAIN,
    GCS_TIER_PERMISSIONS,
    GDPR_ERASURE_DAYS,
)
from .graph import Graph
from .shared import DAY_SECONDS, resource_policy, stack_policy
from .tokens import (
    GCS_BUCKET,
    GCS_CUSTOM_ROLE,
    GCS_GRANTS,
    GCS_KEY,
    GCS_NOTIFICATION,
    PUBSUB_SUBSCRIPTION,
    PUBSUB_TOPIC_GRANT,
)

PUBLISHER = "roles/pubsub.publisher"

#: Cloud Storage's predefined dual-regions (Cloud Storage docs, "Bucket locations").
GCS_DUAL_REGIONS = frozenset({"ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"})


PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})


def gcs_bucket_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    if args.props.get("uniformBucketLevelAccess") is not True:
        report("uniform bucket-level access is off: ACLs could make objects public", args.urn)
    if args.props.get("publicAccessPrevention") != "enforced":
        report("public access prevention is not enforced: a grant to allUsers would publish the bucket", args.urn)


def gcs_no_public_members(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in GCS_GRANTS:
        return
    members = {args.props.get("member"), *(args.props.get("members") or [])}
    if public := sorted(m for m in members if m in PUBLIC_MEMBERS):
        report(f"the bucket is granted to {', '.join(public)}", args.urn)


def gcs_bucket_encrypted_with_customer_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    encryption = args.props.get("encryption") or {}
    if not encryption.get("defaultKmsKeyName"):
        report("the bucket has no customer-managed default key", args.urn)
    for other in ("googleManagedEncryptionEnforcementConfig", "customerSuppliedEncryptionEnforcementConfig"):
        if (encryption.get(other) or {}).get("restrictionMode") != "FullyRestricted":
            report(f"{other} is not FullyRestricted: new objects could use another key", args.urn)


def gcs_bucket_versioned_with_soft_delete(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    if (args.props.get("versioning") or {}).get("enabled") is not True:
        report("the bucket is not versioned: a deletion would be final", args.urn)
    seconds = (args.props.get("softDeletePolicy") or {}).get("retentionDurationSeconds")
    if seconds is None or not GCS_MIN_SOFT_DELETE_DAYS * DAY_SECONDS <= seconds <= GDPR_ERASURE_DAYS * DAY_SECONDS:
        report(
            f"soft delete must keep deletions {GCS_MIN_SOFT_DELETE_DAYS} to {GDPR_ERASURE_DAYS} days (GDPR), "
            f"not {seconds} s",
            args.urn,
        )
    if args.props.get("retentionPolicy"):
        report("a bucket retention policy could hold an image past GDPR erasure (and excludes versioning)", args.urn)


def gcs_bucket_dual_region(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_BUCKET:
        return
    location = str(args.props.get("location") or "").upper()
    placement = (args.props.get("customPlacementConfig") or {}).get("dataLocations") or []
    if location not in GCS_DUAL_REGIONS and len(placement) != 2:
        report(f"{location or 'no location'} is not a dual-region: no second copy for disaster recovery", args.urn)


def gcs_lifecycle_follows_contract(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """What age can say of the contract: archive within a year, remove noncurrent versions, and
    never delete a live object by age (a `changed` image is kept forever)."""
    if args.resource_type != GCS_BUCKET:
        return
    rules = args.props.get("lifecycleRules") or []
    archive = [r for r in rules if (r.get("action") or {}).get("type") == "SetStorageClass"]
    if not any(0 < ((r.get("condition") or {}).get("age") or 0) <= ARCHIVE_AFTER_DAYS for r in archive):
        report(f"no rule archives objects within {ARCHIVE_AFTER_DAYS} days", args.urn)
    for rule in rules:
        condition = rule.get("condition") or {}
        if (rule.get("action") or {}).get("type") == "Delete" and condition.get("withState") != "ARCHIVED":
            report("a Delete rule reaches live objects: it would delete `changed` images", args.urn)
    noncurrent = [r for r in rules if (r.get("condition") or {}).get("daysSinceNoncurrentTime")]
    if not noncurrent:
        report("no rule removes noncurrent versions: erased images would stay", args.urn)


def gcs_kms_keys_rotate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != GCS_KEY:
        return
    period = str(args.props.get("rotationPeriod") or "")
    if not period.endswith("s") or not 0 < float(period[:-1] or 0) <= 365 * DAY_SECONDS:
        report("the key does not rotate at least yearly (rotationPeriod)", args.urn)


def gcs_tier_roles_least_privilege(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every grant on a bucket is of a custom role holding exactly one tier's permissions, and the
    city's (create only) carries an IAM Condition."""
    roles = {
        str(role.props.get("roleId")): frozenset(role.props.get("permissions") or [])
        for role in args.resources
        if role.resource_type == GCS_CUSTOM_ROLE
    }
    for grant in (r for r in args.resources if r.resource_type in GCS_GRANTS):
        role = str(grant.props.get("role") or "")
        if not role.startswith("projects/"):
            report(f"{role} is a predefined role: grant the contract tiers' custom roles only", grant.urn)
            continue
        permissions = roles.get(role.rsplit("/", 1)[-1])
        if permissions == GCS_RECEIVER_PERMISSIONS:
            continue  # the receiver reads metadata: no condition needed, nothing to write
        tiers = [tier for tier, held in GCS_TIER_PERMISSIONS.items() if held == permissions]
        if permissions is None or not tiers:
            report(f"{role} holds {sorted(permissions or [])}, which is no tier's permissions", grant.urn)
        elif tiers == [GCS_CITY_TIER] and not (grant.props.get("condition") or {}).get("expression"):
            report("a city grant carries no IAM Condition holding it to the contract's object names", grant.urn)


def pubsub_event_subscriptions_have_dead_letter_topic(args: StackValidationArgs, report: ReportViolation) -> None:
    """An event the receiver keeps failing must land where a person reads it: a dead-letter topic
    that has a subscription of its own (a topic alone keeps nothing)."""
    graph = Graph(args.resources)
    subscriptions = graph.of(PUBSUB_SUBSCRIPTION)
    for notification in graph.of(GCS_NOTIFICATION):
        topics = Graph.targets(notification, "topic")
        pulled = [s for s in subscriptions if Graph.targets(s, "topic") & topics]
        if not pulled:
            report("the bucket's notifications go to a topic without a subscription", notification.urn)
        for subscription in pulled:
            dead = Graph.targets(subscription, "deadLetterPolicy")
            if not (subscription.props.get("deadLetterPolicy") or {}).get("deadLetterTopic") or not dead:
                report(
                    "the subscription has no dead-letter topic: failing events would be redelivered forever",
                    subscription.urn,
                )
            elif not [s for s in subscriptions if Graph.targets(s, "topic") & dead]:
                report("the dead-letter topic has no subscription: dead letters would be lost", subscription.urn)


def pubsub_event_topic_publishers_scoped(args: StackValidationArgs, report: ReportViolation) -> None:
    """Only Cloud Storage's service agent publishes the bucket's events, and it may (or none arrive)."""
    graph = Graph(args.resources)
    for notification in graph.of(GCS_NOTIFICATION):
        topics = Graph.targets(notification, "topic")
        grants = [g for g in graph.of(PUBSUB_TOPIC_GRANT) if Graph.targets(g, "topic") & topics]
        publishers = [g for g in grants if g.props.get("role") == PUBLISHER]
        others = [
            str(g.props.get("member"))
            for g in publishers
            if not str(g.props.get("member") or "").endswith("@" + GCS_STORAGE_AGENT_DOMAIN)
        ]
        if others:
            report(
                f"the event topic lets {', '.join(others)} publish: only Cloud Storage's agent may", notification.urn
            )
        if len(others) == len(publishers):
            report("Cloud Storage's service agent is not granted publisher on the event topic", notification.urn)


POLICIES: list[Policy] = [
    resource_policy(
        "gcs-bucket-not-public",
        "Cloud Storage buckets use uniform bucket-level access and enforce public access prevention.",
        "Set uniform_bucket_level_access=True and public_access_prevention='enforced'.",
        gcs_bucket_not_public,
    ),
    resource_policy(
        "gcs-no-public-members",
        "No bucket grant names allUsers or allAuthenticatedUsers.",
        "Grant the contract tiers' service accounts only.",
        gcs_no_public_members,
    ),
    resource_policy(
        "gcs-bucket-encrypted-with-customer-key",
        "Cloud Storage buckets default to a customer-managed key and refuse Google-managed and customer-supplied keys.",
        "Set encryption.default_kms_key_name and both other enforcement configs to FullyRestricted.",
        gcs_bucket_encrypted_with_customer_key,
    ),
    resource_policy(
        "gcs-bucket-versioned-with-soft-delete",
        f"Cloud Storage buckets are versioned, soft-delete for {GCS_MIN_SOFT_DELETE_DAYS} to {GDPR_ERASURE_DAYS} "
        "days, and carry no retention policy.",
        f"Enable versioning, set soft_delete_policy between {GCS_MIN_SOFT_DELETE_DAYS} and {GDPR_ERASURE_DAYS} "
        "days, remove retention_policy.",
        gcs_bucket_versioned_with_soft_delete,
    ),
    resource_policy(
        "gcs-bucket-dual-region",
        "Cloud Storage buckets are dual-region (their disaster-recovery copy).",
        "Set location to a dual-region such as EUR4 or NAM4 (learning-images:gcsLocation).",
        gcs_bucket_dual_region,
    ),
    resource_policy(
        "gcs-lifecycle-follows-contract",
        "Cloud Storage lifecycle archives within a year, removes noncurrent versions, and never deletes live objects.",
        "Archive by age, delete only noncurrent versions by age: label expiry is the retention job's on GCS.",
        gcs_lifecycle_follows_contract,
    ),
    resource_policy(
        "gcs-kms-keys-rotate",
        "Every Cloud KMS key rotates at least yearly.",
        "Set rotation_period on the CryptoKey (the store uses 90 days).",
        gcs_kms_keys_rotate,
    ),
    stack_policy(
        "gcs-tier-roles-least-privilege",
        "Bucket grants are custom roles holding exactly one tier's permissions; city grants carry a condition.",
        "Grant each tier's service account its custom role (learning_images_infra.gcs.access), "
        "cities with their condition.",
        gcs_tier_roles_least_privilege,
    ),
    stack_policy(
        "pubsub-event-subscriptions-have-dead-letter-topic",
        "Every subscription to a bucket's notification topic has a dead-letter topic with a subscription of its own.",
        "Give the subscription a dead_letter_policy and subscribe to its topic "
        "(learning_images_infra.gcs.registration).",
        pubsub_event_subscriptions_have_dead_letter_topic,
    ),
    stack_policy(
        "pubsub-event-topic-publishers-scoped",
        "Only Cloud Storage's service agent may publish to a bucket's notification topic, and it may.",
        "Grant roles/pubsub.publisher on the topic to the storage agent alone "
        "(learning_images_infra.gcs.registration).",
        pubsub_event_topic_publishers_scoped,
    ),
]
