"""The rule catalogue's rows: every contract rule, how each backend holds it, what proves it; and
the questions the verifier and the pack ask of them.
"""

from __future__ import annotations

from learning_images.rules.model import (
    LOCK_HEADER_SIDS,
    MISSING_TAG_SIDS,
    Enforcement,
    Holding,
    Rule,
    Sid,
)

S, C, N = Enforcement.STORAGE, Enforcement.CLIENT, Enforcement.NONE
NO_TAGS = "R2 has no object tags API"
NO_VERSIONS = "R2 has no object versioning API"
MANAGED_KEYS = "R2 encrypts every object at rest with Cloudflare-managed keys: no key to read back"
IAM = "tests/test_iam_semantics.py::"
GATEWAY = "tests/test_gateway.py::"
G = Enforcement.GATEWAY
LIVE_CONDITION = "that S3 evaluates these conditions as the offline evaluator did (the verifier's probes)"
GCS_TEST = "tests/test_gcs.py::"
GCS_IAM = "tests/test_gcs_iam.py::"
#: What Cloud Storage's XML API cannot answer in S3's terms: configuration reads come back in
#: Cloud Storage's own XML, so the verifier does not read them (the pack checks the declaration).
XML_CONFIG = (
    "Cloud Storage's XML API answers configuration reads in its own XML, not S3's; the policy pack checks "
    "the declaration and `gcloud storage buckets describe` shows the deployed one"
)
GCS_NO_TAGS = "Cloud Storage has no object tags"
GCS_GENERATIONS = (
    "Cloud Storage's versions are generations, not the S3 versions API the probe uses; probe on the first live run"
)

#: What registration adds where a backend cannot refuse such an upload: it is never trainable.
QUARANTINED = (
    "; the receiver (and learning-images-reconcile) quarantines such an object in learning_samples, so training "
    "never reads it"
)
REGISTER = "tests/test_register.py::"
REGISTRATION_SOURCE = "tests/test_registration_source.py::"
REGISTRATION_R2 = "tests/test_registration_r2.py::"
REGISTRATION_GCS = "tests/test_registration_gcs.py::"
REGISTRATION_PULL = "tests/test_registration_pull.py::"
REGISTRATION_TABLE = "tests/test_registration_table.py::"
REGISTRATION_PUBSUB = "tests/test_registration_pubsub.py::"
MINIO = "tests/test_minio.py::"
SPACES = "tests/test_spaces.py::"
#: Why the verifier does not read a MinIO bucket's configuration: it reads as the Command Centre,
#: whose user's policy denies all but its operations (the admin user, who could, it never holds).
MINIO_CONFIG = (
    "no tier's MinIO user may read the bucket's configuration (each policy denies all but its operations); the "
    "pack checks the declaration and `mc` as the admin shows the deployed one"
)
B2 = "tests/test_b2.py::"
B2_PROVIDER = "tests/test_b2_provider.py::"
GATEWAY_EVENTS = "tests/test_gateway_events.py::"
VERIFY_FRONTED = "tests/test_verify_fronted.py::"
#: Why the verifier does not read a Spaces or B2 bucket's configuration: the tiers' keys are granted
#: objects, not the bucket's settings (least privilege), and the verifier reads as the Command Centre.
SPACES_CONFIG = (
    "no tier's Spaces key is granted the bucket's configuration; the pack checks the declaration and the "
    "provider's refresh shows the deployed one"
)
B2_CONFIG = (
    "no tier's B2 key holds readBuckets; the pack checks the declaration and the provider's refresh (its read) "
    "shows the deployed one"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "valid uploads are accepted and read back identical, with their reference",
        ("upload.accepted", "upload.read-back", "upload.reference"),
        held={
            "aws": Holding(
                S,
                "metadata and tags round-trip; reference `s3://<bucket>/<key>`",
                proofs=(f"{IAM}test_every_city_and_the_command_centre_can_upload_compliant_samples",),
            ),
            "r2": Holding(S, "metadata round-trips (R2 has no tags); reference `r2://<bucket>/<key>`"),
            "gcs": Holding(
                S,
                "metadata round-trips (Cloud Storage has no tags); reference `gs://<bucket>/<key>`",
                proofs=(f"{GCS_IAM}test_cities_and_the_command_centre_may_create_contract_objects",),
            ),
            "minio": Holding(
                S,
                "metadata and tags round-trip; reference `s3://<bucket>/<key>` at the server's endpoint",
                proofs=(f"{MINIO}test_cities_and_the_command_centre_may_upload_compliant_samples",),
            ),
            "spaces": Holding(
                S,
                "metadata round-trips (the store uses no tags on Spaces); reference `s3://<bucket>/<key>` at the "
                "region's endpoint",
                proofs=(f"{SPACES}test_cities_hold_gateway_keys_and_no_spaces_key",),
            ),
            "b2": Holding(
                S,
                "metadata round-trips (B2 has no tags); reference `s3://<bucket>/<key>` at the account's S3 endpoint",
                proofs=(f"{B2}test_cities_hold_gateway_keys_and_no_b2_key",),
            ),
        },
        live="that a compliant upload by the probe city succeeds: the probe that would have caught "
        "every upload refused for its tags (`upload.accepted`)",
    ),
    Rule(
        "no public access",
        ("config.public-access-block", "access.anonymous-read-refused", "access.anonymous-list-refused"),
        held={
            "aws": Holding(
                S,
                "all four public-access blocks, ACLs disabled and refused, no Allow in any bucket policy",
                proofs=(f"{IAM}test_anonymous_and_other_account_callers_are_refused_everything",),
                policies=("s3-public-access-block-complete", "s3-every-bucket-has-public-access-block"),
            ),
            "r2": Holding(
                S,
                "buckets are private; the r2.dev domain is declared off and no custom domain is attached",
                unprobed={
                    "config.public-access-block": "R2 has no public-access-block API (its r2.dev domain is declared "
                    "off)"
                },
                policies=("r2-no-public-domain",),
            ),
            "gcs": Holding(
                S,
                "uniform bucket-level access (no ACLs) and public access prevention enforced: grants to allUsers or "
                "allAuthenticatedUsers are refused",
                unprobed={"config.public-access-block": XML_CONFIG},
                proofs=(f"{GCS_TEST}test_gcs_bucket_is_private_and_refuses_public_grants",),
                policies=(
                    "gcs-bucket-not-public",
                    "gcs-no-public-members",
                ),
            ),
            "minio": Holding(
                S,
                "the bucket is private and the program declares no bucket policy, which on MinIO only ever grants "
                "anonymous access; MinIO has no ACLs",
                unprobed={
                    "config.public-access-block": "MinIO has no public-access-block API (a bucket without a "
                    "policy is private)"
                },
                proofs=(f"{MINIO}test_the_bucket_is_private_with_no_bucket_policy",),
                policies=("minio-bucket-private",),
            ),
            "spaces": Holding(
                S,
                "the bucket is created private, nothing grants public access, and every key is scoped to the bucket",
                unprobed={"config.public-access-block": "Spaces has no public-access-block API"},
                proofs=(f"{SPACES}test_the_bucket_is_private_and_no_key_reaches_beyond_it",),
                policies=("spaces-bucket-private", "spaces-keys-bucket-scoped"),
            ),
            "b2": Holding(
                S,
                "the bucket is allPrivate and every key is scoped to it",
                unprobed={"config.public-access-block": "B2 has no public-access-block API (the bucket is allPrivate)"},
                proofs=(f"{B2}test_the_bucket_is_private_locked_and_encrypted",),
                policies=("b2-bucket-locked", "b2-keys-bucket-scoped"),
            ),
        },
        sids=(Sid.ACL,),
        live="the account-level public-access block and anonymous requests answered 403",
    ),
    Rule(
        "encryption at rest",
        ("config.default-encryption", "upload.encrypted"),
        held={
            "aws": Holding(
                S,
                "SSE-KMS with a customer-managed, rotated key usable only through S3; other keys (the AWS managed "
                "`aws/s3` too: SSE-KMS without a key id), SSE-S3 and SSE-C refused",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                    f"{IAM}test_the_store_key_is_used_only_through_s3",
                ),
                policies=("s3-buckets-encrypted-with-customer-key", "kms-keys-rotate"),
            ),
            "r2": Holding(
                S,
                "R2 encrypts every object with Cloudflare-managed keys (no customer key)",
                unprobed={"config.default-encryption": MANAGED_KEYS, "upload.encrypted": MANAGED_KEYS},
            ),
            "gcs": Holding(
                S,
                "the bucket's default key is a customer-managed Cloud KMS key rotated every 90 days; Google-managed "
                "and customer-supplied keys are refused for new objects",
                unprobed={
                    "config.default-encryption": XML_CONFIG,
                    "upload.encrypted": "the XML API names an object's key in x-goog-encryption-kms-key-name, which "
                    "boto3 "
                    "does not read; probe on the first live run",
                },
                proofs=(f"{GCS_TEST}test_gcs_objects_are_encrypted_only_with_the_store_key",),
                policies=(
                    "gcs-bucket-encrypted-with-customer-key",
                    "gcs-kms-keys-rotate",
                ),
            ),
            "minio": Holding(
                S,
                "SSE-KMS by default with a KES key the program creates; uploads naming another key, SSE-S3, or SSE-C "
                "are refused by every tier's policy",
                unprobed={"config.default-encryption": MINIO_CONFIG},
                proofs=(f"{MINIO}test_the_bucket_is_encrypted_by_default_with_its_own_kes_key",),
                policies=("minio-bucket-encrypted-with-kms",),
                sids=(Sid.WRONG_ENCRYPTION, Sid.OTHER_KMS_KEY, Sid.AWS_MANAGED_KEY, Sid.CUSTOMER_KEY),
            ),
            "spaces": Holding(
                N,
                "Spaces has no bucket default encryption and no customer-managed key (SSE-C only)",
                covered_by="DigitalOcean's own encryption of Spaces at rest, which the store can neither declare nor "
                "read back",
            ),
            "b2": Holding(
                S,
                "SSE-B2 (AES-256, Backblaze's keys) is the bucket's default encryption; no customer-managed key",
                unprobed={
                    "config.default-encryption": "SSE-B2 uses Backblaze-managed keys: no customer key to read back",
                    "upload.encrypted": "SSE-B2 uses Backblaze-managed keys: no customer key to read back",
                },
                proofs=(f"{B2}test_the_bucket_is_private_locked_and_encrypted",),
                policies=("b2-bucket-locked",),
            ),
        },
        sids=(Sid.WRONG_ENCRYPTION, Sid.OTHER_KMS_KEY, Sid.AWS_MANAGED_KEY, Sid.CUSTOMER_KEY),
        live="that objects are stored under the stack's key (`upload.encrypted`) and KMS honours the key policy",
    ),
    Rule(
        "encryption in transit",
        ("access.plain-http-refused",),
        held={
            "aws": Holding(
                S,
                "bucket policy denies requests without TLS or below TLS 1.2",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                ),
            ),
            "r2": Holding(
                S,
                "the S3 API is served over HTTPS only",
                unprobed={"access.plain-http-refused": "R2's S3 endpoint has no plain-HTTP listener to probe"},
            ),
            "gcs": Holding(
                C,
                "Cloud Storage IAM cannot refuse a request by its transport, and whether its XML endpoint answers "
                "plain HTTP is not proven here",
                covered_by="the outputs name only the HTTPS endpoint, and the clients use it",
            ),
            "minio": Holding(
                S,
                "every tier's policy refuses requests without TLS; MinIO has no TLS-version key, so the server's own "
                "TLS settings set the minimum version",
                proofs=(f"{MINIO}test_every_tier_policy_carries_the_guards_minio_evaluates",),
                sids=(Sid.INSECURE_TRANSPORT,),
            ),
            "spaces": Holding(
                C,
                "Spaces keys carry no conditions, so nothing refuses a request by its transport, and whether the "
                "endpoint answers plain HTTP is not proven here",
                covered_by="the outputs name only the HTTPS endpoint, and the gateway and the clients use it",
            ),
            "b2": Holding(
                C,
                "B2's keys carry no conditions: nothing refuses a request by its transport",
                covered_by="the outputs name only the HTTPS endpoint, and the gateway and the clients use it",
            ),
        },
        sids=(Sid.INSECURE_TRANSPORT, Sid.OUTDATED_TLS),
        live="a plain-HTTP request refused by the deployed policy",
    ),
    Rule(
        "objects are never overwritten",
        ("refuse.overwrite",),
        held={
            "aws": Holding(
                S,
                "versioning, If-None-Match required, If-Match and copies refused, optional Object Lock",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                ),
                policies=("s3-every-bucket-versioned",),
            ),
            "r2": Holding(
                S,
                "bucket lock refuses overwrites while an object is younger than the lock; If-None-Match refuses the "
                "rest",
            ),
            "gcs": Holding(
                S,
                "a city's role holds storage.objects.create without storage.objects.delete, and Cloud Storage needs "
                "both to replace a live object, so the storage refuses a city's overwrite; a Command Centre overwrite "
                "keeps the old bytes as a noncurrent version",
                proofs=(f"{GCS_IAM}test_city_tier_cannot_overwrite_a_stored_object",),
                policies=("gcs-tier-roles-least-privilege",),
            ),
            "minio": Holding(
                C,
                "MinIO cannot require If-None-Match, so a writer can make a new current version of a stored key; "
                "copies are refused",
                covered_by="versioning keeps the overwritten version (Object Lock turns it on), and only the Command "
                "Centre deletes versions; the uploader always sends If-None-Match: *, which MinIO honours (412)",
                proofs=(f"{MINIO}test_every_tier_policy_carries_the_guards_minio_evaluates",),
                sids=(Sid.COPY,),
            ),
            "spaces": Holding(
                C,
                "a read-write key can write over a stored key (Spaces keys carry no conditions)",
                covered_by="versioning keeps every overwritten version; cities write only through the gateway",
                proofs=(f"{SPACES}test_the_bucket_is_versioned_and_keeps_noncurrent_versions",),
            ),
            "b2": Holding(
                C,
                "a key with writeFiles makes a new version of a stored name",
                covered_by="the first version stays, locked for unsureExpiryDays; cities write only through the "
                "gateway",
                proofs=(f"{B2}test_the_bucket_is_private_locked_and_encrypted",),
            ),
        },
        sids=(Sid.COPY, Sid.CONDITIONAL_OVERWRITE),
        live="S3's 412 on a second create of the same key",
    ),
    Rule(
        "every write is create-only (If-None-Match)",
        ("refuse.without-if-none-match",),
        held={
            "aws": Holding(
                S,
                "bucket policy denies any PutObject without `If-None-Match: *`, and multipart uploads",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                ),
            ),
            "r2": Holding(
                C,
                "R2 cannot require a request header",
                covered_by="the bucket lock refuses overwrites of young objects; the uploader always sends "
                "If-None-Match: *",
            ),
            "gcs": Holding(
                C,
                "Cloud Storage IAM cannot require a request header",
                covered_by="cities cannot replace an object at all (their role lacks delete); the uploader always "
                "sends "
                "If-None-Match: *",
            ),
            "minio": Holding(
                C,
                "MinIO has no `s3:if-none-match` condition key: no policy can require the header",
                covered_by="the uploader always sends If-None-Match: *, which MinIO honours (a second create answers "
                "412); versioning keeps what an overwrite replaces",
                proofs=("tests/test_minio_keys.py::test_a_key_minio_does_not_know_is_refused_whatever_the_action",),
            ),
            "spaces": Holding(
                C,
                "Spaces cannot require a request header",
                covered_by="cities write only through the gateway, which sends If-None-Match: *; versioning keeps what "
                "an overwrite replaces",
            ),
            "b2": Holding(
                C,
                "B2 cannot require a request header",
                covered_by="cities write only through the gateway, which sends If-None-Match: *; the lock and the "
                "versions keep what a second write replaces",
            ),
        },
        gateway=Holding(
            G,
            "a city's upload without `If-None-Match: *` is refused, and the gateway writes with R2's "
            "conditional put, so a stored key is never written again (412)",
            proofs=(
                f"{GATEWAY}test_an_upload_without_if_none_match_is_refused",
                f"{GATEWAY}test_a_stored_object_is_never_overwritten",
            ),
        ),
        gateway_on={
            # The gateway's S3 target sends If-None-Match: * (src/s3-bucket.js); a store that ignored it
            # would let the gateway write over a stored key.
            "spaces": Holding(
                C,
                "the gateway refuses a city's upload without `If-None-Match: *` and writes with it, but whether "
                "Spaces honours If-None-Match is not documented",
                covered_by="versioning keeps any version an overwrite replaces; a live run must show the 412 before "
                "this column says more",
                proofs=(f"{GATEWAY}test_an_upload_without_if_none_match_is_refused",),
            ),
            "b2": Holding(
                C,
                "the gateway refuses a city's upload without `If-None-Match: *` and writes with it, but whether B2's "
                "S3 API honours If-None-Match is not documented",
                covered_by="the lock and the versions keep what a second write replaces; a live run must show the 412 "
                "before this column says more",
                proofs=(f"{GATEWAY}test_an_upload_without_if_none_match_is_refused",),
            ),
        },
        sids=(Sid.OVERWRITE, Sid.MULTIPART),
        live=LIVE_CONDITION,
    ),
    Rule(
        "deleted objects stay recoverable for a while",
        ("config.versioning",),
        held={
            "aws": Holding(
                S,
                "versioning; noncurrent versions expire after noncurrentVersionExpiryDays",
                proofs=("tests/test_bucket.py::test_image_buckets_are_versioned",),
                policies=("s3-every-bucket-versioned",),
            ),
            "r2": Holding(
                N,
                "R2 has no object versioning: a deletion is final",
                covered_by="the bucket lock refuses deletions while objects are young; only the Command Centre token "
                "deletes by design",
            ),
            "gcs": Holding(
                S,
                "versioning keeps a deleted object as a noncurrent version for noncurrentVersionExpiryDays, then "
                "soft delete keeps it restorable for gcsSoftDeleteDays",
                unprobed={"config.versioning": XML_CONFIG},
                proofs=(f"{GCS_TEST}test_gcs_deleted_objects_stay_recoverable",),
                policies=("gcs-bucket-versioned-with-soft-delete",),
            ),
            "minio": Holding(
                S,
                "versioning (on with Object Lock); noncurrent versions expire after noncurrentVersionExpiryDays",
                unprobed={"config.versioning": MINIO_CONFIG},
                proofs=(f"{MINIO}test_the_bucket_is_versioned_with_object_lock",),
                policies=("minio-bucket-object-locked",),
            ),
            "spaces": Holding(
                S,
                "versioning keeps a deleted object as a noncurrent version for noncurrentVersionExpiryDays",
                unprobed={"config.versioning": SPACES_CONFIG},
                proofs=(f"{SPACES}test_the_bucket_is_versioned_and_keeps_noncurrent_versions",),
                policies=("spaces-bucket-versioned",),
            ),
            "b2": Holding(
                S,
                "every upload is a version; a hidden (deleted) file's versions stay for noncurrentVersionExpiryDays, "
                "and the lock refuses deleting them while young",
                unprobed={"config.versioning": B2_CONFIG},
                proofs=(f"{B2}test_the_lifecycle_deletes_only_hidden_versions",),
                policies=("b2-lifecycle-follows-contract",),
            ),
        },
        lifecycle=("expire-noncurrent-versions-and-incomplete-uploads",),
        live="versioning read back as Enabled",
    ),
    Rule(
        "objects locked against deletion",
        ("config.object-lock",),
        held={
            "aws": Holding(
                S,
                "optional Object Lock (GOVERNANCE lets the Command Centre erase)",
                proofs=("tests/test_bucket.py::test_object_lock_applies_the_configured_default_retention",),
            ),
            "r2": Holding(
                S,
                "bucket lock by age (the `bucket_lock_days` output)",
                unprobed={
                    "config.object-lock": "R2's bucket lock is not readable through its S3 API (see `bucket_lock_days`)"
                },
            ),
            "gcs": Holding(
                N,
                "no lock: Cloud Storage refuses a bucket retention policy on a versioned bucket, and per-object "
                "retention would be the uploader's to set",
                covered_by="only the Command Centre holds storage.objects.delete, and soft delete keeps any deletion "
                "restorable for gcsSoftDeleteDays",
            ),
            "minio": Holding(
                N,
                "the bucket is created with Object Lock, but pulumi-minio 0.17.1 cannot declare a default retention, "
                "so objects are not locked",
                covered_by="only the Command Centre's policy allows deleting; a default retention can be set after "
                "the first deploy with `mc retention set --default GOVERNANCE <days>d` (docs/s3-compatible.md)",
            ),
            "spaces": Holding(
                N,
                "Spaces has no Object Lock",
                covered_by="only the Command Centre's key and the gateway's write (cities hold no Spaces key, the "
                "training key reads), and versioning keeps a deletion recoverable for noncurrentVersionExpiryDays",
            ),
            "b2": Holding(
                S,
                "Object Lock on from the bucket's creation, default retention governance for unsureExpiryDays "
                "(the `bucket_lock_days` output)",
                unprobed={"config.object-lock": B2_CONFIG},
                proofs=(f"{B2}test_the_bucket_is_private_locked_and_encrypted",),
                policies=("b2-bucket-locked",),
            ),
        },
        live="the default retention read back, and that a locked version resists deletion",
    ),
    Rule(
        "no upload sets its own lock (GDPR erasure stays possible)",
        ("refuse.lock-headers",),
        held={
            "aws": Holding(
                S,
                "bucket policy refuses Object Lock headers on upload and PutObjectRetention/LegalHold to everyone",
                proofs=(f"{IAM}test_labels_are_immutable_no_tag_rewrite_or_lock_change_for_anyone",),
            ),
            "r2": Holding(
                S,
                "R2 locks by bucket rule only; its S3 API has no per-object retention a client could set",
                unprobed={"refuse.lock-headers": "R2 has no per-object Object Lock to set (bucket lock rules only)"},
            ),
            "gcs": Holding(
                S,
                "object retention is not enabled on the bucket and no tier holds storage.objects.setRetention",
                unprobed={
                    "refuse.lock-headers": "what the XML API does with S3's Object Lock headers is probed on the first "
                    "live "
                    "run (the bucket has no object retention to set)"
                },
                proofs=(f"{GCS_IAM}test_no_tier_may_set_object_retention",),
                policies=("gcs-tier-roles-least-privilege",),
            ),
            "minio": Holding(
                S,
                "every tier's policy refuses Object Lock headers on upload and PutObjectRetention/LegalHold",
                proofs=(f"{MINIO}test_every_tier_policy_carries_the_guards_minio_evaluates",),
                sids=(Sid.OBJECT_LOCK_CHANGE, *LOCK_HEADER_SIDS),
            ),
            "spaces": Holding(
                C,
                "Spaces documents no Object Lock, and no key of it can refuse an upload's lock headers",
                covered_by="cities write only through the gateway, which refuses lock headers; the Command Centre's "
                "clients never send them",
            ),
            "b2": Holding(
                S,
                "no tier's key holds writeFileRetentions or writeFileLegalHolds, which B2 needs to set a file's lock",
                proofs=(f"{B2}test_each_tier_key_holds_exactly_its_capabilities",),
                policies=("b2-keys-bucket-scoped",),
            ),
        },
        gateway=Holding(
            G,
            "the gateway refuses an upload carrying Object Lock headers (as every x-amz-* header "
            "it does not take); the stores it fronts have no per-object lock a client could set anyway",
            proofs=(f"{GATEWAY}test_uploads_that_set_acls_tags_locks_or_storage_settings_are_refused",),
        ),
        sids=(Sid.OBJECT_LOCK_CHANGE, *LOCK_HEADER_SIDS),
        live=LIVE_CONDITION,
    ),
    Rule(
        "flat namespace: keys are <uuid>.jpg, no folders",
        ("refuse.key-with-slash", "refuse.key-not-uuid"),
        held={
            "aws": Holding(
                S,
                "bucket policy refuses other key shapes and any '/' (IAM cannot hold keys to lowercase hex: "
                "a limit, covered by the uploader)",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                    f"{IAM}test_iam_cannot_hold_keys_to_lowercase_hex_so_clients_do",
                ),
            ),
            "r2": Holding(
                C,
                "R2 tokens cannot restrict object keys",
                covered_by=(
                    "the uploader validates keys with contract.OBJECT_KEY_PATTERN; the retention job reports "
                    "foreign keys"
                )
                + QUARANTINED,
            ),
            "gcs": Holding(
                C,
                "IAM Conditions compare names by prefix and suffix only: the city grant holds names to this bucket "
                "and `.jpg`, not to a UUID without '/'",
                covered_by=(
                    "the uploader validates keys with contract.OBJECT_KEY_PATTERN; the retention job reports "
                    "foreign keys"
                )
                + QUARANTINED,
                proofs=(f"{GCS_IAM}test_city_grant_is_held_to_jpg_names_of_this_bucket",),
            ),
            "minio": Holding(
                S,
                "every tier's policy refuses other key shapes and any '/' (policy wildcards cannot hold keys to "
                "lowercase hex: a limit, covered by the uploader)",
                proofs=(f"{MINIO}test_every_tier_policy_carries_the_guards_minio_evaluates",),
                sids=(Sid.KEY_NOT_UUID_JPG, Sid.KEY_WITH_SLASH),
            ),
            "spaces": Holding(
                C,
                "Spaces keys cannot restrict object keys",
                covered_by=(
                    "the uploader validates keys with contract.OBJECT_KEY_PATTERN; the retention job reports "
                    "foreign keys"
                )
                + QUARANTINED,
            ),
            "b2": Holding(
                C,
                "B2 keys can be held to a name prefix, not to a pattern",
                covered_by=(
                    "the uploader validates keys with contract.OBJECT_KEY_PATTERN; the retention job reports "
                    "foreign keys"
                )
                + QUARANTINED,
            ),
        },
        gateway=Holding(
            G,
            "the gateway refuses every key but a lowercase `<uuid>.jpg` at the top level "
            "(stricter than IAM can be on AWS)",
            proofs=(f"{GATEWAY}test_keys_other_than_a_lowercase_uuid_jpg_at_the_top_level_are_refused",),
        ),
        sids=(Sid.KEY_NOT_UUID_JPG, Sid.KEY_WITH_SLASH),
        live=LIVE_CONDITION,
    ),
    Rule(
        "every object carries the required metadata",
        ("refuse.missing-tag", "refuse.blank-metadata"),
        held={
            "aws": Holding(
                S,
                "bucket policy refuses an upload whose metadata tag is missing or blank, or carries another tag",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                ),
            ),
            "r2": Holding(
                C,
                "R2 has no tags and cannot require metadata",
                covered_by=(
                    "the uploader refuses incomplete samples; the retention job reports objects missing metadata"
                )
                + QUARANTINED,
            ),
            "gcs": Holding(
                C,
                "Cloud Storage IAM cannot read an upload's metadata",
                covered_by=(
                    "the uploader refuses incomplete samples; the retention job reports objects missing metadata"
                )
                + QUARANTINED,
            ),
            "minio": Holding(
                S,
                "every tier's policy refuses an upload whose metadata tag is missing or blank, or carries another tag",
                proofs=(f"{MINIO}test_every_tier_policy_carries_the_guards_minio_evaluates",),
                sids=(*MISSING_TAG_SIDS, Sid.UNKNOWN_TAG),
            ),
            "spaces": Holding(
                C,
                "Spaces cannot require metadata",
                covered_by=(
                    "the uploader refuses incomplete samples; the retention job reports objects missing metadata"
                )
                + QUARANTINED,
            ),
            "b2": Holding(
                C,
                "B2 cannot require metadata",
                covered_by=(
                    "the uploader refuses incomplete samples; the retention job reports objects missing metadata"
                )
                + QUARANTINED,
            ),
        },
        gateway=Holding(
            G,
            "the gateway refuses an upload with a required field missing or blank, or with "
            "metadata outside the contract",
            proofs=(
                f"{GATEWAY}test_an_upload_missing_a_required_metadata_field_is_refused",
                f"{GATEWAY}test_an_upload_with_a_blank_required_metadata_field_is_refused",
                f"{GATEWAY}test_metadata_outside_the_contract_is_refused",
            ),
        ),
        sids=(*MISSING_TAG_SIDS, Sid.UNKNOWN_TAG),
        live=LIVE_CONDITION,
    ),
    Rule(
        "`unsure` samples are never uploaded",
        ("refuse.unsure-label",),
        held={
            "aws": Holding(
                S,
                "bucket policy refuses any label but correct and changed (case-sensitive)",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                ),
            ),
            "r2": Holding(
                C,
                "R2 cannot read an upload's metadata",
                covered_by=("the uploader excludes unsure; the retention job deletes any after unsureExpiryDays")
                + QUARANTINED,
            ),
            "gcs": Holding(
                C,
                "Cloud Storage IAM cannot read an upload's metadata",
                covered_by=("the uploader excludes unsure; the retention job deletes any after unsureExpiryDays")
                + QUARANTINED,
            ),
            "minio": Holding(
                S,
                "every tier's policy allows only the correct and changed labels and refuses any other",
                proofs=(f"{MINIO}test_cities_and_the_command_centre_may_upload_compliant_samples",),
                sids=(Sid.EXCLUDED_LABEL,),
            ),
            "spaces": Holding(
                C,
                "Spaces cannot read an upload's metadata",
                covered_by=("the uploader excludes unsure; the retention job deletes any after unsureExpiryDays")
                + QUARANTINED,
            ),
            "b2": Holding(
                C,
                "B2 cannot read an upload's metadata",
                covered_by=("the uploader excludes unsure; the retention job deletes any after unsureExpiryDays")
                + QUARANTINED,
            ),
        },
        gateway=Holding(
            G,
            "the gateway refuses any label but correct and changed (case-sensitive)",
            proofs=(f"{GATEWAY}test_only_correct_and_changed_labels_are_uploaded",),
        ),
        sids=(Sid.EXCLUDED_LABEL,),
        live=LIVE_CONDITION,
    ),
    Rule(
        "uploads are JPEG images whose checksum the store verified",
        ("refuse.not-jpeg",),
        held={
            "aws": Holding(
                C,
                "S3 verifies a checksum a client sends, but IAM can require neither one nor `image/jpeg`, and nothing "
                "reads an upload's first bytes",
                covered_by="the uploader sends `image/jpeg` with a SHA-256 checksum and refuses files that do not "
                "start "
                "like a JPEG",
            ),
            "r2": Holding(
                C,
                "R2 verifies a checksum a client sends, but a token cannot require one or read an upload's format",
                covered_by="the uploader sends `image/jpeg` with a SHA-256 checksum and refuses files that do not "
                "start like a JPEG",
            ),
            "gcs": Holding(
                C,
                "Cloud Storage verifies a checksum a client sends, but IAM can require neither one nor `image/jpeg`",
                covered_by="the uploader sends `image/jpeg` with a SHA-256 checksum and refuses files that do not "
                "start "
                "like a JPEG",
            ),
            "minio": Holding(
                C,
                "MinIO verifies a checksum a client sends, but its policies can require neither one nor `image/jpeg`",
                covered_by="the uploader sends `image/jpeg` with a SHA-256 checksum and refuses files that do not "
                "start like a JPEG",
            ),
            "spaces": Holding(
                C,
                "Spaces verifies a checksum a client sends, but a key can require neither one nor `image/jpeg`",
                covered_by="the uploader sends `image/jpeg` with a SHA-256 checksum and refuses files that do not "
                "start like a JPEG",
            ),
            "b2": Holding(
                C,
                "B2 verifies a checksum a client sends, but a key can require neither one nor `image/jpeg`",
                covered_by="the uploader sends `image/jpeg` with a SHA-256 checksum and refuses files that do not "
                "start like a JPEG",
            ),
        },
        gateway=Holding(
            G,
            "the gateway refuses a Content-Type other than `image/jpeg`, a body that does not start "
            "like a JPEG, an upload without a SHA-256 checksum or whose checksum or declared `content-sha256` differs "
            "from the body, and images above its 32 MiB limit",
            proofs=(
                f"{GATEWAY}test_a_body_that_is_not_a_jpeg_is_refused",
                f"{GATEWAY}test_a_checksum_that_does_not_match_the_image_is_refused",
                f"{GATEWAY}test_images_above_the_size_limit_are_refused",
                f"{GATEWAY}test_only_image_jpeg_is_accepted_as_content_type",
            ),
        ),
        live="nothing: AWS cannot hold it",
    ),
    Rule(
        "a city uploads only as itself",
        ("refuse.other-city",),
        held={
            "aws": Holding(
                S,
                "city_id tag must equal the uploader's principal tag; a city user without the tag can do nothing",
                proofs=(
                    f"{IAM}test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators",
                    f"{IAM}test_a_city_user_without_its_city_tag_cannot_upload",
                ),
            ),
            "r2": Holding(
                N,
                "a city token can write any metadata",
                covered_by="one token per city (revocable); Command Centre-minted temporary credentials per batch "
                "would bind uploads",
            ),
            "gcs": Holding(
                N,
                "a city's service account can write any metadata",
                covered_by="one service account and HMAC key per city (revocable), named by Cloud Audit Logs for each "
                "upload once data-access logs are on",
            ),
            "minio": Holding(
                S,
                "each city is its own MinIO user whose policy allows uploads tagged with its own city_id only and "
                "refuses any other",
                proofs=(f"{MINIO}test_a_city_uploads_only_as_itself",),
                sids=(Sid.UPLOAD_AS_OTHER_CITY,),
            ),
            "spaces": Holding(
                N,
                "a Spaces key can write any metadata",
                covered_by="cities hold gateway keys alone, and the gateway binds each upload to its key's city",
                proofs=(f"{SPACES}test_cities_hold_gateway_keys_and_no_spaces_key",),
            ),
            "b2": Holding(
                N,
                "a B2 key can write any file info",
                covered_by="cities hold gateway keys alone, and the gateway binds each upload to its key's city",
                proofs=(f"{B2}test_cities_hold_gateway_keys_and_no_b2_key",),
            ),
        },
        gateway=Holding(
            G,
            "`city-id` must be the city whose gateway key signed the upload (SigV4 with a per-city "
            "secret, checked by a maintained signer); a revoked key is refused at once, with no redeploy",
            proofs=(
                f"{GATEWAY}test_a_city_cannot_upload_as_another_city",
                f"{GATEWAY}test_a_signed_header_changed_in_transit_is_refused",
                f"{GATEWAY}test_a_revoked_city_key_is_refused_without_redeploying",
            ),
        ),
        sids=(Sid.UPLOAD_AS_OTHER_CITY, Sid.CITY_WITHOUT_CITY_TAG),
        live=LIVE_CONDITION,
    ),
    Rule(
        "labels are immutable",
        ("refuse.tag-rewrite",),
        held={
            "aws": Holding(
                S,
                "bucket policy denies every tag rewrite of a stored object",
                proofs=(f"{IAM}test_labels_are_immutable_no_tag_rewrite_or_lock_change_for_anyone",),
            ),
            "r2": Holding(
                C,
                "R2 has no tags; metadata changes need an overwrite, refused only while the object is locked",
                covered_by="clients never rewrite; a correction is a new object",
            ),
            "gcs": Holding(
                S,
                "no tier holds storage.objects.update, so nobody changes a stored object's metadata (Cloud Storage "
                "has no tags)",
                unprobed={"refuse.tag-rewrite": GCS_NO_TAGS},
                proofs=(f"{GCS_IAM}test_no_tier_may_change_a_stored_objects_metadata",),
                policies=("gcs-tier-roles-least-privilege",),
            ),
            "minio": Holding(
                S,
                "every tag action, PutObjectTagging included, is refused to every tier: MinIO authorises a tagged "
                "upload as PutObject alone, so no upload needs one",
                proofs=(f"{MINIO}test_every_tier_policy_carries_the_guards_minio_evaluates",),
                sids=(Sid.TAG_REWRITE,),
            ),
            "spaces": Holding(
                C,
                "the store uses no tags on Spaces; changing metadata needs an overwrite, whose old version "
                "versioning keeps",
                covered_by="clients never rewrite; a correction is a new object",
            ),
            "b2": Holding(
                S,
                "B2 cannot change a stored file's info (a copy is a new version) and has no tags",
                unprobed={"refuse.tag-rewrite": "B2 has no object tags"},
                proofs=(
                    "tests/test_b2_access.py::test_in_b2s_simulator_a_stored_files_labels_cannot_be_changed_only_"
                    "copied_to_a_new_version",
                ),
            ),
        },
        sids=(Sid.TAG_REWRITE, Sid.RETAG_STORED_OBJECT),
        live="a standalone PutObjectTagging on the probe object refused (the verifier's retag probe)",
    ),
    Rule(
        "lifecycle by label: archive, expire `unsure`, retain `correct`, keep `changed`",
        ("config.lifecycle",),
        held={
            "aws": Holding(
                S,
                "lifecycle rules filtered by the label tag; an upload choosing its own storage class is refused",
                proofs=(
                    "tests/test_lifecycle.py::test_unsure_objects_expire_after_30_days",
                    "tests/test_lifecycle.py::test_changed_objects_are_archived_and_never_expire",
                    f"{IAM}test_every_upload_header_left_out_changed_or_added_is_judged_as_the_contract_says",
                ),
                policies=("s3-lifecycle-follows-contract", "s3-image-buckets-have-lifecycle"),
            ),
            "r2": Holding(
                C,
                "R2 lifecycle is prefix-only and R2 has no tags: archiving by age is declared, expiry by label is not",
                covered_by="the metadata-driven retention job expires `unsure` and `correct` from each object's "
                "metadata",
            ),
            "gcs": Holding(
                C,
                "lifecycle conditions cannot read metadata: archiving by age, noncurrent expiry and incomplete "
                "uploads are declared, expiry by label is not",
                covered_by="the metadata-driven retention job expires `unsure` and `correct` from each object's "
                "metadata",
                proofs=(f"{GCS_TEST}test_gcs_lifecycle_archives_by_age_and_expires_noncurrent_versions",),
                policies=("gcs-lifecycle-follows-contract",),
            ),
            "minio": Holding(
                C,
                "lifecycle rules filtered by the label tag expire `unsure` and `correct` and keep `changed`, but "
                "pulumi-minio 0.17.1 declares no transitions, so nothing is archived; an upload choosing its storage "
                "class is refused",
                covered_by="objects stay in MinIO's one storage class, readable by the training tier; a tier added "
                "with `mc ilm tier add` and a transition rule archive them, by hand",
                proofs=(f"{MINIO}test_the_lifecycle_expires_by_label",),
                policies=("minio-lifecycle-follows-contract",),
                sids=(Sid.STORAGE_CLASS,),
            ),
            "spaces": Holding(
                C,
                "Spaces lifecycle is by age and prefix: noncurrent versions and incomplete uploads are declared, "
                "expiry by label is not, and Spaces has no colder class to archive to",
                covered_by="the metadata-driven retention job expires `unsure` and `correct` from each object's "
                "metadata",
                proofs=(f"{SPACES}test_the_bucket_is_versioned_and_keeps_noncurrent_versions",),
                policies=("spaces-lifecycle-follows-contract",),
            ),
            "b2": Holding(
                C,
                "B2 lifecycle selects by name prefix: deleting hidden versions is declared, expiry by label is not, "
                "and B2 has no colder class to archive to",
                covered_by="the metadata-driven retention job expires `unsure` and `correct` from each object's "
                "metadata",
                proofs=(f"{B2}test_the_lifecycle_deletes_only_hidden_versions",),
                policies=("b2-lifecycle-follows-contract",),
            ),
        },
        sids=(Sid.STORAGE_CLASS,),
        lifecycle=(
            "archive-then-expire-correct",
            "archive-and-keep-changed",
            "expire-unsure",
            "expire-probe-objects",
        ),
        live="the rules read back; that S3 runs them takes days and is not probed",
    ),
    Rule(
        "city clients are upload-only",
        ("tier.city.GetObject", "tier.city.ListObjectsV2", "tier.city.GetObjectTagging", "tier.city.DeleteObject"),
        held={
            "aws": Holding(
                S,
                "group policy grants only create-only, tagged PutObject; bucket policy denies the rest",
                proofs=(f"{IAM}test_each_tier_may_do_exactly_its_contract_operations",),
                policies=("iam-city-tier-upload-only",),
            ),
            "r2": Holding(
                N,
                "R2 has no write-only permission: a city token reads, lists and writes (deletes only once unlocked)",
                covered_by="R2 temporary credentials restricted to upload, minted by the Command Centre per batch (the "
                "closest R2 offers)",
            ),
            "gcs": Holding(
                S,
                "the city role holds storage.objects.create only: no read, list or delete",
                unprobed={"tier.city.GetObjectTagging": GCS_NO_TAGS},
                proofs=(f"{GCS_IAM}test_each_gcs_tier_may_do_exactly_its_contract_operations",),
                policies=("gcs-tier-roles-least-privilege",),
            ),
            "minio": Holding(
                S,
                "a city user's policy allows only a tagged PutObject and refuses every other action on the bucket",
                proofs=(f"{MINIO}test_each_tier_may_do_exactly_its_operations",),
                policies=("minio-tier-policies-carry-guards",),
                sids=(Sid.CITY_TIER,),
            ),
            "spaces": Holding(
                N,
                "Spaces has no write-only key: a read-write key reads, lists and deletes too",
                covered_by="the store gives cities gateway keys and no Spaces key (the gateway fronts Spaces always)",
                proofs=(f"{SPACES}test_cities_hold_gateway_keys_and_no_spaces_key",),
            ),
            "b2": Holding(
                N,
                "writeFiles also hides files (b2_hide_file, and S3's DeleteObject by name): no B2 key is upload-only",
                covered_by="the store gives cities gateway keys and no B2 key (the gateway fronts B2 always)",
                proofs=(f"{B2}test_cities_hold_gateway_keys_and_no_b2_key",),
            ),
        },
        gateway=Holding(
            G,
            "cities hold gateway keys and no storage credential; the gateway accepts one operation, "
            "PutObject into the store's bucket, and refuses every other",
            proofs=(f"{GATEWAY}test_city_tier_cannot_do_anything_but_upload",),
        ),
        sids=(Sid.CITY_TIER,),
        live="each operation answered as the tier says, with the probe city's key",
    ),
    Rule(
        "the training pipeline is read-only",
        (
            "tier.training.GetObject",
            "tier.training.GetObjectTagging",
            "tier.training.ListObjectsV2",
            "tier.training.ListObjectVersions",
            "tier.training.PutObject",
            "tier.training.DeleteObject",
        ),
        held={
            "aws": Holding(
                S,
                "role policy grants read and list; bucket policy denies the rest",
                proofs=(f"{IAM}test_each_tier_may_do_exactly_its_contract_operations",),
                policies=("iam-tier-roles-least-privilege",),
            ),
            "r2": Holding(
                S,
                "an Object Read token scoped to the bucket",
                unprobed={"tier.training.GetObjectTagging": NO_TAGS, "tier.training.ListObjectVersions": NO_VERSIONS},
            ),
            "gcs": Holding(
                S,
                "a custom role with storage.objects.get and storage.objects.list only; on Cloud Storage these also "
                "list and read noncurrent generations, which the contract's training tier may not (see GDPR erasure)",
                unprobed={
                    "tier.training.GetObjectTagging": GCS_NO_TAGS,
                    "tier.training.ListObjectVersions": GCS_GENERATIONS,
                },
                proofs=(f"{GCS_IAM}test_each_gcs_tier_may_do_exactly_its_contract_operations",),
                policies=("gcs-tier-roles-least-privilege",),
            ),
            "minio": Holding(
                S,
                "the training user's policy allows read and list and refuses the rest; MinIO also answers a "
                "version listing to whoever may list the bucket (its s3:ListBucket fallback) and authorises reading "
                "a version as s3:GetObject, so the training tier sees noncurrent versions, which on AWS it does not",
                gaps={
                    "tier.training.ListObjectVersions": "MinIO answers a version listing to whoever may list the "
                    "bucket (its s3:ListBucket fallback, cmd/auth-handler.go); covered by: erasure deletes every "
                    "version, so the training tier never lists or reads an erased image"
                },
                proofs=(f"{MINIO}test_each_tier_may_do_exactly_its_operations",),
                policies=("minio-tier-policies-carry-guards",),
                sids=(Sid.TRAINING_TIER,),
            ),
            "spaces": Holding(
                S,
                "a read key scoped to the bucket",
                unprobed={
                    "tier.training.GetObjectTagging": "the store uses no tags on Spaces",
                    "tier.training.ListObjectVersions": "what a Spaces read key may do with versions is not "
                    "documented; probe on the first live run",
                },
                proofs=(f"{SPACES}test_the_training_key_only_reads",),
                policies=("spaces-keys-bucket-scoped",),
            ),
            "b2": Holding(
                S,
                "a key with listFiles and readFiles, scoped to the bucket",
                unprobed={"tier.training.GetObjectTagging": "B2 has no object tags"},
                gaps={
                    "tier.training.ListObjectVersions": "B2's listFiles lists versions as well as files, so the "
                    "training key lists versions; covered by: readFiles reads only what the Command Centre has not "
                    "erased, and erasure deletes every version"
                },
                proofs=(f"{B2}test_each_tier_key_holds_exactly_its_capabilities",),
                policies=("b2-keys-bucket-scoped",),
            ),
        },
        sids=(Sid.TRAINING_TIER,),
        live="each operation answered as the tier says, with the training role",
    ),
    Rule(
        "the Command Centre reads, lists and writes",
        (
            "tier.command-centre.GetObject",
            "tier.command-centre.GetObjectTagging",
            "tier.command-centre.ListObjectsV2",
            "tier.command-centre.ListObjectVersions",
            "tier.command-centre.PutObject",
        ),
        held={
            "aws": Holding(
                S,
                "role policy; bucket policy denies what the tier must not do",
                proofs=(f"{IAM}test_each_tier_may_do_exactly_its_contract_operations",),
                policies=("iam-tier-roles-least-privilege", "iam-no-wildcard-s3-grants"),
            ),
            "r2": Holding(
                S,
                "an Object Read & Write token scoped to the bucket",
                unprobed={
                    "tier.command-centre.GetObjectTagging": NO_TAGS,
                    "tier.command-centre.ListObjectVersions": NO_VERSIONS,
                },
            ),
            "gcs": Holding(
                S,
                "a custom role with storage.objects.get, list, create and delete",
                unprobed={
                    "tier.command-centre.GetObjectTagging": GCS_NO_TAGS,
                    "tier.command-centre.ListObjectVersions": GCS_GENERATIONS,
                },
                proofs=(f"{GCS_IAM}test_each_gcs_tier_may_do_exactly_its_contract_operations",),
                policies=("gcs-tier-roles-least-privilege",),
            ),
            "minio": Holding(
                S,
                "the Command Centre user's policy allows its operations and refuses the rest",
                proofs=(f"{MINIO}test_each_tier_may_do_exactly_its_operations",),
                policies=("minio-tier-policies-carry-guards",),
                sids=(Sid.COMMAND_CENTRE_TIER,),
            ),
            "spaces": Holding(
                S,
                "a read-write key scoped to the bucket",
                unprobed={"tier.command-centre.GetObjectTagging": "the store uses no tags on Spaces"},
                proofs=(f"{SPACES}test_the_bucket_is_private_and_no_key_reaches_beyond_it",),
                policies=("spaces-keys-bucket-scoped",),
            ),
            "b2": Holding(
                S,
                "a key with listFiles, readFiles, readFileRetentions, writeFiles, deleteFiles and bypassGovernance, "
                "scoped to the bucket",
                unprobed={"tier.command-centre.GetObjectTagging": "B2 has no object tags"},
                proofs=(f"{B2}test_each_tier_key_holds_exactly_its_capabilities",),
                policies=("b2-keys-bucket-scoped",),
            ),
        },
        sids=(Sid.COMMAND_CENTRE_TIER,),
        live="each operation answered as the tier says, with the Command Centre role",
    ),
    Rule(
        "GDPR erasure by the Command Centre at any time",
        ("tier.command-centre.DeleteObjectVersion",),
        held={
            "aws": Holding(
                S,
                "only the Command Centre deletes, every version, bypassing GOVERNANCE retention",
                proofs=(f"{IAM}test_only_the_command_centre_erases_and_may_bypass_governance_retention",),
            ),
            "r2": Holding(
                N,
                "R2's bucket lock cannot be bypassed: erasure waits until the object is older than the lock",
                covered_by="the lock lasts unsureExpiryDays (30 by default), inside GDPR's one-month deadline; erase "
                "when it ends",
            ),
            "gcs": Holding(
                S,
                "only the Command Centre holds storage.objects.delete and no retention blocks it; an erased image's "
                "bytes are purged after noncurrentVersionExpiryDays plus gcsSoftDeleteDays, at most 30 days together "
                "(the settings refuse more); until lifecycle removes its noncurrent generation, the training and "
                "Command "
                "Centre tiers can still read it (the clients delete live objects only, not generations)",
                unprobed={"tier.command-centre.DeleteObjectVersion": GCS_GENERATIONS},
                proofs=(
                    f"{GCS_IAM}test_only_the_command_centre_may_delete",
                    f"{GCS_TEST}test_gcs_erasure_completes_within_a_month",
                ),
            ),
            "minio": Holding(
                S,
                "only the Command Centre's policy allows deleting, every version; no default retention blocks it "
                "(see the lock rule)",
                proofs=(f"{MINIO}test_only_the_command_centre_deletes",),
                sids=(Sid.DELETE,),
            ),
            "spaces": Holding(
                S,
                "the Command Centre's read-write key deletes every version, and Spaces has no lock to block it",
                proofs=(f"{SPACES}test_only_the_command_centre_and_the_gateway_hold_write_keys",),
            ),
            "b2": Holding(
                S,
                "only the Command Centre's key holds deleteFiles and bypassGovernance: it deletes every version, "
                "inside the governance lock too",
                proofs=(f"{B2}test_each_tier_key_holds_exactly_its_capabilities",),
            ),
        },
        sids=(Sid.DELETE,),
        live="every version of a probe object erased by the Command Centre",
    ),
    Rule(
        "only named administrators reconfigure or shred the store",
        (),
        held={
            "aws": Holding(
                S,
                "with `configurationAdministrators` (on in prod): bucket configuration and key administration "
                "denied to all others; the account root can always recover",
                proofs=(
                    f"{IAM}test_only_configuration_administrators_and_the_root_change_the_bucket_configuration",
                    f"{IAM}test_only_configuration_administrators_and_the_root_delete_or_re_police_the_key",
                ),
            ),
            "r2": Holding(
                N,
                "R2 has no bucket policies: whoever holds an account token with R2 admin rights can",
                covered_by="keep Cloudflare API tokens with R2 admin rights to the deploy pipeline",
            ),
            "gcs": Holding(
                N,
                "Cloud Storage has no bucket policy to deny project IAM: whoever holds storage.buckets.update or "
                "Cloud KMS admin on the project can",
                covered_by="keep Storage Admin and Cloud KMS Admin on the project to the deploy pipeline",
            ),
            "minio": Holding(
                N,
                "MinIO's root user and users holding admin policies change any configuration; no policy binds them",
                covered_by="keep the MinIO root and admin credentials to the deploy pipeline; every tier's policy "
                "refuses all but its operations",
            ),
            "spaces": Holding(
                N,
                "whoever holds a DigitalOcean token with Spaces access or a full-access Spaces key can",
                covered_by="keep DigitalOcean tokens and full-access keys to the deploy pipeline (the program creates "
                "none)",
                policies=("spaces-keys-bucket-scoped",),
            ),
            "b2": Holding(
                N,
                "whoever holds the account's master key or a key with writeBuckets can",
                covered_by="keep the master key and bucket-admin keys to the deploy pipeline (the program creates "
                "none)",
                policies=("b2-keys-bucket-scoped",),
            ),
        },
        sids=(Sid.CONFIGURATION_CHANGE,),
        live="not probed (it would need an administrator's credentials): Access Analyzer checks the documents in PRs",
    ),
    Rule(
        "replication for disaster recovery",
        ("config.replication", "replication.arrives"),
        held={
            "aws": Holding(
                S,
                "cross-region replication, KMS-encrypted and tagged, to a replica only replication writes",
                proofs=(
                    f"{IAM}test_replication_is_assumable_only_by_s3_for_this_bucket",
                    f"{IAM}test_the_replica_is_written_only_by_replication_and_erased_only_by_the_command_centre",
                ),
                policies=("s3-replication-where-required",),
            ),
            "r2": Holding(
                N,
                "R2 has no replication",
                covered_by="a scheduled copy to a second bucket (not part of this project yet)",
            ),
            "gcs": Holding(
                S,
                "a predefined dual-region bucket (EUR4 or NAM4) keeps every object in two regions, with turbo "
                "replication (a 15-minute RPO target) by default",
                unprobed={
                    "config.replication": XML_CONFIG,
                    "replication.arrives": "Cloud Storage places the second copy itself: there is no replica bucket to "
                    "read",
                },
                proofs=(f"{GCS_TEST}test_gcs_bucket_is_dual_region_with_turbo_replication",),
                policies=("gcs-bucket-dual-region",),
            ),
            "minio": Holding(
                N,
                "pulumi-minio 0.17.1 declares no replication",
                covered_by="MinIO site replication to a second deployment, set up with `mc admin replicate add` "
                "(docs/s3-compatible.md; not part of this project yet)",
            ),
            "spaces": Holding(
                N,
                "Spaces has no replication",
                covered_by="a scheduled copy to a bucket in a second region (not part of this project yet)",
            ),
            "b2": Holding(
                N,
                "the project's B2 provider declares no replication",
                covered_by="B2 Cloud Replication to a bucket in another region, set in Backblaze's console (not part "
                "of this project yet)",
            ),
        },
        live="the probe object arriving in the replica (`--wait-replication`)",
    ),
    Rule(
        "one bucket policy carries every guard",
        ("config.bucket-policy-guards",),
        held={
            "aws": Holding(
                S,
                "one bucket policy, each guard a Deny with a stable Sid",
                proofs=("tests/test_bucket_policy.py::test_guard_sids_are_stable",),
                policies=("s3-learning-bucket-policy-guards", "s3-every-bucket-has-one-bucket-policy"),
            ),
            "r2": Holding(N, "R2 has no bucket policies", covered_by="each guard's own row says what covers it on R2"),
            "gcs": Holding(
                N, "Cloud Storage has no bucket policies", covered_by="each guard's own row says what covers it on GCS"
            ),
            "minio": Holding(
                N,
                "MinIO's bucket policy binds anonymous requests only",
                covered_by="every tier's own policy carries each guard MinIO evaluates, under the same Sids",
                proofs=(f"{MINIO}test_every_tier_policy_carries_the_guards_minio_evaluates",),
                policies=("minio-tier-policies-carry-guards",),
            ),
            "spaces": Holding(
                N,
                "the program declares no Spaces bucket policy: which conditions Spaces evaluates is not documented",
                covered_by="each guard's own row says what covers it on Spaces; the gateway holds the upload guards",
            ),
            "b2": Holding(
                N,
                "B2 has no bucket policies",
                covered_by="each guard's own row says what covers it on B2; the gateway holds the upload guards",
            ),
        },
        live="the deployed policy read back with every Sid of this catalogue",
    ),
    Rule(
        "every stored image is registered in learning_samples, every erased one marked",
        ("registration.registered", "registration.erased"),
        held={
            "aws": Holding(
                S,
                "S3 Event Notifications to a KMS-encrypted SQS queue with a dead-letter queue; "
                "learning-images-register writes one row per object (unique reference) and marks a removed one erased",
                proofs=(
                    f"{REGISTER}test_every_uploaded_image_is_registered_once_and_trainable",
                    f"{REGISTER}test_an_erased_object_marks_its_row_erased",
                    f"{REGISTRATION_SOURCE}test_the_bucket_notifies_creations_removals_and_expirations_once_the_queue_"
                    "accepts_them",
                ),
                policies=(
                    "sqs-queues-encrypted-with-customer-key",
                    "sqs-sender-scoped-to-bucket",
                    "s3-event-queues-have-dead-letter-queue",
                ),
            ),
            "r2": Holding(
                S,
                "an R2 event-notification rule to a Cloudflare Queue with an HTTP pull consumer and a dead-letter "
                "queue; learning-images-register pulls it with its own token (object read on the bucket, and the "
                "account's Queues groups: Cloudflare scopes Queues permissions to the account, not to one queue)",
                proofs=(
                    f"{REGISTRATION_R2}test_the_bucket_sends_every_creation_and_removal_to_the_events_queue_once_it_"
                    "has_a_consumer",
                    f"{REGISTRATION_R2}test_the_queue_is_pulled_over_http_and_dead_letters_after_its_retries",
                    f"{REGISTRATION_PULL}test_the_receiver_registers_an_r2_batch_from_cloudflare_queues",
                ),
                policies=("r2-event-queues-have-dead-letter-queue", "r2-tokens-bucket-scoped"),
            ),
            "gcs": Holding(
                S,
                "a JSON_API_V1 bucket notification to a Pub/Sub topic only Cloud Storage's agent publishes to, a pull "
                "subscription with a dead-letter topic; learning-images-register pulls it as its own service account",
                proofs=(
                    f"{REGISTRATION_GCS}test_the_bucket_notifies_creations_and_removals_once_the_storage_agent_may_"
                    "publish",
                    f"{REGISTRATION_GCS}test_a_failing_event_moves_to_a_dead_letter_topic_that_keeps_it",
                    f"{REGISTRATION_PUBSUB}test_the_receiver_registers_a_gcs_batch_from_pubsub",
                ),
                policies=("pubsub-event-subscriptions-have-dead-letter-topic", "pubsub-event-topic-publishers-scoped"),
            ),
            "minio": Holding(
                S,
                "a bucket notification of every object created or removed to the server's PostgreSQL target, which "
                "appends each event to the learning store's object_events table; learning-images-register leases "
                "rows (FOR UPDATE SKIP LOCKED), deletes them once registered and moves a row that keeps failing to "
                "object_events_dead_letter, reading objects as its own user",
                proofs=(
                    f"{MINIO}test_the_bucket_notifies_every_creation_and_removal_to_the_servers_postgresql_target",
                    f"{MINIO}test_the_receiver_reads_objects_and_their_tags_and_nothing_else",
                    f"{REGISTRATION_TABLE}test_the_receiver_registers_a_minio_batch_from_the_events_table",
                    f"{REGISTRATION_TABLE}test_a_minio_erasure_marks_the_row_erased",
                    f"{REGISTRATION_TABLE}test_a_leased_row_is_exclusive_until_acknowledged_or_released",
                    f"{REGISTRATION_TABLE}test_a_row_that_keeps_failing_moves_to_the_dead_letters_with_its_reason",
                ),
                policies=("minio-events-reach-the-receiver",),
            ),
            "spaces": Holding(
                N,
                "Spaces has no object events",
                covered_by="learning-images-reconcile lists the bucket and registers what it finds",
            ),
            "b2": Holding(
                S,
                "the bucket's event-notification rule POSTs every object created, deleted or hidden, signed "
                "(HMAC-SHA256), to the upload gateway's webhook, which checks the signature and queues the events "
                "on a Cloudflare Queue with an HTTP pull consumer and a dead-letter queue; learning-images-register "
                "pulls it with its own token and reads objects with its own readFiles key",
                proofs=(
                    f"{B2}test_the_bucket_notifies_every_event_signed_to_the_gateways_webhook",
                    f"{B2}test_the_gateway_queues_events_where_the_receiver_pulls_them",
                    f"{B2_PROVIDER}test_the_notification_rule_b2_holds_is_the_one_declared_signed_to_the_gateway",
                    f"{GATEWAY_EVENTS}test_a_signed_delivery_has_every_event_queued_one_message_each",
                    f"{VERIFY_FRONTED}test_a_gateway_fronted_stack_registers_through_its_event_source",
                ),
                policies=("b2-events-reach-the-gateway", "b2-gateway-queues-events-for-a-consumer"),
            ),
        },
        live="that the service delivers the bucket's events (S3 to the encrypted queue, its key policy letting S3 "
        "use the key; R2 to its queue; Cloud Storage to its topic; MinIO's target to the learning store's table; "
        "B2 to the gateway's webhook, a feature Backblaze may have to enable for the account) and the receiver "
        "registers the probe within the bound",
    ),
)


def learning_bucket_sids(*, administrators: bool) -> frozenset[str]:
    """The Sids the learning bucket's policy must carry: every rule's, and the configuration
    guard only where ``configurationAdministrators`` is set."""
    sids = {sid for rule in RULES for sid in rule.sids}
    if not administrators:
        sids.discard(Sid.CONFIGURATION_CHANGE)
    return frozenset(sids)


def tier_policy_sids(backend: str) -> frozenset[str]:
    """The guards every tier's own policy carries on ``backend`` (its holdings' ``sids``; empty
    where the guards live in a bucket policy, or nowhere)."""
    return frozenset(sid for rule in RULES for sid in rule.held[backend].sids)


def _rule_of(check: str) -> Rule | None:
    return next((rule for rule in RULES if check in rule.checks), None)


def enforcement(backend: str, check: str, *, gateway: bool = False) -> Enforcement | None:
    """Who holds the rule ``check`` belongs to on ``backend``, or None for a check of no rule."""
    rule = _rule_of(check)
    return rule.holding(backend, gateway=gateway).enforcement if rule else None


def treatment(backend: str, check: str, *, gateway: bool = False) -> tuple[str, str] | None:
    """How the verifier reports ``check`` on ``backend`` (with its upload gateway, where
    ``gateway``): ("GAP", why) where nothing enforces the rule (a gap is never a PASS), ("SKIP",
    why) where the API cannot answer the check, or None to report what the probe saw, whether the
    storage or the gateway holds the rule."""
    rule = _rule_of(check)
    if rule is None:
        return None
    held = rule.holding(backend, gateway=gateway)
    if check in held.unprobed:
        return "SKIP", held.unprobed[check]
    if check in held.gaps:
        return "GAP", held.gaps[check]
    if held.enforcement not in (Enforcement.STORAGE, Enforcement.GATEWAY):
        # What covers a gap is the backend's own (the gateway closes gaps, it has none of its own).
        return "GAP", f"{held.how}; covered by: {rule.held[backend].covered_by}"
    return None


def all_checks() -> list[str]:
    return [check for rule in RULES for check in rule.checks]
