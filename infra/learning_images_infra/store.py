"""What a backend's store offers the component: each backend's ``store.py`` defines one subclass,
its row's ``STORE`` (``learning_images.backends``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from learning_images import contract
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


#: The class a backend with one storage class exports as its archive class: it declares no transition.
SINGLE_STORAGE_CLASS = "STANDARD"


def credentials(who: str, key_id: pulumi.Input[str], secret: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """One tier's or city's credentials, as the outputs schema has them (a Pulumi secret)."""
    return pulumi.Output.secret({"city_id": who, "access_key_id": key_id, "secret_access_key": secret})


def city_outputs(by_city: Mapping[str, pulumi.Output[dict[str, Any]]]) -> dict[str, Any]:
    """The outputs of the cities' credentials (the probe city's among them): ``city_credentials``,
    the probe city's apart and the whole a secret, and ``probe_credentials``."""
    cities = {city: found for city, found in by_city.items() if city != contract.PROBE_CITY_ID}
    return {"city_credentials": pulumi.Output.secret(cities), "probe_credentials": by_city[contract.PROBE_CITY_ID]}
