"""Where the Pulumi project is: the program, its stack files and the test-time tools.

The sandbox and the offline render run this repository's program (``infra/``) with its stack
files (``Pulumi.<stack>.yaml``), so they need a checkout; the client commands do not.
"""

from __future__ import annotations

import os
from pathlib import Path

from learning_images import PROJECT

PROJECT_NAME = PROJECT
#: moto's default account, which the offline render mocks as well, so the rendered ARNs and the
#: emulator's agree (the front, the render and the local store read this one).
EMULATOR_ACCOUNT_ID = "123456789012"
#: The region the sandbox and the offline render use (Pulumi.local.yaml's aws:region; a test
#: keeps them equal).
SANDBOX_REGION = "eu-west-1"
#: Points the sandbox at a checkout when it runs from anywhere else.
ENVIRONMENT = "LEARNING_IMAGES_PROJECT"


class ProjectNotFoundError(RuntimeError):
    """No checkout of the project was found; the message says how to point at one."""


def _is_project(path: Path) -> bool:
    manifest = path / "Pulumi.yaml"
    return manifest.is_file() and f"name: {PROJECT_NAME}" in manifest.read_text(encoding="utf-8")


def project_root() -> Path:
    """``$LEARNING_IMAGES_PROJECT``; else the checkout this package is imported from (a
    development or editable install); else the current directory or one of its parents."""
    if configured := os.environ.get(ENVIRONMENT):
        root = Path(configured).expanduser().resolve()
        if not _is_project(root):
            raise ProjectNotFoundError(
                f"{ENVIRONMENT}={configured} is not a checkout of {PROJECT_NAME} (no Pulumi.yaml)"
            )
        return root
    source = Path(__file__).resolve().parents[3]
    if _is_project(source):
        return source
    for candidate in [Path.cwd(), *Path.cwd().parents]:
        if _is_project(candidate):
            return candidate
    raise ProjectNotFoundError(
        f"the sandbox runs this project's Pulumi program: run it inside a checkout of {PROJECT_NAME}, "
        f"or set {ENVIRONMENT}=/path/to/checkout"
    )
