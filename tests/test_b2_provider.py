"""The B2 dynamic provider (``learning_images_infra.b2.provider``) against b2sdk's own API
simulator: what the engine would create, read back, update and delete, and what B2 then refuses.

The simulator is Backblaze's (``b2sdk.v2.RawSimulator``): it checks each call's capability, the
key's bucket and name prefix as B2 does; nothing here is this project's double.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from b2sdk.v2 import B2Api, B2HttpApiConfig, InMemoryAccountInfo, RawSimulator
from b2sdk.v2.exception import Unauthorized

from learning_images_infra.b2.provider import ApplicationKeyProvider, BucketProvider, NotificationRulesProvider

BUCKET = {
    "bucket_name": "learning-images-test",
    "lock_mode": "compliance",
    "lock_days": 7.0,  # the engine hands numbers over as floats
    "lifecycle_rules": [{"fileNamePrefix": "", "daysFromHidingToDeleting": 30.0}],
}


@pytest.fixture
def b2() -> B2Api:
    """An account in a fresh simulator, authorised with its master key (the deploy's key)."""
    api = B2Api(InMemoryAccountInfo(), api_config=B2HttpApiConfig(_raw_api_class=RawSimulator))
    account_id, master_key = api.session.raw_api.create_account()
    api.authorize_account("production", account_id, master_key)
    return api


def as_key(b2: B2Api, key_id: str, key: str) -> B2Api:
    """Another client of the same simulated B2, authorised with an application key."""
    other = B2Api(InMemoryAccountInfo(), api_config=B2HttpApiConfig(_raw_api_class=RawSimulator))
    other.session.raw_api = b2.session.raw_api
    other.authorize_account("production", key_id, key)
    return other


def created(b2: B2Api, **changes: Any) -> tuple[BucketProvider, str, dict[str, Any]]:
    provider = BucketProvider(lambda: b2)
    props = {**BUCKET, **changes}
    assert provider.check({}, props).failures == [], "the test's own bucket is valid"
    result = provider.create(props)
    assert result.id is not None and result.outs is not None
    return provider, result.id, result.outs


def test_a_bucket_is_created_private_locked_and_encrypted_as_b2_reads_it_back(b2: B2Api) -> None:
    _, bucket_id, outs = created(b2)
    found = b2.get_bucket_by_id(bucket_id).get_fresh_state()
    assert found.type_ == "allPrivate", f"bucket {bucket_id}: no public access (allPrivate)"
    assert found.is_file_lock_enabled, f"bucket {bucket_id}: Object Lock is on from creation (immutable objects)"
    assert found.default_retention.mode.value == "compliance" and found.default_retention.period.duration == 7, (
        f"bucket {bucket_id}: default retention is the stack's lock"
    )
    assert found.default_server_side_encryption.mode.value == "SSE-B2", f"bucket {bucket_id}: encrypted at rest"
    assert outs["lifecycle_rules"] == [
        {"fileNamePrefix": "", "daysFromUploadingToHiding": None, "daysFromHidingToDeleting": 30}
    ], f"bucket {bucket_id}: hidden versions go after the stack's days"
    assert outs["file_lock_enabled"] and outs["default_encryption"] == "SSE-B2", "outputs are what B2 answered"


def test_a_rule_or_lock_changed_outside_the_program_shows_as_drift_and_an_update_puts_it_back(b2: B2Api) -> None:
    provider, bucket_id, outs = created(b2)
    b2.get_bucket_by_id(bucket_id).update(lifecycle_rules=[{"fileNamePrefix": "", "daysFromHidingToDeleting": 900}])
    refreshed = provider.read(bucket_id, dict(outs)).outs
    assert refreshed is not None and refreshed["lifecycle_rules"][0]["daysFromHidingToDeleting"] == 900, (
        f"bucket {bucket_id}: refresh reads what B2 holds, so a console change is drift"
    )
    diff = provider.diff(bucket_id, refreshed, dict(BUCKET))
    assert diff.changes and not diff.replaces, f"bucket {bucket_id}: a rule change is an update in place"
    updated = provider.update(bucket_id, refreshed, dict(BUCKET)).outs
    assert updated is not None and updated["lifecycle_rules"][0]["daysFromHidingToDeleting"] == 30, (
        f"bucket {bucket_id}: the update puts the stack's lifecycle back"
    )


def test_a_new_bucket_name_replaces_the_bucket_deleting_the_old_first(b2: B2Api) -> None:
    provider, bucket_id, outs = created(b2)
    diff = provider.diff(bucket_id, outs, {**BUCKET, "bucket_name": "learning-images-other"})
    assert diff.replaces == ["bucket_name"] and diff.delete_before_replace, (
        f"bucket {bucket_id}: B2's names are global, so a rename is delete, then create"
    )
    assert not provider.diff(bucket_id, outs, dict(BUCKET)).changes, "float days from the engine are no change"


def test_bad_bucket_settings_are_refused_all_at_once_each_named(b2: B2Api) -> None:
    bad = {
        "bucket_name": "b2-x",
        "lock_mode": "forever",
        "lock_days": 0,
        "lifecycle_rules": [{"fileNamePrefix": "", "keepDays": 3}],
    }
    failures = {f.property: f.reason for f in BucketProvider(lambda: b2).check({}, bad).failures}
    assert set(failures) == {"bucket_name", "lock_mode", "lock_days", "lifecycle_rules[0]"}, failures
    assert "governance, compliance" in failures["lock_mode"], "the message names the allowed values"


def test_a_bucket_gone_from_b2_is_dropped_from_state_on_refresh(b2: B2Api) -> None:
    provider, bucket_id, outs = created(b2)
    provider.delete(bucket_id, outs)
    assert provider.read(bucket_id, outs).id is None, f"bucket {bucket_id}: deleted outside, refresh drops it"


def test_a_city_key_is_scoped_to_the_learning_bucket_with_writefiles_only(b2: B2Api) -> None:
    _, bucket_id, _ = created(b2)
    keys = ApplicationKeyProvider(lambda: b2)
    props = {"key_name": "city-nyc", "capabilities": ["writeFiles"], "bucket_id": bucket_id, "name_prefix": None}
    assert keys.check({}, props).failures == []
    made = keys.create(props)
    assert made.id is not None and made.outs is not None
    held = b2.get_key(made.id)
    assert held is not None and sorted(held.capabilities) == ["writeFiles"], f"key {made.id}: writeFiles only"
    assert held.bucket_id == bucket_id, f"key {made.id}: scoped to the learning bucket, as B2 holds it"
    assert made.outs["application_key"], "the secret is an output (a Pulumi secret: additional_secret_outputs)"


def test_writefiles_uploads_and_hides_but_neither_lists_nor_deletes_a_version(b2: B2Api) -> None:
    """What B2's writeFiles allows, the evidence behind the b2 column: uploads, and b2_hide_file
    too (S3's DeleteObject by name), so no upload-only key exists on B2; hiding keeps the version.
    The key here is account-wide: b2sdk's simulator checks a bucket-scoped key's upload without the
    bucket id (RawSimulator.get_upload_url), so it refuses the upload B2 accepts. The simulator does
    not apply a bucket's default retention to an upload, so that the lock then refuses deleting the
    version is B2's documentation's (Object Lock) and a live run's to prove, not this test's."""
    _, bucket_id, _ = created(b2)
    made = b2.create_key(["writeFiles"], "city-nyc")
    city = as_key(b2, made.id_, made.application_key)
    bucket = city.BUCKET_CLASS(city, bucket_id, name=BUCKET["bucket_name"])
    stored = bucket.upload_bytes(b"\xff\xd8\xff", "a.jpg", file_info={"city_id": "nyc"})
    assert stored.file_info == {"city_id": "nyc"}, "a city uploads with its metadata"
    with pytest.raises(Unauthorized):
        list(bucket.ls())  # listFiles
    with pytest.raises(Unauthorized):
        city.delete_file_version(stored.id_, stored.file_name)  # deleteFiles
    bucket.hide_file("a.jpg")  # the gap, stated in the capability matrix
    versions = [v.id_ for v, _ in b2.get_bucket_by_id(bucket_id).ls(latest_only=False, recursive=True)]
    assert stored.id_ in versions, f"bucket {bucket_id}: the hidden version is still stored"


def test_any_change_to_a_key_is_a_new_key_created_before_the_old_goes(b2: B2Api) -> None:
    _, bucket_id, _ = created(b2)
    keys = ApplicationKeyProvider(lambda: b2)
    props = {"key_name": "training", "capabilities": ["readFiles", "listFiles"], "bucket_id": bucket_id}
    made = keys.create(props)
    assert made.outs is not None
    assert not keys.diff(made.id, made.outs, {**props, "capabilities": ["listFiles", "readFiles"]}).changes
    diff = keys.diff(made.id, made.outs, {**props, "capabilities": ["readFiles", "listFiles", "writeFiles"]})
    assert diff.replaces == ["capabilities"] and not diff.delete_before_replace, (
        f"key {made.id}: B2 cannot change a key; the new one is made first"
    )
    refreshed = keys.read(made.id, made.outs)
    assert refreshed.outs is not None and refreshed.outs["application_key"] == made.outs["application_key"], (
        "refresh keeps the secret B2 shows only at creation"
    )
    keys.delete(made.id, made.outs)
    assert keys.read(made.id, made.outs).id is None, f"key {made.id}: deleted"


def test_bad_key_settings_are_refused_all_at_once_each_named(b2: B2Api) -> None:
    bad = {"key_name": "city nyc!", "capabilities": ["writeFiles", "uploadOnly"], "bucket_id": ""}
    failures = {f.property: f.reason for f in ApplicationKeyProvider(lambda: b2).check({}, bad).failures}
    assert set(failures) == {"key_name", "capabilities", "bucket_id"}, failures
    assert "uploadOnly" in failures["capabilities"] and "writeFiles" in failures["capabilities"]


def test_the_provider_the_engine_keeps_in_state_holds_no_credential(b2: B2Api) -> None:
    """The engine pickles a dynamic provider into the stack's state: a program's holds no client."""
    from pulumi.dynamic.dynamic import serialize_provider  # noqa: PLC0415

    for provider in (BucketProvider(), ApplicationKeyProvider(), NotificationRulesProvider()):
        state = base64.b64decode(serialize_provider(provider))
        key_id = b2.account_info.get_application_key_id().encode()
        assert key_id not in state and b"B2Api" not in state, f"{type(provider).__name__}: no credential in state"


# --- event notification rules ------------------------------------------------------------------

SECRET = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
RULE: dict[str, Any] = {
    "name": "learning-images-registration",
    "eventTypes": ["b2:ObjectCreated:*", "b2:ObjectDeleted:*", "b2:HideMarkerCreated:*"],
    "isEnabled": True,
    "objectNamePrefix": "",
    "targetConfiguration": {
        "targetType": "webhook",
        "url": "https://gateway.example.com/_events",
        "hmacSha256SigningSecret": SECRET,
    },
}


def with_rules(b2: B2Api, *rules: dict[str, Any]) -> tuple[NotificationRulesProvider, str, dict[str, Any]]:
    _, bucket_id, _ = created(b2)
    provider = NotificationRulesProvider(lambda: b2)
    props = {"bucket_id": bucket_id, "rules": list(rules)}
    assert provider.check({}, props).failures == [], "the test's own rules are valid"
    result = provider.create(props)
    assert result.outs is not None
    return provider, bucket_id, result.outs


def test_the_notification_rule_b2_holds_is_the_one_declared_signed_to_the_gateway(b2: B2Api) -> None:
    _, bucket_id, outs = with_rules(b2, RULE)
    (held,) = b2.get_bucket_by_id(bucket_id).get_notification_rules()
    assert held["targetConfiguration"]["url"] == RULE["targetConfiguration"]["url"], (
        f"bucket {bucket_id}: its events go to the gateway's webhook"
    )
    assert held["targetConfiguration"]["hmacSha256SigningSecret"] == SECRET, f"bucket {bucket_id}: deliveries signed"
    assert sorted(held["eventTypes"]) == sorted(RULE["eventTypes"]) and held["isEnabled"], (
        f"bucket {bucket_id}: every creation, deletion and hide is notified"
    )
    assert outs["suspended"] == {}, "outputs are what B2 answered"


def test_a_suspended_or_changed_rule_shows_as_drift_and_an_update_puts_it_back(b2: B2Api) -> None:
    provider, bucket_id, outs = with_rules(b2, RULE)
    bucket = b2.get_bucket_by_id(bucket_id)
    bucket.set_notification_rules([{**RULE, "eventTypes": ["b2:ObjectCreated:*"]}])
    b2.session.raw_api.bucket_id_to_bucket[bucket_id].simulate_notification_rule_suspension(
        RULE["name"], "webhook kept failing"
    )
    refreshed = provider.read(bucket_id, dict(outs)).outs
    assert refreshed is not None and refreshed["suspended"] == {RULE["name"]: "webhook kept failing"}, (
        f"bucket {bucket_id}: refresh shows B2 suspended the rule"
    )
    declared = {"bucket_id": bucket_id, "rules": [RULE]}
    diff = provider.diff(bucket_id, refreshed, declared)
    assert diff.changes and not diff.replaces, f"bucket {bucket_id}: a rule changed in the console is an update"
    provider.update(bucket_id, refreshed, declared)
    (held,) = bucket.get_notification_rules()
    assert sorted(held["eventTypes"]) == sorted(RULE["eventTypes"]), f"bucket {bucket_id}: the update puts it back"


def test_deleting_the_rules_leaves_the_bucket_notifying_nothing(b2: B2Api) -> None:
    provider, bucket_id, _ = with_rules(b2, RULE)
    provider.delete(bucket_id, {})
    assert b2.get_bucket_by_id(bucket_id).get_notification_rules() == [], f"bucket {bucket_id}: no rule left"


def test_bad_notification_rules_are_refused_all_at_once_each_named(b2: B2Api) -> None:
    bad = {
        "name": "b2-reserved",
        "eventTypes": ["b2:ObjectDownloaded:*"],
        "targetConfiguration": {
            "targetType": "webhook",
            "url": "http://gateway.example.com/_events",
            "hmacSha256SigningSecret": "short",
        },
    }
    failures = NotificationRulesProvider(lambda: b2).check({}, {"bucket_id": "", "rules": [bad]}).failures
    named = {f.property for f in failures}
    assert named == {
        "bucket_id",
        "rules[0].name",
        "rules[0].eventTypes",
        "rules[0].targetConfiguration.url",
        "rules[0].targetConfiguration.hmacSha256SigningSecret",
    }, named


def test_a_key_without_writebucketnotifications_cannot_set_the_rules(b2: B2Api) -> None:
    """The deploy's key needs the capability (provider's docstring); B2 refuses a key without it."""
    _, bucket_id, _ = created(b2)
    limited = b2.create_key(["readBuckets", "writeBuckets"], "deploy-without-notifications")
    other = as_key(b2, limited.id_, limited.application_key)
    with pytest.raises(Unauthorized):
        NotificationRulesProvider(lambda: other).create({"bucket_id": bucket_id, "rules": [RULE]})
