"""The learning image store: read the stack's settings, build the store, export its outputs."""

import sys
from pathlib import Path

# Pulumi runs this directory with runpy.run_path, which puts infra/ (not the repository root)
# on sys.path; the program imports itself as the `infra` package like the tests and scripts do.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from infra.aws.store import LearningImageStore
from infra.settings import load_settings

settings = load_settings()  # fails here, before any resource, on invalid config
store = LearningImageStore("store", settings, stack=pulumi.get_stack())
for name, value in store.outputs.items():
    pulumi.export(name, value)
