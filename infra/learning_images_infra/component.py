"""LearningImageStore: the Command Centre's image store as a Pulumi component.

    from learning_images_infra.component import LearningImageStore

    store = LearningImageStore("images", {"backend": "aws", "region": "eu-west-1", "replica_region": "eu-central-1"})
    pulumi.export("bucket", store.bucket_name)

Typed arguments (:class:`~learning_images_infra.component_types.LearningImageStoreArgs`, the settings model's
fields by their Python names, validated by :class:`~learning_images_infra.settings.Settings` before anything is
registered, every problem reported at once) and typed outputs (the outputs schema, as attributes
of the component). Any number of stores live in one program: every child and every name the
provider sees carries the store's name (:mod:`learning_images_infra.naming`). The store reads no stack
configuration; the stack program (``infra/__main__.py``) is one user of it.

Other Pulumi languages use it as a component package (``PulumiPlugin.yaml``; ``pulumi package add``
generates their SDK from the schema Pulumi infers from these annotations).
"""

# No `from __future__ import annotations`: Pulumi's component analyzer reads `args`'s annotation
# as a type to make the package schema.
import importlib
from typing import Any, cast

import pulumi

from learning_images.backends import BACKENDS
from learning_images_infra.component_types import LearningImageStoreArgs, LearningImageStoreOutputs
from learning_images_infra.naming import DEFAULT_STORE, Naming, store_name_problem
from learning_images_infra.settings import PROJECT, Settings, SettingsError, parse_args
from learning_images_infra.store import Store

#: The component's type: the package (``pyproject.toml``'s name) and the class.
TYPE = f"{PROJECT}:index:LearningImageStore"


def _backend(name: str) -> tuple[type[Store], str | None]:
    """The builder of a backend (its row's store module's ``STORE``) and the component type it had
    before this component (``PREVIOUS_COMPONENT_TYPE``, None for a backend new with it). Each
    backend's provider SDK is imported only when a store of that backend is built."""
    module = importlib.import_module(BACKENDS[name].store_module)
    return module.STORE, getattr(module, "PREVIOUS_COMPONENT_TYPE", None)


class LearningImageStore(LearningImageStoreOutputs, pulumi.ComponentResource):
    """The central image store of the Command Centre: one bucket whose storage enforces the storage
    contract (flat UUID keys, city and labels as metadata, create-only objects, label-driven
    lifecycle, three credential tiers, no public access, encryption, replication where the backend
    has it), on AWS S3, Cloudflare R2, Google Cloud Storage, MinIO,
    DigitalOcean Spaces or Backblaze B2."""

    def __init__(
        self,
        name: str,
        args: LearningImageStoreArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Nothing is registered, the component included, until the arguments are valid.
        settings = args if isinstance(args, Settings) else parse_args(args, store=name)
        if problem := store_name_problem(name):
            raise SettingsError(f"invalid store name; nothing was created: {problem}")
        builder, previous_type = _backend(settings.backend)
        administrators = builder.check(settings, opts)
        if name == DEFAULT_STORE and previous_type is not None:
            # The stack program's store had a type of its own per backend before this component:
            # the alias keeps those stacks' resources where they are (children follow their parent).
            alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=previous_type)])
            opts = pulumi.ResourceOptions.merge(opts, alias)
        super().__init__(TYPE, name, None, opts)
        built = builder(self, Naming(name, pulumi.get_stack()), settings, administrators)
        # Every output as the outputs schema has it (each also an attribute). Not annotated on the
        # class: the annotations there are the package schema's outputs.
        self.outputs: dict[str, Any] = built.outputs
        for key, value in built.outputs.items():
            setattr(self, key, pulumi.Output.from_input(value))
        self.register_outputs(built.outputs)

    @staticmethod
    def args_of(settings: Settings) -> LearningImageStoreArgs:
        """A stack's validated settings as the component's arguments (the stack program's way in)."""
        # The TypedDict's keys are Settings's fields by construction (generated from them).
        return cast(LearningImageStoreArgs, settings.model_dump(mode="json"))
