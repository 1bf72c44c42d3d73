"""object_events and object_events_dead_letter: where MinIO's PostgreSQL notification target
appends the bucket's events for the receiver, and where the receiver puts those it gave up on.

MinIO creates its table itself (two columns, ``event_time`` and ``event_data``) when the target
starts before the receiver ever ran; this migration then adopts it, adding the receiver's columns
(the ids its rows get are assigned in place). Names as of this revision (``learning_images.minio``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DATA = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("object_events"):
        # MinIO's own table: only PostgreSQL can be its target, so this is PostgreSQL's SQL.
        op.execute(
            "ALTER TABLE object_events ADD COLUMN id BIGSERIAL NOT NULL, "
            "ADD COLUMN receives INTEGER DEFAULT 0 NOT NULL, "
            "ADD COLUMN visible_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL"
        )
        op.create_primary_key(op.f("pk_object_events"), "object_events", ["id"])
    else:
        op.create_table(
            "object_events",
            sa.Column("id", _ID, nullable=False),
            sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
            sa.Column("event_data", _DATA, nullable=True),
            sa.Column("receives", sa.Integer(), server_default="0", nullable=False),
            sa.Column("visible_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_object_events")),
        )
    op.create_index(op.f("ix_object_events_visible_at"), "object_events", ["visible_at"], unique=False)
    op.create_table(
        "object_events_dead_letter",
        sa.Column("id", _ID, nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_data", _DATA, nullable=True),
        sa.Column("receives", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_events_dead_letter")),
    )


def downgrade() -> None:
    op.drop_table("object_events_dead_letter")
    op.drop_index(op.f("ix_object_events_visible_at"), table_name="object_events")
    op.drop_table("object_events")
