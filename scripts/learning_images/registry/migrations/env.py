"""Alembic's environment: the connection ``database.upgrade`` hands over, the models' metadata."""

from alembic import context

from learning_images.registry.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
