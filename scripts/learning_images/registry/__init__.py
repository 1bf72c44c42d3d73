"""The Command Centre's learning store: the ``learning_samples`` table (SQLAlchemy models, Alembic
migrations), how the commands reach its database, and how an object becomes a row.

Needs the ``[registry]`` extra (SQLAlchemy, Alembic, the PostgreSQL driver); the city's commands
never import it.
"""

#: The learning store's URL, where no ``--database-url-file`` names one (a secret: never printed).
#: Here, not in ``database``: the commands name it in their help without importing SQLAlchemy.
DATABASE_URL_ENVIRONMENT = "LEARNING_IMAGES_DATABASE_URL"
