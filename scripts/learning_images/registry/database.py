"""Where the commands find ``learning_samples``: a database URL that is a secret, and the schema
brought to the newest migration before any row is read or written.

The URL comes from ``--database-url-file`` (a file holding it, as a secret mount gives it), else
``$LEARNING_IMAGES_DATABASE_URL``, else the embedded default: SQLite in the state directory, so
the sandbox needs no server. It is a :class:`~pydantic.SecretStr` from the moment it is read:
never printed, never in a message (messages name the database by its dialect and host only).
"""

from __future__ import annotations

import argparse
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from learning_images import PROJECT
from learning_images.registry import named_database_url

#: The embedded default: one SQLite file per user, beside the commands' other state.
DEFAULT_PATH = (
    Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / PROJECT / "learning_samples.db"
)
#: Two receivers starting at once must not both create the table: PostgreSQL's advisory lock,
#: held while Alembic upgrades (the number is this project's, any constant shared by all works).
_MIGRATION_LOCK = 0x4C49_5F53  # "LI_S"


class DatabaseError(Exception):
    """The database cannot be reached or used; the message names it without its secret."""


def database_url(args: argparse.Namespace) -> SecretStr:
    """The URL the commands name (``arguments.named_database_url``), else the embedded default."""
    try:
        named = named_database_url(args)
    except ValueError as exc:
        raise DatabaseError(str(exc)) from None
    if named is not None:
        return named
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
    """Bring the schema to the newest migration (a no-op when it is there already), one migration
    at a time: PostgreSQL's advisory lock, held to the transaction's end; for a SQLite file, an
    exclusive lock on a file beside it, held past the commit (two receivers started at once both
    saw no table, and the second's CREATE TABLE failed)."""
    try:
        with _file_lock(engine), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config = migrations()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        cause = type(getattr(exc, "orig", None) or exc).__name__
        where = describe(SecretStr(engine.url.render_as_string(hide_password=True)))
        raise DatabaseError(f"cannot reach or migrate the learning store at {where} ({cause})") from None


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migration-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def state_of(engine: Engine, reference: str) -> str | None:
    """A reference's row as the learning store holds it (trainable, quarantined, erased), or None
    (no such row, or no table yet: no receiver has registered anything there)."""
    from learning_images.registry.models import LearningSample  # noqa: PLC0415 (models import this module's peers)

    if not inspect(engine).has_table(LearningSample.__tablename__):
        return None
    with engine.connect() as connection:
        row = connection.execute(
            select(LearningSample.erased_at, LearningSample.quarantined_rule).where(
                LearningSample.image_reference == reference
            )
        ).first()
    if row is None:
        return None
    return "erased" if row.erased_at is not None else "quarantined" if row.quarantined_rule else "trainable"


def answering(engine: Engine) -> Engine:
    """``engine``, once its database has answered (raises :class:`DatabaseError`): an operation
    that cannot record what it did must not start."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the learning store does not answer ({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None
    return engine


def opened(url: SecretStr) -> Engine:
    """The learning store at ``url``, once it answered, its schema the newest (raises
    :class:`DatabaseError`): what every command opens before it acts."""
    engine = answering(connect(url))
    upgrade(engine)
    return engine
