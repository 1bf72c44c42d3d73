"""Where the commands find ``learning_samples``: a database URL that is a secret, and the schema
brought to the newest migration before any row is read or written.

The URL comes from ``--database-url-file`` (a file holding it, as a secret mount gives it), else
``$LEARNING_IMAGES_DATABASE_URL``, else the embedded default: SQLite in the state directory, so
the sandbox needs no server. It is a :class:`~pydantic.SecretStr` from the moment it is read:
never printed, never in a message (messages name the database by its dialect and host only).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from learning_images import PROJECT

URL_ENVIRONMENT = "LEARNING_IMAGES_DATABASE_URL"
#: The embedded default: one SQLite file per user, beside the commands' other state.
DEFAULT_PATH = (
    Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / PROJECT / "learning_samples.db"
)
#: Two receivers starting at once must not both create the table: PostgreSQL's advisory lock,
#: held while Alembic upgrades (the number is this project's, any constant shared by all works).
_MIGRATION_LOCK = 0x4C49_5F53  # "LI_S"


class DatabaseError(Exception):
    """The database cannot be reached or used; the message names it without its secret."""


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url-file",
        type=Path,
        help=f"a file holding the learning store's SQLAlchemy URL, e.g. postgresql+psycopg://... "
        f"(default: ${URL_ENVIRONMENT}, else SQLite at {DEFAULT_PATH})",
    )


def database_url(args: argparse.Namespace) -> SecretStr:
    if args.database_url_file is not None:
        try:
            return SecretStr(args.database_url_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise DatabaseError(f"cannot read --database-url-file {args.database_url_file}: {exc.strerror}") from None
    if value := os.environ.get(URL_ENVIRONMENT):
        return SecretStr(value)
    DEFAULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    return SecretStr(f"sqlite:///{DEFAULT_PATH}")


def describe(url: SecretStr) -> str:
    """The database as messages name it: dialect, host and name, never the password."""
    parsed = make_url(url.get_secret_value())
    where = (
        parsed.database
        if parsed.get_backend_name() == "sqlite"
        else f"{parsed.host}:{parsed.port or ''}/{parsed.database}"
    )
    return f"{parsed.get_backend_name()} {where}"


def connect(url: SecretStr) -> Engine:
    """An engine whose connections are checked before use: a database restarted between batches
    costs one reconnect, not a failed batch."""
    engine = create_engine(url.get_secret_value(), pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        # Receivers side by side on one file: wait for the writer's lock instead of failing at once.
        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

    return engine


def migrations() -> Config:
    config = Config()
    config.set_main_option("script_location", "learning_images.registry:migrations")
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already)."""
    try:
        with engine.begin() as connection, _migration_lock(connection):
            config = migrations()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        cause = type(getattr(exc, "orig", None) or exc).__name__
        raise DatabaseError(f"cannot migrate the learning store ({cause})") from None


@contextmanager
def _migration_lock(connection) -> Iterator[None]:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    yield
