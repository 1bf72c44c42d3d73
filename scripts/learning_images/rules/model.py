"""The rule catalogue's model: stable Sids, how a rule is held, and a rule.

What a rule is, apart from the rows (``catalogue.py``) and their tables (``tables.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from learning_images import contract
from learning_images.backends import BACKENDS


class Sid:
    """Stable statement ids of the AWS bucket-policy guards (one per rule they enforce)."""

    INSECURE_TRANSPORT = "DenyInsecureTransport"
    OUTDATED_TLS = "DenyOutdatedTls"
    OVERWRITE = "DenyUploadWithoutIfNoneMatch"
    CONDITIONAL_OVERWRITE = "DenyUploadWithIfMatch"
    MULTIPART = "DenyMultipartUpload"
    COPY = "DenyCopyIntoBucket"
    KEY_NOT_UUID_JPG = "DenyKeyNotUuidJpg"
    KEY_WITH_SLASH = "DenyKeyWithSlash"
    UNKNOWN_TAG = "DenyUploadWithUnknownTag"
    EXCLUDED_LABEL = "DenyUploadWithExcludedLabel"
    WRONG_ENCRYPTION = "DenyUploadWithWrongEncryption"
    OTHER_KMS_KEY = "DenyUploadWithOtherKmsKey"
    AWS_MANAGED_KEY = "DenyUploadWithAwsManagedKey"
    STORAGE_CLASS = "DenyUploadWithStorageClass"
    CUSTOMER_KEY = "DenyUploadWithCustomerKey"
    ACL = "DenyObjectAcl"
    OBJECT_LOCK_CHANGE = "DenyObjectLockChange"
    TAG_REWRITE = "DenyTagRewrite"
    RETAG_STORED_OBJECT = "DenyRetagOfStoredObject"
    DELETE = "DenyDeleteExceptCommandCentre"
    UPLOAD_AS_OTHER_CITY = "DenyUploadAsAnotherCity"
    CITY_WITHOUT_CITY_TAG = "DenyCityWithoutCityTag"
    CITY_TIER = "DenyCityTierBeyondUpload"
    TRAINING_TIER = "DenyTrainingTierBeyondRead"
    COMMAND_CENTRE_TIER = "DenyCommandCentreTierBeyondItsOperations"
    CONFIGURATION_CHANGE = "DenyConfigurationChangeExceptAdministrators"
    KEY_ADMINISTRATION = "DenyKeyAdministrationExceptAdministrators"
    WRITE_EXCEPT_REPLICATION = "DenyWriteExceptReplication"
    LOG_DELIVERY = "AllowS3LogDelivery"
    INVENTORY_DELIVERY = "AllowS3InventoryDelivery"

    #: The guards that bind some principals and not everyone: where a backend carries the guards
    #: in each tier's own policy (MinIO), only the tiers they bind carry them.
    @staticmethod
    def binds_some_tiers() -> frozenset[str]:
        return frozenset(
            {
                Sid.DELETE,
                Sid.UPLOAD_AS_OTHER_CITY,
                Sid.CITY_WITHOUT_CITY_TAG,
                Sid.CITY_TIER,
                Sid.TRAINING_TIER,
                Sid.COMMAND_CENTRE_TIER,
                Sid.CONFIGURATION_CHANGE,
            }
        )

    @staticmethod
    def _camel(name: str) -> str:
        return "".join(part.title() for part in name.replace("-", "_").split("_"))

    @staticmethod
    def missing_tag(field: str) -> str:
        """``DenyUploadWithoutCityIdTag`` for ``city_id``: one guard per required field."""
        return f"DenyUploadWithout{Sid._camel(field)}Tag"

    @staticmethod
    def lock_header(key: str) -> str:
        """``DenyUploadWithObjectLockMode`` for ``s3:object-lock-mode``: one guard per lock header."""
        return f"DenyUploadWith{Sid._camel(key.removeprefix('s3:'))}"


#: The request headers that set an object's lock on upload, as IAM condition keys (Service
#: Authorization Reference for Amazon S3, condition keys of PutObject).
OBJECT_LOCK_KEYS = ("s3:object-lock-mode", "s3:object-lock-retain-until-date", "s3:object-lock-legal-hold")
MISSING_TAG_SIDS = tuple(Sid.missing_tag(f) for f in contract.METADATA_FIELDS)
LOCK_HEADER_SIDS = tuple(Sid.lock_header(k) for k in OBJECT_LOCK_KEYS)


class Enforcement(StrEnum):
    STORAGE = "enforced by the storage"
    #: Behind the upload gateway: what it rests on is :data:`GATEWAY_RESTS_ON`.
    GATEWAY = "enforced by the gateway"
    CLIENT = "only by well-behaved clients"
    NONE = "not enforced"


#: Why a rule the gateway holds is enforced and not a wish: cities cannot go around it.
GATEWAY_RESTS_ON = (
    "no city holds a storage credential (the r2 store creates none while the gateway is on, the spaces store "
    "never), so every city request passes the gateway, which accepts one operation, a compliant PutObject; the "
    "Command Centre's own key writes directly and is trusted as a well-behaved client"
)


@dataclass(frozen=True)
class Holding:
    """How one backend (or the upload gateway) holds one rule."""

    enforcement: Enforcement
    how: str
    #: What covers the gap, where the backend does not enforce the rule.
    covered_by: str = ""
    #: Checks of the rule its API cannot answer, with why (reported SKIP).
    unprobed: Mapping[str, str] = field(default_factory=dict)
    #: Checks of the rule it does not hold although it holds the rest, each with why and what covers
    #: it (reported GAP, never PASS: the probe would see the backend allow it).
    gaps: Mapping[str, str] = field(default_factory=dict)
    #: Offline tests that prove the declaration (``file::test``).
    proofs: tuple[str, ...] = ()
    #: Policy-pack policies that refuse a preview breaking it.
    policies: tuple[str, ...] = ()
    #: The guards that hold it where a backend carries the AWS guards in policies of its own (MinIO:
    #: every tier's user policy), by their Sids; the AWS bucket policy's are the rule's ``sids``.
    sids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A contract rule: how each backend holds it (one :class:`Holding` per row of the backend
    table, keyed by its name), how the upload gateway holds it where it fronts a backend, and what
    the rule names on AWS (guards, lifecycle rules) and leaves to a live run."""

    rule: str
    checks: tuple[str, ...]
    #: Backend name (the backend table's keys) -> how that backend holds the rule.
    held: Mapping[str, Holding]
    #: How the upload gateway holds the rule where it does more than the storage behind it;
    #: None: as the backend says. Rules the gateway holds are probed through it.
    gateway: Holding | None = None
    #: Where the gateway's hold rests on the store behind it (its conditional write), how it holds
    #: the rule in front of that backend, by name; others take ``gateway``.
    gateway_on: Mapping[str, Holding] = field(default_factory=dict)
    #: The learning bucket's guards that enforce it on AWS.
    sids: tuple[str, ...] = ()
    #: The contract's lifecycle rules (``contract.lifecycle_rules`` ids) that enforce it.
    lifecycle: tuple[str, ...] = ()
    #: What only a live run against the cloud proves (the verifier's checks on a deployed stack).
    live: str = ""

    def __post_init__(self) -> None:
        missing = sorted(BACKENDS.keys() - self.held.keys())
        if missing or self.held.keys() - BACKENDS.keys():
            raise ValueError(f"rule {self.rule!r}: holds {sorted(self.held)}, the backend table has {sorted(BACKENDS)}")
        if self.gateway_on.keys() - BACKENDS.keys():
            raise ValueError(f"rule {self.rule!r}: gateway_on names {sorted(self.gateway_on)}, not rows of the table")
        for backend, held in self.held.items():
            if held.enforcement is not Enforcement.STORAGE and not held.covered_by:
                raise ValueError(f"rule {self.rule!r}: {backend} does not enforce it, and nothing says what covers it")

    @property
    def policies(self) -> tuple[str, ...]:
        """Every policy-pack policy that refuses a preview breaking the rule, on any backend."""
        return tuple(p for held in self.held.values() for p in held.policies)

    @property
    def proofs(self) -> tuple[str, ...]:
        """Every offline test that proves the rule, on any backend and in the gateway."""
        gateway = self.gateway.proofs if self.gateway else ()
        fronting = tuple(p for held in self.gateway_on.values() for p in held.proofs)
        return tuple(p for held in self.held.values() for p in held.proofs) + gateway + fronting

    def holding(self, backend: str, *, gateway: bool = False) -> Holding:
        """How ``backend`` holds the rule; with ``gateway``, fronted by the upload gateway."""
        if gateway and backend in self.gateway_on:
            return self.gateway_on[backend]
        if gateway and self.gateway is not None:
            return self.gateway
        return self.held[backend]
