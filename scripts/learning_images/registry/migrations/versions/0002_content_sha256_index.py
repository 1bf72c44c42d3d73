"""learning_samples.content_sha256 indexed: the reader's and the ingest report's duplicates, the
cache's eviction, each a lookup by the image's bytes."""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learning_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_samples_content_sha256"), ["content_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("learning_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_samples_content_sha256"))
