"""The learning image store: read the stack's settings, build the store, export its outputs."""

from typing import Any

import pulumi

from infra.settings import load_settings

settings = load_settings()  # fails here, before any resource, on invalid config
outputs: dict[str, Any]
# Each backend's provider SDK is imported only by the stacks that use it.
if settings.backend == "r2":
    from infra.r2.store import R2LearningImageStore

    outputs = R2LearningImageStore("store", settings, stack=pulumi.get_stack()).outputs
else:
    from infra.aws.store import LearningImageStore

    outputs = LearningImageStore("store", settings, stack=pulumi.get_stack()).outputs
for name, value in outputs.items():
    pulumi.export(name, value)
