"""learning-images: the Command Centre's central image store, its client commands and checks."""

from typing import Final

#: The project's name: the Pulumi project, the distribution, the config namespace, the state folder.
PROJECT: Final = "learning-images"
