"""An offline evaluation of the gcs store's IAM, independent of the program that declares it.

It reads what a render registered (the custom roles' permissions and the bucket's grants, with
their IAM Conditions) and answers whether a member may make a request. A request's permissions
come from :mod:`learning_images.gcs` (Cloud Storage's documented table, including that replacing a
live object also needs ``storage.objects.delete``), and each condition is evaluated as CEL by
``cel-python``, not by anything this project wrote. What it cannot show: how Google evaluates the
same documents (a live run's verifier probes that), project-level grants outside the store, and
deny policies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import celpy
from celpy.adapter import json_to_cel

from learning_images import gcs

CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
SERVICE = "storage.googleapis.com"


@dataclass(frozen=True)
class Grant:
    role: str
    permissions: frozenset[str]
    member: str
    bucket: str
    condition: str | None


class GcsIam:
    """The bucket's grants, as the render declared them."""

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants = list(grants)
        self._cel = celpy.Environment()

    @classmethod
    def from_resources(cls, resources: Iterable[Any]) -> GcsIam:
        """From rendered resources (anything with ``type`` and ``inputs``)."""
        listed = list(resources)
        roles = {}
        for role in (r for r in listed if r.type == CUSTOM_ROLE):
            name = f"projects/{role.inputs['project']}/roles/{role.inputs['roleId']}"
            roles[name] = frozenset(role.inputs["permissions"])
        grants = []
        for member in (r for r in listed if r.type == BUCKET_MEMBER):
            condition = (member.inputs.get("condition") or {}).get("expression")
            grants.append(
                Grant(
                    role=member.inputs["role"],
                    # A predefined role this evaluation has no table for grants nothing it can show.
                    permissions=roles.get(member.inputs["role"], frozenset()),
                    member=member.inputs["member"],
                    bucket=member.inputs["bucket"],
                    condition=condition,
                )
            )
        return cls(grants)

    def members(self) -> set[str]:
        return {grant.member for grant in self.grants}

    def _holds(self, condition: str | None, resource: dict[str, str]) -> bool:
        if condition is None:
            return True
        program = self._cel.program(self._cel.compile(condition))
        return bool(program.evaluate({"resource": json_to_cel(resource)}))

    def permitted(self, member: str, permission: str, bucket: str, key: str | None = None) -> bool:
        """Whether ``member`` holds ``permission`` on the bucket or, for an object permission, on
        its object ``key``."""
        if gcs.on_bucket(permission):
            resource = {"name": f"projects/_/buckets/{bucket}", "type": f"{SERVICE}/Bucket", "service": SERVICE}
        elif key is not None:
            resource = {"name": gcs.object_resource(bucket, key), "type": f"{SERVICE}/Object", "service": SERVICE}
        else:
            raise ValueError(f"{permission} is checked on an object: name its key")
        return any(
            grant.member == member
            and grant.bucket == bucket
            and permission in grant.permissions
            and self._holds(grant.condition, resource)
            for grant in self.grants
        )

    def allows(
        self, member: str, operation: str, bucket: str, key: str | None = None, *, replaces: bool = False
    ) -> bool:
        """Whether ``member`` may make the XML API request ``operation`` (on ``key``; ``replaces``: a
        live object of that name exists)."""
        needed = gcs.required_permissions(operation, replaces=replaces)
        return all(self.permitted(member, permission, bucket, key) for permission in needed)
