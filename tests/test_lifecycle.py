"""Metadata-driven lifecycle: each contract period as a rule scoped by a positive tag."""

from __future__ import annotations

from typing import Any

import pytest

from learning_images import contract
from tests.support.stack import Graph, for_bucket, render

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def rules(graph: Graph, bucket: str = "learning-images") -> dict[str, dict[str, Any]]:
    (config,) = for_bucket(graph, LIFECYCLE, bucket)
    return {rule["id"]: rule for rule in config["rules"]}


def test_correct_objects_are_archived_then_expired_at_retention(full: Graph) -> None:
    rule = rules(full)["archive-then-expire-correct"]
    assert rule["filter"] == {"tag": {"key": "label_status", "value": "correct"}}
    assert rule["transitions"] == [{"days": 365, "storageClass": "GLACIER_IR"}], "archive after one year"
    assert rule["expiration"] == {"days": 730}, "correct objects expire at the retention period"


def test_changed_objects_are_archived_and_never_expire(full: Graph) -> None:
    rule = rules(full)["archive-and-keep-changed"]
    assert rule["filter"] == {"tag": {"key": "label_status", "value": "changed"}}
    assert rule["transitions"] == [{"days": 365, "storageClass": "GLACIER_IR"}]
    assert "expiration" not in rule, "changed objects are valuable corrections: kept forever"


def test_unsure_objects_expire_after_30_days(full: Graph) -> None:
    rule = rules(full)["expire-unsure"]
    assert rule["filter"] == {"tag": {"key": "label_status", "value": "unsure"}}
    assert rule["expiration"] == {"days": 30}


def test_probe_objects_expire_after_a_day(full: Graph) -> None:
    rule = rules(full)["expire-probe-objects"]
    assert rule["filter"] == {"tag": {"key": "city_id", "value": contract.PROBE_CITY_ID}}
    assert rule["expiration"] == {"days": 1}, "a killed verification run must not leave probe objects for long"


def test_noncurrent_versions_and_incomplete_uploads_are_cleaned_for_every_object(full: Graph) -> None:
    rule = rules(full)["expire-noncurrent-versions-and-incomplete-uploads"]
    assert rule["filter"] == {}, "housekeeping applies to every object"
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    assert rule["expiration"] == {"expiredObjectDeleteMarker": True}


def test_every_label_has_a_rule(full: Graph) -> None:
    tagged = {rule["filter"]["tag"]["value"] for rule in rules(full).values() if "tag" in rule.get("filter", {})}
    assert {label.value for label in contract.Label} <= tagged, "lifecycle must decide for every label"


def test_rules_are_enabled(full: Graph) -> None:
    for rule_id, rule in rules(full).items():
        assert rule["status"] == "Enabled", f"lifecycle rule {rule_id} must be enabled"


def test_lifecycle_follows_configured_periods() -> None:
    graph = render(
        {
            "aws:region": "eu-west-1",
            "learning-images:replication": "false",
            "learning-images:archiveAfterDays": "90",
            "learning-images:archiveStorageClass": "DEEP_ARCHIVE",
            "learning-images:correctRetentionDays": "400",
            "learning-images:unsureExpiryDays": "14",
            "learning-images:noncurrentVersionExpiryDays": "3",
        }
    )
    got = rules(graph)
    assert got["archive-then-expire-correct"]["transitions"] == [{"days": 90, "storageClass": "DEEP_ARCHIVE"}]
    assert got["archive-then-expire-correct"]["expiration"] == {"days": 400}
    assert got["expire-unsure"]["expiration"] == {"days": 14}
    assert got["expire-noncurrent-versions-and-incomplete-uploads"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 3
    }


def test_replica_has_the_same_lifecycle(full: Graph) -> None:
    assert rules(full, "learning-images-replica") == rules(full), (
        "retention and unsure expiry must hold in the DR copy too"
    )


@pytest.mark.parametrize("bucket", ["learning-images", "learning-images-replica"])
def test_lifecycle_waits_for_versioning(full: Graph, bucket: str) -> None:
    (config,) = for_bucket(full, LIFECYCLE, bucket)
    assert f"{bucket}-versioning" in full.depends_on.get(config.name, set()), (
        f"{config.urn}: noncurrent-version rules need versioning on first"
    )
