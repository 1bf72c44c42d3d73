"""The stack's resources as stack policies read them: which configuration resource belongs to which
bucket, through ``property_dependencies`` (a bucket's name is unknown in a first preview)."""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
)

from .catalogue import WRITE_EXCEPT_REPLICATION_SID
from .shared import policy_document
from .tokens import BUCKET, BUCKET_POLICY, LOGGING, R2_QUEUE_CONSUMER, REPLICATION


class Graph:
    """The stack's resources, and which configuration resource belongs to which bucket."""

    def __init__(self, resources: Iterable[PolicyResource]):
        self.resources = list(resources)

    def of(self, *types: str) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type in types]

    @staticmethod
    def targets(resource: PolicyResource, prop: str) -> set[str]:
        return {d.urn for d in resource.property_dependencies.get(prop, [])}

    def attached(self, bucket: PolicyResource, type_: str, prop: str = "bucket") -> list[PolicyResource]:
        return [r for r in self.of(type_) if bucket.urn in self.targets(r, prop)]

    def consumed_with_dead_letters(
        self, queues: set[str], without_consumer: str, at: str, report: ReportViolation
    ) -> None:
        """Cloudflare Queues: the ``queues`` are pulled by a consumer (else ``without_consumer``,
        reported at ``at``) with a dead-letter queue: an event the receiver keeps failing must land
        where a person reads it, not vanish after its retries."""
        pulled = [c for c in self.of(R2_QUEUE_CONSUMER) if self.targets(c, "queueId") & queues]
        if not pulled:
            report(without_consumer, at)
        for consumer in pulled:
            if not consumer.props.get("deadLetterQueue"):
                report("the queue's consumer has no dead-letter queue: failing events would be dropped", consumer.urn)

    def log_buckets(self) -> set[str]:
        return {urn for logging in self.of(LOGGING) for urn in self.targets(logging, "targetBucket")}

    def replica_buckets(self) -> set[str]:
        """Replication destinations, and buckets whose policy lets only replication write."""
        destinations = {urn for replication in self.of(REPLICATION) for urn in self.targets(replication, "rules")}
        write_only_by_replication = {
            urn
            for policy in self.of(BUCKET_POLICY)
            if any(
                s.get("Sid") == WRITE_EXCEPT_REPLICATION_SID
                for s in policy_document(policy.props["policy"]).get("Statement", [])
            )
            for urn in self.targets(policy, "bucket")
        }
        return destinations | write_only_by_replication

    def image_buckets(self) -> list[PolicyResource]:
        logs = self.log_buckets()
        return [b for b in self.of(BUCKET) if b.urn not in logs]

    def learning_buckets(self) -> list[PolicyResource]:
        replicas = self.replica_buckets()
        return [b for b in self.image_buckets() if b.urn not in replicas]
