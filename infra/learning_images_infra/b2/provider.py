"""Backblaze B2's bucket and application keys as Pulumi resources: a dynamic provider over b2sdk.

No Pulumi provider for B2 is published on PyPI, so the program does not call B2's API itself:
the engine does, through these providers, with create, diff, update, read (refresh and drift) and
delete like any provider's. They speak to B2 through ``b2sdk`` (Backblaze's own SDK, v2 API), and
are tested against its API simulator (``b2sdk.v2.RawSimulator``, tests/test_b2_provider.py).

Credentials: the engine runs a dynamic provider in its own process and keeps the provider object
in the stack's state, so a provider here holds no credential. It authorises at each operation from
``B2_APPLICATION_KEY_ID`` and ``B2_APPLICATION_KEY`` (b2sdk's and the B2 CLI's variables) in the
deploy pipeline's environment; that key needs ``writeBuckets``, ``writeKeys``, ``deleteKeys`` (and
``deleteBuckets`` to destroy), the bucket's lock needs ``writeBucketRetentions``, and its event
notification rules ``readBucketNotifications`` and ``writeBucketNotifications``.

What B2 holds, per its API documentation (backblaze.com/apidocs): a bucket's Object Lock can only be
enabled when it is created (b2_create_bucket ``fileLockEnabled``) and never turned off; its default
encryption is SSE-B2 (AES-256, Backblaze's keys); lifecycle rules select files by name prefix only;
an application key's capabilities, bucket and name prefix are fixed at b2_create_key (a change is
a new key); b2_set_bucket_notification_rules replaces all of a bucket's rules at once (up to 25),
each POSTing events to an HTTPS webhook.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import pulumi
import pulumi.dynamic

from learning_images.b2 import CAPABILITIES, SIGNING_SECRET_LENGTH

#: Object Lock modes a bucket's default retention takes (b2_update_bucket ``defaultRetention``).
LOCK_MODES: Final = ("governance", "compliance")
#: A lifecycle rule's fields (b2_create_bucket ``lifecycleRules``): a name prefix and days.
LIFECYCLE_FIELDS: Final = ("fileNamePrefix", "daysFromUploadingToHiding", "daysFromHidingToDeleting")
#: B2's bucket names: 6 to 63 letters, digits and hyphens, not starting with "b2-" (b2_create_bucket).
BUCKET_NAME: Final = re.compile(r"^(?!b2-)[A-Za-z0-9-]{6,63}$")
#: B2's key names: 1 to 100 letters, digits and hyphens (b2_create_key).
KEY_NAME: Final = re.compile(r"^[A-Za-z0-9-]{1,100}$")
#: B2's rule names: 6 to 63 letters, digits and hyphens, not starting with "b2-" (Event
#: Notifications Reference Guide, "name").
RULE_NAME: Final = re.compile(r"^(?!b2-)[A-Za-z0-9-]{6,63}$")
#: A rule's signing secret (b2_set_bucket_notification_rules ``hmacSha256SigningSecret``).
SIGNING_SECRET: Final = re.compile(rf"^[A-Za-z0-9]{{{SIGNING_SECRET_LENGTH}}}$")
#: A bucket's most notification rules (Event Notifications Reference Guide).
MAX_RULES: Final = 25
#: The fields of a rule this provider sets; B2 adds ``isSuspended`` and ``suspensionReason``.
RULE_FIELDS: Final = ("name", "eventTypes", "isEnabled", "objectNamePrefix", "targetConfiguration")
#: The environment variables a provider authorises from (b2sdk's and the B2 CLI's names).
KEY_ID_VARIABLE, KEY_VARIABLE = "B2_APPLICATION_KEY_ID", "B2_APPLICATION_KEY"

#: Makes an authorised ``b2sdk.v2.B2Api``: the environment's key by default, a simulator's in tests.
Connect = Callable[[], Any]


def connect_from_environment() -> Any:
    """A B2 API client authorised with the deploy pipeline's key (never kept in state)."""
    from b2sdk.v2 import B2Api, InMemoryAccountInfo  # noqa: PLC0415 (only the engine's provider process needs b2sdk)

    key_id, key = os.environ.get(KEY_ID_VARIABLE), os.environ.get(KEY_VARIABLE)
    if not key_id or not key:
        raise RuntimeError(f"the B2 provider needs {KEY_ID_VARIABLE} and {KEY_VARIABLE} in the deploy's environment")
    api = B2Api(InMemoryAccountInfo())
    api.authorize_account("production", key_id, key)
    return api


def _failures(pairs: Sequence[tuple[str, str]]) -> list[pulumi.dynamic.CheckFailure]:
    return [pulumi.dynamic.CheckFailure(name, reason) for name, reason in pairs]


def _days(value: Any) -> int | None:
    # The engine hands numbers over as floats.
    return None if value is None else int(value)


def lifecycle_rules(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules in b2sdk's shape, days as integers, in a stable order (B2 returns them sorted by prefix)."""
    shaped = [
        {name: (_days(r.get(name)) if name != "fileNamePrefix" else r.get(name, "")) for name in LIFECYCLE_FIELDS}
        for r in rules
    ]
    return sorted(shaped, key=lambda r: str(r["fileNamePrefix"]))


class _Provider(pulumi.dynamic.ResourceProvider):
    """What both providers share: how they reach B2."""

    def __init__(self, connect: Connect | None = None) -> None:
        # None in a program: the engine pickles the provider into state, so no client or key is kept.
        self._connect = connect

    def _api(self) -> Any:
        return (self._connect or connect_from_environment)()


class BucketProvider(_Provider):
    """A private B2 bucket with Object Lock on from its creation, SSE-B2 by default, lifecycle
    rules and a default retention. Its name (and the lock's being on) cannot change: a new name
    is a new bucket; a non-empty bucket is not deleted (B2 refuses, and says so)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        problems: list[tuple[str, str]] = []
        name = news.get("bucket_name")
        if not isinstance(name, str) or not BUCKET_NAME.match(name):
            problems.append(("bucket_name", f"{name!r}: 6 to 63 letters, digits and hyphens, not starting with b2-"))
        if news.get("lock_mode") not in LOCK_MODES:
            problems.append(("lock_mode", f"{news.get('lock_mode')!r}: one of {', '.join(LOCK_MODES)}"))
        lock_days = news.get("lock_days")
        if not isinstance(lock_days, int | float) or lock_days < 1 or lock_days != int(lock_days):
            problems.append(("lock_days", f"{lock_days!r}: a whole number of days, at least 1"))
        for i, rule in enumerate(news.get("lifecycle_rules") or ()):
            unknown = sorted(set(rule) - set(LIFECYCLE_FIELDS))
            if unknown:
                problems.append(
                    (f"lifecycle_rules[{i}]", f"unknown fields {unknown}; allowed: {list(LIFECYCLE_FIELDS)}")
                )
            if rule.get("daysFromUploadingToHiding") is None and rule.get("daysFromHidingToDeleting") is None:
                problems.append(
                    (f"lifecycle_rules[{i}]", "sets neither daysFromUploadingToHiding nor daysFromHidingToDeleting")
                )
        return pulumi.dynamic.CheckResult(news, _failures(problems))

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        api = self._api()
        bucket = api.create_bucket(
            props["bucket_name"],
            "allPrivate",
            lifecycle_rules=lifecycle_rules(props.get("lifecycle_rules") or ()),
            default_server_side_encryption=_sse_b2(),
            is_file_lock_enabled=True,
        )
        # Object Lock is on from creation; its default retention is set on the bucket after.
        return pulumi.dynamic.CreateResult(bucket.id_, _bucket_outputs(_configure(bucket, props)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [
            name
            for name in ("bucket_name", "lock_mode", "lock_days", "lifecycle_rules")
            if _normal(name, olds.get(name)) != _normal(name, news.get(name))
        ]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=[name for name in changed if name == "bucket_name"],
            stables=["bucket_id"],
            delete_before_replace=True,  # B2's bucket names are global: the old name must go first
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        bucket = self._api().get_bucket_by_id(_id)
        return pulumi.dynamic.UpdateResult(_bucket_outputs(_configure(bucket, news)))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """What B2 holds now (``pulumi refresh``): a rule or lock changed in the console shows as drift."""
        from b2sdk.v2.exception import BucketIdNotFound, NonExistentBucket  # noqa: PLC0415

        try:
            bucket = self._api().get_bucket_by_id(id_).get_fresh_state()
        except (BucketIdNotFound, NonExistentBucket):
            return pulumi.dynamic.ReadResult(None, {})  # gone: the engine drops it from state
        return pulumi.dynamic.ReadResult(id_, {**props, **_bucket_outputs(bucket)})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        api = self._api()
        api.delete_bucket(api.get_bucket_by_id(id_))


def _sse_b2() -> Any:
    from b2sdk.v2 import EncryptionAlgorithm, EncryptionMode, EncryptionSetting  # noqa: PLC0415

    return EncryptionSetting(mode=EncryptionMode.SSE_B2, algorithm=EncryptionAlgorithm.AES256)


def _configure(bucket: Any, props: Mapping[str, Any]) -> Any:
    """One b2_update_bucket: default encryption (set again, so a change made in the console is put
    back), lifecycle rules and the lock's default retention."""
    return bucket.update(
        default_server_side_encryption=_sse_b2(),
        lifecycle_rules=lifecycle_rules(props.get("lifecycle_rules") or ()),
        default_retention=_retention(props),
    )


def _retention(props: Mapping[str, Any]) -> Any:
    from b2sdk.v2 import BucketRetentionSetting, RetentionMode, RetentionPeriod  # noqa: PLC0415

    mode = RetentionMode.GOVERNANCE if props["lock_mode"] == "governance" else RetentionMode.COMPLIANCE
    return BucketRetentionSetting(mode, RetentionPeriod(days=int(props["lock_days"])))


def _normal(name: str, value: Any) -> Any:
    if name == "lifecycle_rules":
        return lifecycle_rules(value or ())
    if name == "lock_days":
        return _days(value)
    return value


def _bucket_outputs(bucket: Any) -> dict[str, Any]:
    """What the bucket is, as B2 answers it: read back, not echoed from the inputs."""
    retention = bucket.default_retention
    period = retention.period
    encryption = bucket.default_server_side_encryption
    return {
        "bucket_id": bucket.id_,
        "bucket_name": bucket.name,
        "bucket_type": bucket.type_,
        "file_lock_enabled": bool(bucket.is_file_lock_enabled),
        "lock_mode": retention.mode.value if retention.mode else None,
        "lock_days": period.duration if period and period.unit == "days" else None,
        "default_encryption": encryption.mode.value if encryption and encryption.mode else None,
        "lifecycle_rules": lifecycle_rules(bucket.lifecycle_rules or ()),
    }


class ApplicationKeyProvider(_Provider):
    """An application key with fixed capabilities, scoped to one bucket and optionally a name
    prefix. B2 cannot change a key, so every change is a new key (created before the old one is
    deleted: a tier is never left without a key mid-update)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        problems: list[tuple[str, str]] = []
        name = news.get("key_name")
        if not isinstance(name, str) or not KEY_NAME.match(name):
            problems.append(("key_name", f"{name!r}: 1 to 100 letters, digits and hyphens"))
        capabilities = news.get("capabilities")
        if not capabilities or not isinstance(capabilities, list):
            problems.append(("capabilities", "at least one capability"))
        elif unknown := sorted(set(capabilities) - CAPABILITIES):
            problems.append(("capabilities", f"unknown {unknown}; allowed: {sorted(CAPABILITIES)}"))
        if not news.get("bucket_id"):
            problems.append(("bucket_id", "every key of this project is scoped to its bucket"))
        return pulumi.dynamic.CheckResult(news, _failures(problems))

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        key = self._api().create_key(
            sorted(props["capabilities"]),
            props["key_name"],
            bucket_id=props["bucket_id"],
            name_prefix=props.get("name_prefix") or None,
        )
        return pulumi.dynamic.CreateResult(key.id_, {**_key_outputs(key), "application_key": key.application_key})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        fields = ("key_name", "capabilities", "bucket_id", "name_prefix")
        changed = [name for name in fields if _key_field(name, olds.get(name)) != _key_field(name, news.get(name))]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=changed, stables=["application_key_id"])

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        key = self._api().get_key(id_)
        if key is None:
            return pulumi.dynamic.ReadResult(None, {})
        # B2 shows a key's secret only at creation: the one in state is kept.
        return pulumi.dynamic.ReadResult(id_, {**props, **_key_outputs(key)})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        self._api().delete_key_by_id(id_)


def _key_field(name: str, value: Any) -> Any:
    # Capabilities are a set (B2 returns them in its own order); an empty prefix is no prefix.
    return sorted(value or []) if name == "capabilities" else value or None


def _key_outputs(key: Any) -> dict[str, Any]:
    return {
        "application_key_id": key.id_,
        "key_name": key.key_name,
        "capabilities": sorted(key.capabilities),
        "bucket_id": key.bucket_id,
        "name_prefix": key.name_prefix,
    }


class NotificationRulesProvider(_Provider):
    """A bucket's event-notification rules, all of them: b2_set_bucket_notification_rules replaces
    the whole list, so this resource owns it (a rule added in the console is removed by the next
    update, and shows as drift on refresh). Deleting sets no rules. B2 suspends a rule whose webhook
    keeps failing; ``suspended`` reads that back, so ``pulumi refresh`` shows it."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        problems: list[tuple[str, str]] = []
        if not news.get("bucket_id"):
            problems.append(("bucket_id", "the bucket whose rules these are"))
        rules = news.get("rules") or []
        if len(rules) > MAX_RULES:
            problems.append(("rules", f"{len(rules)} rules: B2 takes at most {MAX_RULES} a bucket"))
        for i, rule in enumerate(rules):
            problems.extend((f"rules[{i}]" + (f".{name}" if name else ""), why) for name, why in _rule_problems(rule))
        return pulumi.dynamic.CheckResult(news, _failures(problems))

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        bucket = self._api().get_bucket_by_id(props["bucket_id"])
        answered = bucket.set_notification_rules(notification_rules(props["rules"]))
        return pulumi.dynamic.CreateResult(props["bucket_id"], {**props, **_rules_outputs(answered, props)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        replaces = ["bucket_id"] if olds.get("bucket_id") != news.get("bucket_id") else []
        changed = bool(replaces) or notification_rules(olds.get("rules") or []) != notification_rules(
            news.get("rules") or []
        )
        return pulumi.dynamic.DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        bucket = self._api().get_bucket_by_id(news["bucket_id"])
        return pulumi.dynamic.UpdateResult(
            {**news, **_rules_outputs(bucket.set_notification_rules(notification_rules(news["rules"])), news)}
        )

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The rules B2 holds now: one changed or suspended shows as drift."""
        from b2sdk.v2.exception import BucketIdNotFound, NonExistentBucket  # noqa: PLC0415

        try:
            answered = self._api().get_bucket_by_id(id_).get_notification_rules()
        except (BucketIdNotFound, NonExistentBucket):
            return pulumi.dynamic.ReadResult(None, {})
        return pulumi.dynamic.ReadResult(id_, {**props, "bucket_id": id_, **_rules_outputs(answered, props)})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        from b2sdk.v2.exception import BucketIdNotFound, NonExistentBucket  # noqa: PLC0415

        try:
            self._api().get_bucket_by_id(id_).set_notification_rules([])
        except (BucketIdNotFound, NonExistentBucket):
            return  # the bucket went first: its rules with it


def event_types() -> frozenset[str]:
    """The event types a rule takes: b2sdk's own list (``EVENT_TYPE``), as B2's API documents them."""
    from typing import get_args  # noqa: PLC0415

    from b2sdk.v2 import EVENT_TYPE  # noqa: PLC0415 (only the engine's provider process needs b2sdk)

    return frozenset(get_args(EVENT_TYPE))


def _rule_problems(rule: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if unknown := sorted(set(rule) - set(RULE_FIELDS)):
        problems.append(("", f"unknown fields {unknown}; allowed: {list(RULE_FIELDS)}"))
    name = rule.get("name")
    if not isinstance(name, str) or not RULE_NAME.match(name):
        problems.append(("name", f"{name!r}: 6 to 63 letters, digits and hyphens, not starting with b2-"))
    types = rule.get("eventTypes") or []
    if not types:
        problems.append(("eventTypes", "at least one event type"))
    elif unknown_types := sorted(set(types) - (known := event_types())):
        problems.append(("eventTypes", f"unknown {unknown_types}; allowed: {sorted(known)}"))
    target = rule.get("targetConfiguration") or {}
    if target.get("targetType") != "webhook":
        problems.append(("targetConfiguration.targetType", "'webhook', B2's one target type"))
    url = target.get("url")
    if not isinstance(url, str) or not url.startswith("https://"):
        problems.append(("targetConfiguration.url", f"{url!r}: B2 calls webhooks over HTTPS only"))
    secret = target.get("hmacSha256SigningSecret")
    if secret is not None and not (isinstance(secret, str) and SIGNING_SECRET.match(secret)):
        problems.append(
            ("targetConfiguration.hmacSha256SigningSecret", f"{SIGNING_SECRET_LENGTH} alphanumeric characters")
        )
    return problems


def notification_rules(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules in b2sdk's request shape, sorted by name (B2 lists them so): what is compared and sent."""
    shaped = [
        {
            "name": rule["name"],
            "eventTypes": sorted(rule["eventTypes"]),
            "isEnabled": bool(rule.get("isEnabled", True)),
            "objectNamePrefix": rule.get("objectNamePrefix") or "",
            "targetConfiguration": {k: v for k, v in dict(rule["targetConfiguration"]).items() if v is not None},
        }
        for rule in rules
    ]
    return sorted(shaped, key=lambda r: str(r["name"]))


def _rules_outputs(answered: Sequence[Mapping[str, Any]], props: Mapping[str, Any]) -> dict[str, Any]:
    """What B2 holds, read back: its rules, and which it has suspended and why. Where B2 does not
    echo a rule's signing secret, the one this stack set is kept (it cannot be read otherwise)."""
    secrets = {
        r["name"]: r["targetConfiguration"].get("hmacSha256SigningSecret")
        for r in notification_rules(props.get("rules") or [])
    }
    rules = []
    for found in answered:
        target = dict(found.get("targetConfiguration") or {})
        if target.get("hmacSha256SigningSecret") is None and secrets.get(found["name"]):
            target["hmacSha256SigningSecret"] = secrets[found["name"]]
        rules.append({**{k: found.get(k) for k in RULE_FIELDS}, "targetConfiguration": target})
    return {
        "rules": notification_rules(rules),
        "suspended": {r["name"]: r.get("suspensionReason") or "" for r in answered if r.get("isSuspended")},
    }


class B2Bucket(pulumi.dynamic.Resource):
    """A B2 bucket (:class:`BucketProvider`): ``bucket_id`` is what keys are scoped to."""

    bucket_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        bucket_name: pulumi.Input[str],
        lock_mode: str,
        lock_days: int,
        lifecycle_rules: Sequence[Mapping[str, Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "bucket_name": bucket_name,
            "lock_mode": lock_mode,
            "lock_days": lock_days,
            "lifecycle_rules": [dict(rule) for rule in lifecycle_rules],
            "bucket_id": None,
        }
        super().__init__(BucketProvider(), name, props, opts)


class B2ApplicationKey(pulumi.dynamic.Resource):
    """A B2 application key (:class:`ApplicationKeyProvider`); its secret is a Pulumi secret."""

    application_key_id: pulumi.Output[str]
    application_key: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        key_name: pulumi.Input[str],
        capabilities: Sequence[str],
        bucket_id: pulumi.Input[str],
        name_prefix: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "key_name": key_name,
            "capabilities": sorted(capabilities),
            "bucket_id": bucket_id,
            "name_prefix": name_prefix,
            "application_key_id": None,
            "application_key": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["application_key"])
        super().__init__(ApplicationKeyProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))


class B2NotificationRules(pulumi.dynamic.Resource):
    """A bucket's event-notification rules (:class:`NotificationRulesProvider`); a signing secret
    among them makes ``rules`` a Pulumi secret."""

    rules: pulumi.Output[list[dict[str, Any]]]
    suspended: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        *,
        bucket_id: pulumi.Input[str],
        rules: pulumi.Input[Sequence[Mapping[str, Any]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"bucket_id": bucket_id, "rules": rules, "suspended": None}
        secret = pulumi.ResourceOptions(additional_secret_outputs=["rules"])
        super().__init__(NotificationRulesProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
