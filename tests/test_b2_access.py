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


def test_in_b2s_simulator_a_stored_files_labels_cannot_be_changed_only_copied_to_a_new_version() -> None:
    """Labels are immutable on B2: its API has no call that changes a stored file's info, and a copy
    with new info is a new version, which leaves the original's label as it was."""
    api = B2Api(InMemoryAccountInfo(), api_config=B2HttpApiConfig(_raw_api_class=RawSimulator))
    account_id, master_key = api.session.raw_api.create_account()
    api.authorize_account("production", account_id, master_key)
    bucket = api.create_bucket("learning-images-test", "allPrivate")
    name = "0f8fad5b-d9cb-469f-a165-70867728950e.jpg"
    first = bucket.upload_bytes(b"\xff\xd8\xff", name, file_info={contract.LABEL_STATUS: "correct"})
    # Every call of B2's API that changes a stored file (b2sdk's raw API mirrors B2's): its lock only.
    changers = {m for m in dir(api.session.raw_api) if m.startswith(("update_file", "set_file"))}
    assert changers == {"update_file_retention", "update_file_legal_hold"}, (
        f"B2's API offers a way to change a stored file's info: {sorted(changers)}"
    )
    copied = bucket.copy(first.id_, name, file_info={contract.LABEL_STATUS: "changed"}, content_type="image/jpeg")
    versions = {v.id_: v.file_info.get(contract.LABEL_STATUS) for v, _ in bucket.ls(latest_only=False)}
    assert copied.id_ != first.id_ and versions[first.id_] == "correct", (
        f"a copy with a new label must be a new version beside the original: {versions}"
    )
