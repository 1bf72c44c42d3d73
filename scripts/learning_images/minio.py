"""MinIO's policy condition keys and S3 actions: which MinIO knows, and which keys each action takes.

MinIO refuses a whole policy when one statement names a condition key it does not know, or a key
its action does not take (minio/pkg ``policy/statement.go``: "unsupported condition keys ... used
for action ..."), or an S3 action it does not support ("unsupported action"; in a bucket policy,
an unknown action on an object resource is "unsupported Resource"). So a guard that holds on AWS
can make a MinIO bucket's policy fail to apply. :func:`refused_keys` and
:func:`unsupported_actions` answer as MinIO's checks do. It reads MinIO's own data
(``data/minio_condition_keys.json``, generated from minio/pkg by ``tools/minio_condition_keys.py``,
commit named in the file), so no key list is written here by hand.

What MinIO then does with a key it accepts is its evaluation, which only a live run proves.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any, Final


@cache
def _table() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        resources.files("learning_images").joinpath("data/minio_condition_keys.json").read_text()
    )
    return found


def source() -> str:
    """Where the table comes from: repository and commit."""
    found = _table()["source"]
    return f"{found['repository']}@{found['commit'][:7]}"


def accepted_keys(action: str) -> frozenset[str]:
    """The condition keys MinIO takes for ``action``: its common keys, merged with those of every
    action the (possibly wildcard) ``action`` matches (minio/pkg ``ActionConditionKeyMap.Lookup``)."""
    table = _table()
    merged = set(table["common_keys"])
    for known, keys in table["action_keys"].items():
        # MinIO's Action.Match: the statement's action is the pattern, case-sensitive.
        if fnmatch.fnmatchcase(known, action):
            merged.update(keys)
    return frozenset(merged)


def _names(condition: Mapping[str, Mapping[str, Any]]) -> set[str]:
    # A key's qualifier (`s3:RequestObjectTag/city_id`) is not part of its name (minio/pkg parseKey).
    return {key.split("/", 1)[0] for operator in condition.values() for key in operator}


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or ())


def refused_keys(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per action of ``statement``, the condition keys MinIO would refuse: unknown to it, or not
    taken by that action. Empty: MinIO accepts the statement's conditions."""
    names = _names(statement.get("Condition") or {})
    supported = set(_table()["supported_keys"])
    refused: dict[str, list[str]] = {}
    for action in _as_list(statement.get("Action")) + _as_list(statement.get("NotAction")):
        wrong = sorted(name for name in names if name not in supported or name not in accepted_keys(action))
        if wrong:
            refused[action] = wrong
    return refused


def unsupported_actions(statement: Mapping[str, Any]) -> list[str]:
    """The statement's actions (or not-actions) that match no S3 action MinIO supports
    (minio/pkg ``Action.IsValid``: the statement's action is the pattern)."""
    supported = _table()["supported_actions"]
    named = _as_list(statement.get("Action")) + _as_list(statement.get("NotAction"))
    return [action for action in named if not any(fnmatch.fnmatchcase(known, action) for known in supported)]


# --- object events: MinIO's PostgreSQL notification target ------------------------------------
#
# MinIO notifies a bucket's events to a target configured on the server (``mc admin config set
# ALIAS notify_postgres:<id> ...``). Its PostgreSQL target in the ``access`` format appends one row
# per event, ``INSERT INTO <table> (event_time, event_data)``, the data ``{"Records": [<event>]}``
# with S3's record shape and ``s3:``-prefixed names (minio/minio internal/event/target/postgresql.go;
# internal/event/name.go). The learning store's migrations create the table first, with the
# columns the receiver leases rows by (``learning_images.registry.sources.postgresql``).

#: The table MinIO's target writes (its ``table`` setting) and where rows the receiver gave up on go.
EVENTS_TABLE: Final = "object_events"
DEAD_LETTER_TABLE: Final = "object_events_dead_letter"
#: What the bucket notifies: every object created or removed (the receiver reads no other kind).
EVENT_NAMES: Final = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
#: A PostgreSQL target's ARN, ``arn:minio:sqs:<the server's region, or nothing>:<id>:postgresql``
#: (minio/minio internal/event/arn.go; ``mc admin info --json`` lists the server's).
QUEUE_ARN_PATTERN: Final = re.compile(r"arn:minio:sqs:[a-z0-9-]*:[A-Za-z0-9_.-]+:postgresql")
#: The deliveries a row gets before the receiver moves it to :data:`DEAD_LETTER_TABLE`.
MAX_RECEIVES: Final = 10
