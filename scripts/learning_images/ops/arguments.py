"""What every client command's command line shares: its name, ``--version``, and argument types
that refuse nonsense (``--workers 0``, ``--timeout 0``) with argparse's own usage error (exit 2)."""

from __future__ import annotations

import argparse
import math
from importlib import metadata
from pathlib import Path
from typing import Any

from learning_images import PROJECT, contract
from learning_images.registry import DATABASE_URL_ENVIRONMENT

#: Connect and read timeout per attempt for the Command Centre's commands, seconds: S3 answers a
#: HeadObject or a DeleteObject in milliseconds, so 10 s is a hung store, not a slow one.
REQUEST_TIMEOUT = 10.0


def version() -> str:
    try:
        return metadata.version(PROJECT)
    except metadata.PackageNotFoundError:  # a checkout on sys.path without an install
        return "unknown (not installed)"


def parser(command: str, description: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A parser named after the installed command (``learning-images-upload``), never a module,
    with ``--version``."""
    made = argparse.ArgumentParser(prog=f"{PROJECT}-{command}", description=description, **kwargs)
    made.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    return made


def add_timeout(parser: argparse.ArgumentParser) -> None:
    """``--timeout`` of the Command Centre's commands (the uploader documents its own default)."""
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=REQUEST_TIMEOUT,
        help=f"connect and read timeout per attempt, seconds (default: {REQUEST_TIMEOUT:g}; 3 attempts, so a hung "
        "store stops the run, and a stop after SIGTERM completes, within about 3 x this)",
    )


def city_id(text: str) -> str:
    """A city's id as the contract writes it; the probe city is the verifier's alone."""
    if not contract.CITY_ID_PATTERN.match(text) or text == contract.PROBE_CITY_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not a city id (a lowercase slug, not {contract.PROBE_CITY_ID})")
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text}")
    return value


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """``--database-url-file``: where the Command Centre's commands find ``learning_samples``
    (``learning_images.registry.database`` reads it; SQLAlchemy is imported only there)."""
    parser.add_argument(
        "--database-url-file",
        type=Path,
        help="a file holding the learning store's SQLAlchemy URL, e.g. postgresql+psycopg://... "
        f"(default: ${DATABASE_URL_ENVIRONMENT}, else SQLite in the state directory)",
    )
