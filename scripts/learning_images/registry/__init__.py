"""The Command Centre's learning store: the ``learning_samples`` table (SQLAlchemy models, Alembic
migrations), how the commands reach its database, and how an object becomes a row.

Needs the ``[registry]`` extra (SQLAlchemy, Alembic, the PostgreSQL driver); the city's commands
never import it.
"""

from __future__ import annotations

import argparse
import os

from pydantic import SecretStr

#: The learning store's URL, where no ``--database-url-file`` names one (a secret: never printed).
#: Here, not in ``database``: the commands name it in their help without importing SQLAlchemy.
DATABASE_URL_ENVIRONMENT = "LEARNING_IMAGES_DATABASE_URL"


def named_database_url(args: argparse.Namespace) -> SecretStr | None:
    """The learning store's URL as given: ``--database-url-file``'s content, else the variable; None
    when neither names one. Raises ValueError, naming the file, when it cannot be read."""
    if args.database_url_file is not None:
        try:
            return SecretStr(args.database_url_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ValueError(f"cannot read --database-url-file {args.database_url_file}: {exc.strerror}") from None
    found = os.environ.get(DATABASE_URL_ENVIRONMENT)
    return SecretStr(found) if found else None
