"""The learning image store stack: read the stack's settings, build one store, export its outputs."""

import pulumi

from learning_images_infra.component import LearningImageStore
from learning_images_infra.naming import DEFAULT_STORE
from learning_images_infra.settings import load_settings

settings = load_settings()  # fails here, before any resource, on invalid config
store = LearningImageStore(DEFAULT_STORE, LearningImageStore.args_of(settings))
for name, value in store.outputs.items():
    pulumi.export(name, value)
