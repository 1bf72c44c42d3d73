"""Alembic's environment for ``learning_samples`` (``database.upgrade`` runs it)."""
