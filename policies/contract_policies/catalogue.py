"""What the pack knows of the contract: generated from the project's contract and rule catalogue
(``make docs``; a test keeps it equal), shipped inside the pack so that the pack is self-contained
and judges resources whatever program made them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

#: What the pack knows of the contract: generated from the project's contract and rule catalogue
#: (``make docs``; a test keeps it equal), shipped inside the pack so that the pack is
#: self-contained and judges resources whatever program made them.
CATALOGUE: dict[str, Any] = json.loads((Path(__file__).resolve().parents[1] / "catalogue.json").read_text())


LABEL_STATUS: str = CATALOGUE["label_status_field"]


LABELS: dict[str, str] = CATALOGUE["labels"]  # CORRECT/CHANGED/UNSURE -> the label value


UNSURE_EXPIRY_DAYS: int = CATALOGUE["periods"]["unsure_expiry_days"]


ARCHIVE_AFTER_DAYS: int = CATALOGUE["periods"]["archive_after_days"]


TIERS: dict[str, str] = CATALOGUE["tiers"]  # TRAINING/COMMAND_CENTRE -> the tier tag value


LEARNING_BUCKET_SIDS: frozenset[str] = frozenset(CATALOGUE["learning_bucket_sids"])


WRITE_EXCEPT_REPLICATION_SID: str = CATALOGUE["replica_write_guard_sid"]


#: Each tier's Cloud Storage permissions (from the catalogue): a bucket grant holds exactly one set.
GCS_TIER_PERMISSIONS: dict[str, frozenset[str]] = {
    tier: frozenset(permissions) for tier, permissions in CATALOGUE["gcs_tier_permissions"].items()
}


GCS_CITY_TIER: str = CATALOGUE["gcs_city_tier"]
#: The receiver's Cloud Storage permissions: its bucket grant holds exactly these.
GCS_RECEIVER_PERMISSIONS: frozenset[str] = frozenset(CATALOGUE["gcs_receiver_permissions"])
#: The Cloudflare permission groups of the Queues API, the only ones an account-wide token policy may hold.
R2_QUEUE_PERMISSION_GROUP_IDS: frozenset[str] = frozenset(CATALOGUE["r2_queue_permission_group_ids"])
#: Cloud Storage's service agents publish as this domain's accounts.
GCS_STORAGE_AGENT_DOMAIN: str = CATALOGUE["gcs_storage_agent_domain"]


GDPR_ERASURE_DAYS: int = CATALOGUE["gdpr_erasure_days"]


GCS_MIN_SOFT_DELETE_DAYS: int = CATALOGUE["gcs_min_soft_delete_days"]


#: The guards every MinIO tier's own policy must carry (MinIO binds signed requests by user policies alone).
MINIO_EVERY_TIER_SIDS: frozenset[str] = frozenset(CATALOGUE["every_tier_policy_sids"]["minio"])


#: What a MinIO bucket notifies the receiver of, and the ARN form of a PostgreSQL target (its table is the receiver's).
MINIO_EVENT_NAMES: frozenset[str] = frozenset(CATALOGUE["minio_event_names"])
MINIO_EVENT_TARGET = re.compile(CATALOGUE["minio_event_target_pattern"])

#: Each tier's B2 application-key capabilities (from the catalogue): a key holds exactly one set.
B2_TIER_CAPABILITIES: dict[str, frozenset[str]] = {
    tier: frozenset(capabilities) for tier, capabilities in CATALOGUE["b2_tier_capabilities"].items()
}
#: The receiver's B2 key holds exactly these (it reads what it registers).
B2_RECEIVER_CAPABILITIES: frozenset[str] = frozenset(CATALOGUE["b2_receiver_capabilities"])
#: What the bucket's notification rule must notify, its name, and the gateway's webhook path and
#: bindings (the queue the events go to, the secret deliveries are checked with).
B2_EVENT_TYPES: frozenset[str] = frozenset(CATALOGUE["b2_event_types"])
B2_NOTIFICATION_RULE_NAME: str = CATALOGUE["b2_notification_rule_name"]
GATEWAY_EVENTS_PATH: str = CATALOGUE["gateway_events_path"]
GATEWAY_EVENTS_BINDINGS: tuple[str, ...] = tuple(CATALOGUE["gateway_events_bindings"])
