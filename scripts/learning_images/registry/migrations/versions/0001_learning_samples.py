"""learning_samples: one row per stored object, unique by its image_reference."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("image_reference", sa.String(length=1100), nullable=False),
        sa.Column("bucket", sa.String(length=255), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("city_id", sa.String(length=64), nullable=True),
        sa.Column("camera_id", sa.String(length=256), nullable=True),
        sa.Column("event_id", sa.String(length=256), nullable=True),
        sa.Column("label_status", sa.String(length=16), nullable=True),
        sa.Column("uploaded_at", sa.String(length=32), nullable=True),
        sa.Column("captured_at", sa.String(length=40), nullable=True),
        sa.Column("quality", sa.String(length=32), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(length=128), nullable=False),
        sa.Column("version_id", sa.String(length=1024), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("quarantined_rule", sa.String(length=64), nullable=True),
        sa.Column("quarantine_reason", sa.Text(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_samples")),
        sa.UniqueConstraint("image_reference", name=op.f("uq_learning_samples_image_reference")),
    )
    with op.batch_alter_table("learning_samples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_learning_samples_city_id_camera_id_event_id"),
            ["city_id", "camera_id", "event_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_learning_samples_erased_at"), ["erased_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_learning_samples_label_status_stored_at"), ["label_status", "stored_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("learning_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_samples_label_status_stored_at"))
        batch_op.drop_index(batch_op.f("ix_learning_samples_erased_at"))
        batch_op.drop_index(batch_op.f("ix_learning_samples_city_id_camera_id_event_id"))

    op.drop_table("learning_samples")
