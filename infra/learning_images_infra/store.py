"""What a backend's store offers the component: each backend's ``store.py`` defines one subclass,
its row's ``STORE`` (``learning_images.backends``)."""

from __future__ import annotations

from typing import Any

import pulumi

from learning_images_infra.naming import Naming
from learning_images_infra.settings import Settings


class Store:
    """A backend's store: built as a child of the component, its outputs the schema's."""

    outputs: dict[str, Any]

    def __init__(
        self, parent: pulumi.ComponentResource, names: Naming, settings: Settings, administrators: tuple[str, ...]
    ) -> None:
        raise NotImplementedError

    @staticmethod
    def check(settings: Settings, opts: pulumi.ResourceOptions | None) -> tuple[str, ...]:
        """What to ask the provider before anything is registered; the configuration
        administrators it resolved. By default nothing (no administrators setting)."""
        return ()
