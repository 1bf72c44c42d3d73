"""The spaces sandbox: the real ``spaces`` stack's outputs and its upload gateway in front of a local
stand-in for DigitalOcean Spaces (``learning_images.sandbox.fronted``).

    python -m learning_images.sandbox.sandbox --stack spaces
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from learning_images.sandbox import fronted
from learning_images.sandbox.local import LocalStore
from learning_images.sandbox.render import Graph

STACK = "spaces"
#: What the spaces sandbox stands in for (said in its report).
STANDS_IN = (
    *fronted.STANDS_IN,
    "IAM users with each Spaces key's grant stand in for the Command Centre's and training's keys",
    "Spaces' lifecycle is not held locally, and whether Spaces honours If-None-Match is a live run's to show",
)
#: What a Spaces key's grant allows on its bucket, as S3 actions (pulumi-digitalocean's SpacesKey:
#: `read` reads and lists, `readwrite` also writes and deletes).
GRANT_ACTIONS = {
    "read": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"],
    "readwrite": [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    ],
}


def tier_actions(graph: Graph) -> dict[str, list[str]]:
    """Each tier's key's S3 actions, from its grant as the program declares it."""
    found = {}
    for key in graph.of_type("digitalocean:index/spacesKey:SpacesKey"):
        tier = str(key.name).removesuffix("-key")
        found[tier] = sorted({a for grant in key.inputs["grants"] for a in GRANT_ACTIONS[grant["permission"]]})
    return found


@contextmanager
def shipped_store(*, engine: str = "applier") -> Iterator[LocalStore]:
    """The sandbox's entry (the backend table's ``stand_in``): the stand-in as shipped."""
    with fronted.fronted_store(STACK, tier_actions, engine=engine) as store:
        yield store
