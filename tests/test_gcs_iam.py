"""The gcs store's IAM, evaluated offline: each tier may do exactly its contract operations.

The evaluation (``learning_images.sandbox.gcs_iam``) reads the rendered custom roles and bucket
grants, takes each request's permissions from Cloud Storage's documented table, and evaluates the
grants' IAM Conditions with cel-python. No Google Cloud API is reachable here: that Google decides
the same is what the verifier's probes show on the first live run.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from learning_images import contract
from learning_images.sandbox.gcs_iam import GcsIam
from tests.support.stack import Graph

CITY, COMMAND_CENTRE, TRAINING = "city-amsterdam", "command-centre", "training"
#: What the contract lets each tier do, as XML API requests.
OPERATIONS = ("GetObject", "HeadObject", "ListObjectsV2", "PutObject", "DeleteObject")


def member(graph: Graph, who: str) -> str:
    found: str = graph.named(f"{who}-service-account").outputs["member"]
    return found


def bucket(graph: Graph) -> str:
    name: str = graph.one("gcp:storage/bucket:Bucket").inputs["name"]
    return name


def key() -> str:
    return f"{uuid.uuid4()}.jpg"


@pytest.fixture(scope="module")
def iam(gcs: Graph) -> GcsIam:
    return GcsIam.from_resources(gcs)


def test_cities_and_the_command_centre_may_create_contract_objects(gcs: Graph, iam: GcsIam) -> None:
    for who in (CITY, "city-berlin", f"city-{contract.PROBE_CITY_ID}", COMMAND_CENTRE):
        assert iam.allows(member(gcs, who), "PutObject", bucket(gcs), key()), (
            f"{bucket(gcs)}: {who} may not create a new contract object"
        )


def test_city_tier_cannot_overwrite_a_stored_object(gcs: Graph, iam: GcsIam) -> None:
    """Replacing a live object needs storage.objects.delete too, which no city holds."""
    stored = key()
    assert not iam.allows(member(gcs, CITY), "PutObject", bucket(gcs), stored, replaces=True), (
        f"{bucket(gcs)}: a city may replace a stored object (objects are never overwritten)"
    )


def test_a_city_role_with_delete_would_overwrite(gcs: Graph) -> None:
    """Mutation: the overwrite refusal rests on the city role lacking delete, nothing else."""
    widened = [
        dataclasses.replace(grant, permissions=grant.permissions | {"storage.objects.delete"})
        for grant in GcsIam.from_resources(gcs).grants
    ]
    assert GcsIam(widened).allows(member(gcs, CITY), "PutObject", bucket(gcs), key(), replaces=True)


def test_each_gcs_tier_may_do_exactly_its_contract_operations(gcs: Graph, iam: GcsIam) -> None:
    tiers = {CITY: contract.CITY, TRAINING: contract.TRAINING, COMMAND_CENTRE: contract.COMMAND_CENTRE}
    wrong = []
    for who, tier in tiers.items():
        for operation in OPERATIONS:
            allowed = iam.allows(member(gcs, who), operation, bucket(gcs), key())
            if allowed != contract.may(tier, operation):
                wrong.append(f"{who} {operation}: {'allowed' if allowed else 'refused'}")
    assert not wrong, f"{bucket(gcs)}: tiers differ from the contract: {wrong}"


def test_only_the_command_centre_may_delete(gcs: Graph, iam: GcsIam) -> None:
    deleters = {m for m in iam.members() if iam.allows(m, "DeleteObject", bucket(gcs), key())}
    assert deleters == {member(gcs, COMMAND_CENTRE)}, f"{bucket(gcs)}: deleters {deleters}"


def test_no_tier_may_set_object_retention(gcs: Graph, iam: GcsIam) -> None:
    holders = {m for m in iam.members() if iam.allows(m, "SetObjectRetention", bucket(gcs), key())}
    assert not holders, f"{bucket(gcs)}: may set an object's retention (GDPR erasure must stay possible): {holders}"
    assert not gcs.one("gcp:storage/bucket:Bucket").inputs.get("enableObjectRetention"), (
        f"{bucket(gcs)}: object retention is on"
    )


def test_no_tier_may_change_a_stored_objects_metadata(gcs: Graph, iam: GcsIam) -> None:
    holders = {m for m in iam.members() if iam.allows(m, "UpdateObjectMetadata", bucket(gcs), key())}
    assert not holders, f"{bucket(gcs)}: may rewrite a stored object's labels: {holders}"


def test_no_tier_may_change_the_bucket_or_its_grants(gcs: Graph, iam: GcsIam) -> None:
    holders = {
        m for m in iam.members() for op in ("UpdateBucket", "PutBucketIamPolicy") if iam.allows(m, op, bucket(gcs))
    }
    assert not holders, f"{bucket(gcs)}: a tier may reconfigure the bucket: {holders}"


@pytest.mark.parametrize("name", ["paris/{uuid}.jpg", "{uuid}.png", "{uuid}.jpg.exe"])
def test_city_grant_is_held_to_jpg_names_of_this_bucket(gcs: Graph, iam: GcsIam, name: str) -> None:
    """IAM Conditions hold the suffix; a '/' in a name that ends in .jpg is the uploader's to refuse."""
    shaped = name.format(uuid=uuid.uuid4())
    allowed = iam.allows(member(gcs, CITY), "PutObject", bucket(gcs), shaped)
    assert allowed == shaped.endswith(contract.OBJECT_KEY_SUFFIX), f"{bucket(gcs)}: city upload of {shaped!r}"
    assert not iam.allows(member(gcs, CITY), "PutObject", "another-bucket", key()), "a city reaches another bucket"
