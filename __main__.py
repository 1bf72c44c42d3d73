"""The component package's entry point (``PulumiPlugin.yaml``).

``pulumi package add`` runs this directory as a plugin and serves every ComponentResource among this
module's top-level names: LearningImageStore. This is not the stack program (that is ``infra/``).
"""

import sys
from pathlib import Path

# A plugin runs from a checkout, not from an install: the client package's source root (scripts/)
# must be importable, as the editable install makes it for the program.
sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))

from infra.component import LearningImageStore

__all__ = ["LearningImageStore"]
