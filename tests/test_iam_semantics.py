"""Every shipped AWS stack under real IAM semantics: each rendered policy judged by an
independent evaluator (``@cloud-copilot/iam-simulate``), request by request.

moto ignores every IAM ``Condition``, so nothing else in the offline suite proves a rule that
rests on one. Here each request is evaluated as every action S3 authorises it as
(``learning_images.sandbox.s3_authorization``), against the identity policies of the caller, the bucket policy
and, for SSE-KMS, the key policy. Compliant requests are the project's own clients' requests
(captured from botocore); every violation is one change to one of them. A failure names the
stack, the scenario, each action and the statements that decided it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from learning_images import contract
from learning_images.rules import OBJECT_LOCK_KEYS
from learning_images.sandbox.iam_simulator import Check, Evaluator, Principal, iam_simulator_pool
from tests.support.iam_scenarios import (
    ACCOUNT,
    KEY,
    PUT_OBJECT_HEADERS,
    Scenario,
    Store,
    capture,
    capturing_client,
    evaluate,
    failures,
    header_scenarios,
    operation_request,
    put_object_header_shapes,
    store_of,
    tags_of,
    uploader_request,
    verifier_request,
    with_headers,
    with_key,
    with_tags,
)
from tests.support.stack import Graph, policy_of

#: The shipped AWS stacks, and prod with certificate-based cities (tests/conftest.py CERTIFICATES).
#: `local` is the emulator stack, judged by the sandbox tests.
STACKS = ("dev", "prod", "certificates")


@pytest.fixture(scope="module")
def simulator() -> Iterator[Evaluator]:
    # One process that remembers: the tests here repeat many identical simulations (a compliant
    # upload is every violation's base), and the evaluator is a pure function of its input.
    with iam_simulator_pool(1) as running:
        yield running


@pytest.fixture(scope="module", params=STACKS)
def store(request: pytest.FixtureRequest) -> Store:
    graph: Graph = request.getfixturevalue(request.param)
    return store_of(request.param, graph)


def assert_all(simulator: Evaluator, store: Store, scenarios: list[Scenario]) -> None:
    assert scenarios, "no scenario was generated"
    outcomes = evaluate(simulator, store, scenarios)
    wrong = failures(outcomes, store.stack)
    assert not wrong, f"{len(wrong.splitlines())} lines of wrong decisions:\n{wrong}"


def uploaders(store: Store) -> list[str]:
    return [*(f"city:{c}" for c in store.city_ids), "command-centre"]


def own_city(store: Store, principal: str) -> str:
    """The city an uploader's compliant upload names (the Command Centre uploads for any city)."""
    return principal.removeprefix("city:") if principal.startswith("city:") else store.city_ids[0]


# --- compliant requests are allowed ---------------------------------------------------------------


def test_every_city_and_the_command_centre_can_upload_compliant_samples(simulator: Evaluator, store: Store) -> None:
    scenarios = [
        Scenario(
            f"the uploader's request, {label.value}",
            principal,
            uploader_request(store, own_city(store, principal), label),
            allowed=True,
        )
        for principal in uploaders(store)
        for label in contract.UPLOAD_LABELS
    ]
    scenarios.append(
        Scenario("the verifier's probe upload", f"city:{contract.PROBE_CITY_ID}", verifier_request(store), True)
    )
    assert_all(simulator, store, scenarios)


# --- every single violation of an upload is refused ----------------------------------------------


def upload_violations(store: Store, principal: str) -> list[Scenario]:
    base = uploader_request(store, own_city(store, principal), contract.Label.CORRECT)
    tags = tags_of(base)
    other_key = f"arn:aws:kms:{store.region}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    uuid = KEY.removesuffix(".jpg")
    changed: list[tuple[str, object]] = []
    for field in contract.METADATA_FIELDS:
        changed.append((f"no {field} tag", with_tags(base, {k: v for k, v in tags.items() if k != field})))
        changed.append((f"blank {field} tag", with_tags(base, {**tags, field: ""})))
    changed += [
        ("a tag outside the contract", with_tags(base, {**tags, "owner": "someone"})),
        ("label unsure", with_tags(base, {**tags, contract.LABEL_STATUS: contract.Label.UNSURE.value})),
        ("label in another case", with_tags(base, {**tags, contract.LABEL_STATUS: "Correct"})),
        ("no If-None-Match", with_headers(base, if_none_match=None)),
        ("If-None-Match naming an ETag", with_headers(base, if_none_match='"0123456789abcdef"')),
        ("SSE-S3", with_headers(base, x_amz_server_side_encryption="AES256")),
        (
            "another KMS key",
            with_headers(
                base,
                x_amz_server_side_encryption="aws:kms",
                x_amz_server_side_encryption_aws_kms_key_id=other_key,
            ),
        ),
        (
            "SSE-C",
            with_headers(
                base,
                x_amz_server_side_encryption_customer_algorithm="AES256",
                x_amz_server_side_encryption_customer_key="a2V5",
                x_amz_server_side_encryption_customer_key_md5="bWQ1",
            ),
        ),
        ("a canned ACL", with_headers(base, x_amz_acl="public-read")),
        ("an ACL grant", with_headers(base, x_amz_grant_read="uri=http://acs.amazonaws.com/groups/global/AllUsers")),
        ("plain HTTP", replace(base, secure=False)),
        ("TLS 1.1", replace(base, tls_version="1.1")),
    ]
    lock_values = {
        "s3:object-lock-mode": "COMPLIANCE",
        "s3:object-lock-retain-until-date": "2099-01-01T00:00:00Z",
        "s3:object-lock-legal-hold": "ON",
    }
    for key in OBJECT_LOCK_KEYS:
        header = "x_amz_" + key.removeprefix("s3:").replace("-", "_")
        changed.append((f"the {key.removeprefix('s3:')} header", with_headers(base, **{header: lock_values[key]})))
    for bad_key in (
        f"{uuid}.png",
        uuid,
        f"paris/{KEY}",
        f"{uuid[:8]}/{uuid[9:]}.jpg",  # the UUID's shape with a '/' where IAM's '?' matches it
        "short.jpg",
        f"{KEY}.jpg",
        f"{KEY}/x",
    ):
        changed.append((f"key {bad_key!r}", with_key(base, bad_key)))
    if principal.startswith("city:"):
        changed.append(("another city's city_id", with_tags(base, {**tags, contract.CITY_ID: "another-city"})))
    s3 = capturing_client(store.region)
    copy = capture(
        lambda: s3.copy_object(
            Bucket=store.bucket,
            Key=KEY,
            CopySource={"Bucket": store.bucket, "Key": "11111111-2222-3333-4444-555555555555.jpg"},
            Tagging=base.header("x-amz-tagging") or "",
            TaggingDirective="REPLACE",
        )
    )
    changed.append(("a copy into the bucket", with_headers(copy, if_none_match="*")))
    for step in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        changed.append((f"multipart: {step}", operation_request(store, step)))
    return [Scenario(f"upload with {what}", principal, request, allowed=False) for what, request in changed]  # type: ignore[arg-type]


def test_every_single_upload_violation_is_refused_to_cities_the_command_centre_and_administrators(
    simulator: Evaluator, store: Store
) -> None:
    scenarios = [s for principal in uploaders(store) for s in upload_violations(store, principal)]
    scenarios += upload_violations(store, "account-admin")
    assert_all(simulator, store, scenarios)


def test_every_upload_header_left_out_changed_or_added_is_judged_as_the_contract_says(
    simulator: Evaluator, store: Store
) -> None:
    """Requests no client of ours sends, generated from the S3 API: each header of a compliant
    upload left out or given another value, and every other PutObject header of botocore's model
    added with each kind of value its shape takes. ``PUT_OBJECT_HEADERS`` says, from the contract,
    which the store must refuse and why the others may pass."""
    undecided = sorted(set(put_object_header_shapes()) - set(PUT_OBJECT_HEADERS))
    assert not undecided, f"PutObject headers the contract table does not judge yet: {undecided}"
    scenarios = []
    # One city stands for all: a header is judged by the same guards whichever city sends it (the
    # city binding itself is upload_violations' "another city's city_id").
    for principal in (f"city:{store.city_ids[0]}", "command-centre", "account-admin"):
        base = uploader_request(store, own_city(store, principal), contract.Label.CORRECT)
        scenarios += header_scenarios(store, principal, base)
        # The one compliant way to name the encryption: SSE-KMS with the store key.
        named = with_headers(
            base,
            x_amz_server_side_encryption="aws:kms",
            x_amz_server_side_encryption_aws_kms_key_id=store.key_arn,
        )
        scenarios.append(Scenario("upload naming SSE-KMS with the store key", principal, named, allowed=True))
    # An account administrator may upload compliant samples; the refusals must hold for it too.
    scenarios = [s for s in scenarios if s.principal != "account-admin" or not s.allowed]
    assert_all(simulator, store, scenarios)


def test_a_city_user_without_its_city_tag_cannot_upload(simulator: Evaluator, store: Store) -> None:
    request = uploader_request(store, store.city_ids[0], contract.Label.CORRECT)
    assert_all(simulator, store, [Scenario("the uploader's request", "untagged-city", request, allowed=False)])


# --- the tiers ------------------------------------------------------------------------------------

TIER_PRINCIPALS = {
    contract.CITY.name: None,
    contract.COMMAND_CENTRE.name: "command-centre",
    contract.TRAINING.name: "training",
}


@pytest.mark.parametrize("tier", contract.TIERS, ids=lambda t: t.name)
def test_each_tier_may_do_exactly_its_contract_operations(
    simulator: Evaluator, store: Store, tier: contract.Tier
) -> None:
    principal = TIER_PRINCIPALS[tier.name] or f"city:{store.city_ids[0]}"
    operations = [*contract.OPERATION_ACTIONS, "GetObjectVersion", "DeleteObjectVersion"]
    allowed_version_ops = {"GetObjectVersion": "s3:GetObjectVersion", "DeleteObjectVersion": "s3:DeleteObjectVersion"}
    scenarios = []
    for operation in operations:
        action = allowed_version_ops.get(operation) or contract.OPERATION_ACTIONS[operation]
        request = (
            uploader_request(store, own_city(store, principal), contract.Label.CORRECT)
            if operation == "PutObject"
            else operation_request(store, operation)
        )
        scenarios.append(Scenario(operation, principal, request, allowed=action in tier.s3_actions))
    assert_all(simulator, store, scenarios)


def test_only_the_command_centre_erases_and_may_bypass_governance_retention(simulator: Evaluator, store: Store) -> None:
    erase = operation_request(store, "EraseLockedVersion")
    scenarios = [
        Scenario("erase a locked version", who, erase, allowed=who == "command-centre")
        for who in ("command-centre", "training", f"city:{store.city_ids[0]}", "account-admin", "deployer")
    ]
    assert_all(simulator, store, scenarios)


def test_labels_are_immutable_no_tag_rewrite_or_lock_change_for_anyone(simulator: Evaluator, store: Store) -> None:
    stored = {f: "x" for f in contract.METADATA_FIELDS} | {contract.LABEL_STATUS: "correct"}
    scenarios = [
        Scenario(operation, who, operation_request(store, operation), allowed=False, existing_tags=stored)
        for operation in (
            "PutObjectTagging",
            "PutObjectVersionTagging",
            "DeleteObjectTagging",
            "PutObjectRetention",
            "PutObjectLegalHold",
        )
        for who in (*uploaders(store), "account-admin", "deployer")
    ]
    assert_all(simulator, store, scenarios)


def test_anonymous_and_other_account_callers_are_refused_everything(simulator: Evaluator, store: Store) -> None:
    upload = uploader_request(store, store.city_ids[0], contract.Label.CORRECT)
    requests = {
        "GetObject": operation_request(store, "GetObject"),
        "ListObjectsV2": operation_request(store, "ListObjectsV2"),
        "compliant upload": upload,
    }
    scenarios = [
        Scenario(name, who, request, allowed=False)
        for name, request in requests.items()
        for who in ("anonymous", "other-account")
    ]
    assert_all(simulator, store, scenarios)


# --- who may reconfigure the store ---------------------------------------------------------------

CONFIGURATION_CHANGES = (
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketLifecycleConfiguration",
    "PutBucketVersioning",
    "DeleteBucket",
)


def test_only_configuration_administrators_and_the_root_change_the_bucket_configuration(
    simulator: Evaluator, store: Store
) -> None:
    guarded = store.administrators
    scenarios = [
        Scenario(operation, who, operation_request(store, operation), allowed=who != "account-admin" or not guarded)
        for operation in CONFIGURATION_CHANGES
        for who in ("account-admin", "deployer", "break-glass", "root")
        if who != "break-glass" or guarded
    ]
    assert_all(simulator, store, scenarios)
    prod_like = store.stack in ("prod", "certificates")
    assert store.administrators == prod_like, (
        f"stack {store.stack}: the configuration guard must be on in prod (configurationAdministrators) and is "
        f"{'on' if store.administrators else 'off'}"
    )


def key_decision(simulator: Evaluator, store: Store, who: str, action: str, context: dict[str, str]) -> bool:
    return simulator.evaluate(
        store.principals[who], Check(action, store.key_arn, ACCOUNT, context), store.key_policy
    ).allowed


def test_the_store_key_is_used_only_through_s3(simulator: Evaluator, store: Store) -> None:
    via_s3 = {"kms:ViaService": f"s3.{store.region}.amazonaws.com", "kms:CallerAccount": ACCOUNT}
    assert key_decision(simulator, store, "command-centre", "kms:Decrypt", via_s3), (
        f"stack {store.stack}: the Command Centre must decrypt through S3 (GetObject of an SSE-KMS object)"
    )
    for who in ("command-centre", "account-admin"):
        assert not key_decision(simulator, store, who, "kms:Decrypt", {"kms:CallerAccount": ACCOUNT}), (
            f"stack {store.stack}: {who} decrypted with the store key outside S3 (DenyDataUseOutsideS3)"
        )


def test_only_configuration_administrators_and_the_root_delete_or_re_police_the_key(
    simulator: Evaluator, store: Store
) -> None:
    for action in ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey"):
        for who in ("deployer", "root"):
            assert key_decision(simulator, store, who, action, {}), (
                f"stack {store.stack}: {who} must keep {action} on the store key (recovery)"
            )
        admin = key_decision(simulator, store, "account-admin", action, {})
        assert admin == (not store.administrators), (
            f"stack {store.stack}: an account administrator {'may' if admin else 'may not'} {action} on the store key "
            f"(DenyKeyAdministrationExceptAdministrators {'on' if store.administrators else 'off'})"
        )


# --- trust, replica and log buckets ------------------------------------------------------------------


def test_tier_roles_are_assumable_only_by_their_configured_principals(simulator: Evaluator, store: Store) -> None:
    for role_name in ("command-centre-role", "training-role"):
        role = store.graph.named(role_name)
        trust = policy_of(role, "assumeRolePolicy")
        check = Check("sts:AssumeRole", role.outputs["arn"], ACCOUNT, {})
        configured = trust["Statement"][0]["Principal"]["AWS"]
        configured = configured if isinstance(configured, list) else [configured]
        insider = store.principals["account-admin"]
        expected_insider = any(p.endswith(":root") or p == insider.arn for p in configured)
        assert simulator.evaluate(insider, check, trust).allowed == expected_insider, (
            f"stack {store.stack}: {role.urn}: an account administrator's AssumeRole is "
            f"{'refused' if expected_insider else 'allowed'} by trust {configured}"
        )
        assert not simulator.evaluate(store.principals["other-account"], check, trust).allowed, (
            f"stack {store.stack}: {role.urn}: another account may assume the {role_name}"
        )


def test_replication_is_assumable_only_by_s3_for_this_bucket(simulator: Evaluator, store: Store) -> None:
    if not store.graph.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        pytest.skip(f"stack {store.stack} does not replicate")
    role = store.graph.named("replication-role")
    trust = policy_of(role, "assumeRolePolicy")
    s3 = Principal("S3", "s3.amazonaws.com")
    for source, allowed in ((store.bucket_arn, True), ("arn:aws:s3:::someone-elses-bucket", False)):
        check = Check(
            "sts:AssumeRole", role.outputs["arn"], ACCOUNT, {"aws:SourceArn": source, "aws:SourceAccount": ACCOUNT}
        )
        assert simulator.evaluate(s3, check, trust).allowed == allowed, (
            f"stack {store.stack}: {role.urn}: S3 replicating {source} must be {'allowed' if allowed else 'refused'}"
        )


def test_the_replica_is_written_only_by_replication_and_erased_only_by_the_command_centre(
    simulator: Evaluator, store: Store
) -> None:
    if not store.graph.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        pytest.skip(f"stack {store.stack} does not replicate")
    replica = store.graph.named("learning-images-replica")
    policy = policy_of(store.graph.named("learning-images-replica-policy"))
    objects = f"{replica.outputs['arn']}/{KEY}"
    role = store.graph.named("replication-role")
    replication = Principal(
        "S3 replication",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.outputs['name']}/s3-replication",
        role.outputs["arn"],
        ACCOUNT,
        identity_policies=(("replication", policy_of(store.graph.named("replication-role-policy"))),),
    )
    cases = [
        (replication, "s3:ReplicateObject", True),
        (replication, "s3:ReplicateTags", True),
        (store.principals["command-centre"], "s3:PutObject", False),
        (store.principals["account-admin"], "s3:PutObject", False),
        (store.principals["command-centre"], "s3:DeleteObjectVersion", True),
        (store.principals["account-admin"], "s3:DeleteObjectVersion", False),
        (store.principals["command-centre"], "s3:PutObjectTagging", False),
        (store.principals["account-admin"], "s3:PutObjectRetention", False),
    ]
    wrong = []
    for principal, action, allowed in cases:
        decision = simulator.evaluate(
            principal, Check(action, objects, ACCOUNT, {"aws:SecureTransport": "true"}), policy
        )
        if decision.allowed != allowed:
            wrong.append(f"{principal.name} {action}: {decision} (expected {'allowed' if allowed else 'refused'})")
    assert not wrong, f"stack {store.stack}: {replica.urn}: " + "; ".join(wrong)


def test_only_s3_delivers_this_buckets_logs_into_the_log_bucket(simulator: Evaluator, store: Store) -> None:
    if not store.graph.of_type("aws:s3/bucketLogging:BucketLogging"):
        pytest.skip(f"stack {store.stack} keeps no access logs")
    logs = store.graph.named("access-logs")
    policy = policy_of(store.graph.named("access-logs-policy"))
    delivery = Principal("S3 log delivery", "logging.s3.amazonaws.com")
    for source, allowed in ((store.bucket_arn, True), ("arn:aws:s3:::someone-elses-bucket", False)):
        context = {"aws:SourceArn": source, "aws:SourceAccount": ACCOUNT, "aws:SecureTransport": "true"}
        check = Check("s3:PutObject", f"{logs.outputs['arn']}/learning-images/log", ACCOUNT, context)
        assert simulator.evaluate(delivery, check, policy).allowed == allowed, (
            f"stack {store.stack}: {logs.urn}: log delivery for {source} must be {'allowed' if allowed else 'refused'}"
        )


# --- IAM's own limits, named as limits ---------------------------------------------------------------


def test_iam_cannot_hold_keys_to_lowercase_hex_so_clients_do(simulator: Evaluator, store: Store) -> None:
    """A limit, not a pass: IAM's ``?`` matches any character, so an uppercase UUID key gets
    through every guard. ``contract.OBJECT_KEY_PATTERN`` (uploader, gateway) is what refuses it.
    If this starts failing, IAM learned to refuse it: move the rule to 'enforced by the storage'."""
    upper = with_key(
        uploader_request(store, store.city_ids[0], contract.Label.CORRECT), KEY.upper().replace(".JPG", ".jpg")
    )
    assert not contract.OBJECT_KEY_PATTERN.match(upper.key or ""), "the client-side pattern must refuse it"
    outcome = evaluate(simulator, store, [Scenario("uppercase key", f"city:{store.city_ids[0]}", upper, True)])[0]
    assert outcome.allowed, outcome.explain(store.stack)


def test_only_roles_anywhere_for_this_trust_anchor_assumes_the_city_role(simulator: Evaluator, store: Store) -> None:
    """Certificates: the city role is assumed by IAM Roles Anywhere for a certificate of the stack's
    trust anchor, with the certificate's attributes as session tags; by nothing else."""
    anchors = store.graph.of_type("aws:rolesanywhere/trustAnchor:TrustAnchor")
    if not anchors:
        pytest.skip(f"stack {store.stack}: cities authenticate with access keys")
    role = store.graph.named("city-role")
    trust = policy_of(role, "assumeRolePolicy")
    service = Principal("IAM Roles Anywhere", "rolesanywhere.amazonaws.com")
    other_anchor = anchors[0].outputs["arn"].rsplit("/", 1)[0] + "/another-ca-s-anchor"
    for action in ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"):
        for anchor, allowed in ((anchors[0].outputs["arn"], True), (other_anchor, False)):
            check = Check(action, role.outputs["arn"], ACCOUNT, {"aws:SourceArn": anchor})
            assert simulator.evaluate(service, check, trust).allowed == allowed, (
                f"stack {store.stack}: {role.urn}: {action} by Roles Anywhere for {anchor} must be "
                f"{'allowed' if allowed else 'refused: another CA certificate is no city'}"
            )
    check = Check("sts:AssumeRole", role.outputs["arn"], ACCOUNT, {})
    for who in ("account-admin", "command-centre", "other-account"):
        assert not simulator.evaluate(store.principals[who], check, trust).allowed, (
            f"stack {store.stack}: {role.urn}: {who} may assume the city role without a certificate"
        )
