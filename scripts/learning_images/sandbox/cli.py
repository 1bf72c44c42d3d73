"""``learning-images-sandbox``: the local sandbox, if its extra is installed.

A city's ``pip install .`` has the client commands only; the sandbox needs the Pulumi SDKs and
the local S3 (``pip install '.[sandbox]'``) and a checkout of the project. Say so instead of
failing on an import.
"""

from __future__ import annotations

import sys


def main() -> int:
    from learning_images.sandbox.project import ProjectNotFoundError, project_root  # noqa: PLC0415

    try:
        project_root()
    except ProjectNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        from learning_images.sandbox import sandbox  # noqa: PLC0415 (its dependencies are an extra)
    except ImportError as missing:
        print(
            f"error: the sandbox needs {missing.name or 'its dependencies'}: in a checkout of this project, "
            "pip install '.[sandbox]' (or make sandbox)",
            file=sys.stderr,
        )
        return 2
    return sandbox.main()


if __name__ == "__main__":
    sys.exit(main())
