"""How one store names what it declares, so that any number of stores live in one program.

Pulumi names a resource by its type, its parent's type and its own name, not its parent's name:
two stores whose children had the same names would collide. Every child's name therefore carries
the store's name, and so does every name the provider sees (IAM paths, R2 bucket, token and
Worker names), so two stores of one stack share nothing either.

The store named :data:`DEFAULT_STORE`, the one the stack program declares, keeps the names it
has always had, so stacks deployed before the component existed are not replaced.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from learning_images_infra.settings import PROJECT

DEFAULT_STORE: Final = "store"

#: A store's name goes into bucket, path and Worker names: lowercase letters, digits, inner hyphens.
_STORE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
#: Room left for the prefixes and suffixes the program adds to the longest physical names.
MAX_STORE_NAME = 24


def digest(*parts: str) -> str:
    """Eight hex digits naming ``parts``: what keeps a shortened provider-side name unique."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


def with_digest(stem: str, room: int, *parts: str) -> str:
    """``stem``, cut to fit ``room`` characters with ``-<digest of parts>`` after it."""
    suffix = digest(*parts)
    return f"{stem[: room - len(suffix) - 1].rstrip('-')}-{suffix}"


def store_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a store, or None."""
    if not _STORE_NAME.match(name) or len(name) > MAX_STORE_NAME:
        return (
            f"store name {name!r} is not a lowercase slug of at most {MAX_STORE_NAME} characters "
            "(a-z, 0-9 and single inner hyphens, starting with a letter): it becomes part of bucket and IAM names"
        )
    return None


@dataclass(frozen=True)
class Naming:
    #: The component's name.
    store: str
    #: The Pulumi stack.
    stack: str

    def __call__(self, base: str) -> str:
        """The logical name of the store's child ``base``."""
        return base if self.store == DEFAULT_STORE else f"{self.store}-{base}"

    def ownership(self, given: Mapping[str, str] | None = None) -> dict[str, str]:
        """The tags (or labels) every resource of the store carries: project, stack and managed-by,
        then the user's ``given`` ones (which may replace those), then the store's name unless it is
        the default one (which nothing replaces)."""
        tags = {"project": PROJECT, "stack": self.stack, "managed-by": "pulumi", **(given or {})}
        if self.store != DEFAULT_STORE:
            tags["store"] = self.store
        return tags

    @property
    def scope(self) -> str:
        """What names the store among everything the provider holds: the stack, and the store
        unless it is the default one."""
        return self.stack if self.store == DEFAULT_STORE else f"{self.stack}-{self.store}"
