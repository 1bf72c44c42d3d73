"""Regenerate the documentation that is generated from code (``make docs``).

- ``docs/settings.md``'s settings table, from :class:`learning_images_infra.settings.Settings`;
- ``Pulumi.yaml``'s ``config:`` block, from the same model;
- ``docs/rules.md``'s rule matrix and ``README.md``'s summary of it, from the rule catalogue
  (``learning_images.rules``);
- ``policies/catalogue.json``, what the self-contained policy pack knows of the contract;
- ``infra/learning_images_infra/component_types.py``, the component's typed inputs and outputs
  (``learning_images_infra.component_codegen``).

Each block is replaced in place between its first row and the next blank line; tests fail
whenever a block and its source differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from learning_images import b2, contract, gateway, gcs, minio, r2, rules
from learning_images.backends import BACKENDS
from learning_images_infra import component_codegen
from learning_images_infra.settings import pulumi_project_config, settings_table

ROOT = Path(__file__).resolve().parents[2]


def _replace_table(path: Path, first_row: str, table: str) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.index(first_row)
    end = text.find("\n\n", start)
    path.write_text(text[:start] + table + (text[end:] if end >= 0 else "\n"), encoding="utf-8")


def pack_catalogue() -> dict[str, Any]:
    """The contract facts the policy pack checks against, as plain data."""
    return {
        "label_status_field": contract.LABEL_STATUS,
        "labels": {label.name: label.value for label in contract.Label},
        "periods": {
            "unsure_expiry_days": contract.CONTRACT_PERIODS.unsure_expiry_days,
            "archive_after_days": contract.CONTRACT_PERIODS.archive_after_days,
        },
        "tiers": {
            "TRAINING": contract.TRAINING.name,
            "COMMAND_CENTRE": contract.COMMAND_CENTRE.name,
            "CITY": contract.CITY.name,
        },
        "learning_bucket_sids": sorted(rules.learning_bucket_sids(administrators=False)),
        "replica_write_guard_sid": rules.Sid.WRITE_EXCEPT_REPLICATION,
        "gcs_tier_permissions": {tier.name: list(gcs.tier_permissions(tier)) for tier in contract.TIERS},
        "gcs_city_tier": contract.CITY.name,
        "gcs_receiver_permissions": list(gcs.RECEIVER_PERMISSIONS),
        "gcs_storage_agent_domain": gcs.STORAGE_AGENT_DOMAIN,
        "r2_queue_permission_group_ids": list(r2.QUEUE_PERMISSION_GROUP_IDS),
        "gdpr_erasure_days": contract.GDPR_ERASURE_DAYS,
        "gcs_min_soft_delete_days": gcs.MIN_SOFT_DELETE_DAYS,
        "b2_tier_capabilities": {tier.name: list(b2.capabilities(tier)) for tier in contract.TIERS},
        "b2_receiver_capabilities": list(b2.RECEIVER_CAPABILITIES),
        "b2_event_types": list(b2.EVENT_TYPES),
        "b2_notification_rule_name": b2.NOTIFICATION_RULE_NAME,
        "gateway_events_path": gateway.EVENTS_PATH,
        "gateway_events_bindings": [gateway.EVENTS_QUEUE_BINDING, gateway.EVENTS_SECRET_BINDING],
        "minio_event_names": list(minio.EVENT_NAMES),
        "minio_event_target_pattern": minio.QUEUE_ARN_PATTERN.pattern,
        # Where a backend's tiers carry the guards in their own policies (MinIO), the Sids every one carries.
        "every_tier_policy_sids": {
            name: sorted(sids - rules.Sid.binds_some_tiers())
            for name in BACKENDS
            if (sids := rules.tier_policy_sids(name))
        },
    }


def pack_table() -> str:
    """policies/README.md's table of the pack's policies, from the pack itself (imported here only:
    the pack is self-contained and imports nothing of the project)."""
    from pulumi_policy import ResourceValidationPolicy  # noqa: PLC0415 (the docs generator's only use)

    from policies.contract_policies import POLICIES  # noqa: PLC0415

    rows = ["| policy | kind | what it refuses | remediation |", "|---|---|---|---|"]
    for policy in POLICIES:
        kind = "resource" if isinstance(policy, ResourceValidationPolicy) else "stack"
        rows.append(f"| `{policy.name}` | {kind} | {policy.description} | {policy.remediation_steps} |")
    return "\n".join(rows)


def pack_catalogue_json() -> str:
    return json.dumps(pack_catalogue(), indent=2, sort_keys=True) + "\n"


def regenerate(root: Path = ROOT) -> None:
    _replace_table(root / "docs" / "settings.md", "| Setting | Type | Default | Behaviour |", settings_table())
    _replace_table(root / "docs" / "rules.md", "| contract rule |", rules.markdown_table())
    _replace_table(root / "README.md", "| backend | enforced by the storage |", rules.summary_table())
    manifest = root / "Pulumi.yaml"
    text = manifest.read_text(encoding="utf-8")
    head = text[: text.index("config:\n")]
    block = yaml.safe_dump({"config": pulumi_project_config()}, sort_keys=False, width=100)
    manifest.write_text(head + block, encoding="utf-8")
    (root / "policies" / "catalogue.json").write_text(pack_catalogue_json(), encoding="utf-8")
    _replace_table(root / "policies" / "README.md", "| policy | kind |", pack_table())
    (Path(component_codegen.__file__).parent / "component_types.py").write_text(
        component_codegen.source(), encoding="utf-8"
    )


if __name__ == "__main__":
    regenerate()
    print(
        "regenerated docs/settings.md, docs/rules.md's matrix, README.md's rule summary, Pulumi.yaml's config, "
        "policies/catalogue.json, policies/README.md's policy table "
        "and infra/learning_images_infra/component_types.py"
    )
