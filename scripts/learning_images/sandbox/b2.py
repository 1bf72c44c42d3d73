"""The b2 sandbox: the real ``b2`` stack's outputs and its upload gateway in front of a local stand-in
for Backblaze B2 (``learning_images.sandbox.fronted``).

    python -m learning_images.sandbox.sandbox --stack b2
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from learning_images import b2
from learning_images.sandbox import fronted
from learning_images.sandbox.event_sources import b2_notifier
from learning_images.sandbox.local import LocalStore
from learning_images.sandbox.render import Graph

STACK = "b2"
#: What the b2 sandbox stands in for (said in its report).
STANDS_IN = (
    *fronted.STANDS_IN,
    "IAM users with the S3 actions of each application key's capabilities stand in for the Command Centre's and "
    "training's keys",
    "B2's Object Lock and lifecycle are not held locally, and whether B2 honours If-None-Match is a live run's to show",
    "B2's notifier is stood in for: the local S3's events, in B2's webhook form, signed with the program's secret and "
    "posted to the gateway before each pull of Cloudflare Queues' stand-in (which the gateway's EVENTS binding "
    "sends to); B2's own retries and rule suspension are a live run's to show",
)


def key_actions(capabilities: list[str]) -> list[str]:
    """The S3 actions B2's S3 API allows a key holding ``capabilities`` (``learning_images.b2``'s
    table; actions that need no capability are B2's tagging, which B2 does not have)."""
    held = set(capabilities)
    return sorted(a for a, needs in b2.S3_ACTION_CAPABILITIES.items() if needs and set(needs) <= held)


def tier_actions(graph: Graph) -> dict[str, list[str]]:
    """Each tier's key's S3 actions, from its capabilities as the program declares them."""
    return {
        str(key.name).removesuffix("-key"): key_actions(list(key.inputs["capabilities"]))
        for key in graph.of_type("pulumi-python:dynamic:Resource")
        if "key_name" in key.inputs
    }


@contextmanager
def shipped_store(*, engine: str = "applier") -> Iterator[LocalStore]:
    """The sandbox's entry (the backend table's ``stand_in``): the stand-in as shipped."""
    with fronted.fronted_store(STACK, tier_actions, engine=engine, notifier=b2_notifier) as store:
        yield store
