"""The Command Centre's learning store: the ``learning_samples`` table (SQLAlchemy models, Alembic
migrations), how the commands reach its database, and how an object becomes a row.

Needs the ``[registry]`` extra (SQLAlchemy, Alembic, the PostgreSQL driver); the city's commands
never import it.
"""
