"""B2's side of the tiers (``learning_images.b2``): each tier's application-key capabilities,
derived from the contract's tiers, and what B2's own simulator then lets each key do."""

from __future__ import annotations

import dataclasses

import pytest
from b2sdk.v2 import B2Api, B2HttpApiConfig, InMemoryAccountInfo, RawSimulator
from b2sdk.v2.exception import B2Error

from learning_images import b2, contract


def test_the_city_key_holds_writefiles_and_nothing_else() -> None:
    assert b2.capabilities(contract.CITY) == ("writeFiles",), "city tier: upload, no read, list or delete"


def test_the_training_key_reads_and_lists_and_nothing_else() -> None:
    assert b2.capabilities(contract.TRAINING) == ("listFiles", "readFiles"), "training tier: read-only"


def test_the_command_centre_key_can_erase_a_version_inside_a_governance_lock() -> None:
    held = set(b2.capabilities(contract.COMMAND_CENTRE))
    assert {"deleteFiles", "bypassGovernance"} <= held, "GDPR erasure deletes versions, lock or not"
    assert {"writeKeys", "writeBuckets", "writeBucketRetentions"}.isdisjoint(held), (
        "the Command Centre's key administers neither keys nor the bucket"
    )


def test_every_capability_a_tier_gets_is_one_b2_knows() -> None:
    for tier in contract.TIERS:
        unknown = set(b2.capabilities(tier)) - b2.CAPABILITIES
        assert not unknown, f"tier {tier.name}: {sorted(unknown)} are not b2_create_key capabilities"


def test_a_tier_action_with_no_known_capability_is_refused_named() -> None:
    actions = (*contract.TRAINING.object_actions, "s3:PutObjectAcl")
    widened = dataclasses.replace(contract.TRAINING, object_actions=actions)
    with pytest.raises(ValueError, match=r"tier training: .*'s3:PutObjectAcl'"):
        b2.capabilities(widened)


def test_in_b2s_simulator_the_training_key_lists_and_reads_and_cannot_upload() -> None:
    api = B2Api(InMemoryAccountInfo(), api_config=B2HttpApiConfig(_raw_api_class=RawSimulator))
    account_id, master_key = api.session.raw_api.create_account()
    api.authorize_account("production", account_id, master_key)
    bucket = api.create_bucket("learning-images-test", "allPrivate")
    bucket.upload_bytes(b"\xff\xd8\xff", "a.jpg")
    # Account-wide: b2sdk's simulator refuses a bucket-scoped key's calls that omit the bucket id.
    key = api.create_key(list(b2.capabilities(contract.TRAINING)), "training")
    training = B2Api(InMemoryAccountInfo(), api_config=B2HttpApiConfig(_raw_api_class=RawSimulator))
    training.session.raw_api = api.session.raw_api
    training.authorize_account("production", key.id_, key.application_key)
    seen = training.BUCKET_CLASS(training, bucket.id_, name=bucket.name)
    assert [v.file_name for v, _ in seen.ls()] == ["a.jpg"], "training lists the bucket"
    # b2sdk retries an upload, then reports every refusal: each one "unauthorized".
    with pytest.raises(B2Error, match="unauthorized"):
        seen.upload_bytes(b"\xff\xd8\xff", "b.jpg")  # writeFiles: not the training tier's
