"""The component package's entry point (``PulumiPlugin.yaml``).

``pulumi package add`` runs this directory as a plugin. Pulumi's Python language host serves every
ComponentResource among this module's top-level names (LearningImageStore); run as a program, the
module hosts the component itself with the SDK's provider host. Either way the schema is the one
Pulumi infers from the component's annotations. This is not the stack program (that is ``infra/``).
"""

import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A plugin runs from a checkout, not from an install: the client package's source root (scripts/)
# and the program's (infra/) must be importable, as the editable install makes them.
sys.path[:0] = [str(HERE / "scripts"), str(HERE / "infra")]

from learning_images_infra.component import LearningImageStore  # noqa: E402

__all__ = ["LearningImageStore"]

if __name__ == "__main__":
    from pulumi.provider.experimental import component_provider_host

    version = tomllib.loads((HERE / "pyproject.toml").read_text())["project"]["version"]
    component_provider_host(components=[LearningImageStore], name="learning-images", version=version)
