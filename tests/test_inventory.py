"""The daily S3 Inventory that GDPR erasure reads instead of listing every version."""

from __future__ import annotations

from learning_images_infra.aws.inventory import INVENTORY_ID
from tests.support.stack import Graph, allows, statement, statements

INVENTORY = "aws:s3/inventory:Inventory"


def test_inventory_lists_every_version_daily_into_the_log_bucket(full: Graph) -> None:
    inventory = full.one(INVENTORY, "learning-images-inventory")
    assert inventory["bucket"] == "learning-images", f"{inventory.urn}: the inventory lists the learning bucket"
    assert inventory["includedObjectVersions"] == "All", f"{inventory.urn}: erasure must see noncurrent versions"
    assert inventory["schedule"] == {"frequency": "Daily"}, f"{inventory.urn}: the inventory is daily"
    destination = inventory["destination"]["bucket"]
    assert destination["bucketArn"] == "arn:aws:s3:::access-logs", f"{inventory.urn}: delivered to the log bucket"
    assert destination["format"] == "CSV" and destination["prefix"] == "inventory", inventory.urn
    assert "sseS3" in destination["encryption"], f"{inventory.urn}: the inventory is encrypted at rest"
    assert full.outputs["inventory"] == {
        "bucket_name": "access-logs",
        "prefix": f"inventory/learning-images/{INVENTORY_ID}/",
    }, "stack output inventory must say where the manifests appear"


def test_inventory_delivery_is_scoped_to_the_source_bucket_and_account(full: Graph) -> None:
    (policy,) = [p for p in full.of_type("aws:s3/bucketPolicy:BucketPolicy") if p["bucket"] == "access-logs"]
    allow = statement(policy, "AllowS3InventoryDelivery")
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}, policy.urn
    assert allow["Resource"] == "arn:aws:s3:::access-logs/inventory/*", (
        f"{policy.urn}: inventory delivery may write under inventory/ only"
    )
    assert allow["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:s3:::learning-images"}, (
        f"{policy.urn}: inventory delivery must be limited to the learning bucket (confused deputy)"
    )
    assert allow["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012", policy.urn


def test_command_centre_reads_only_the_inventory_of_the_log_bucket(full: Graph) -> None:
    grant = full.one("aws:iam/rolePolicy:RolePolicy", "command-centre-inventory-read")
    assert grant["role"].startswith("command-centre-role"), f"{grant.urn}: the grant belongs to the Command Centre"
    resources = {s["Resource"] for s in statements(grant)}
    assert resources == {"arn:aws:s3:::access-logs", "arn:aws:s3:::access-logs/inventory/*"}, (
        f"{grant.urn}: the Command Centre may read the inventory and nothing else of the log bucket"
    )
    assert allows(grant, "s3:GetObject") and not allows(grant, "s3:DeleteObject"), grant.urn


def test_no_inventory_without_the_log_bucket(dev: Graph) -> None:
    assert not dev.of_type(INVENTORY), "dev has no log bucket, so no inventory"
    assert dev.outputs["inventory"] is None
