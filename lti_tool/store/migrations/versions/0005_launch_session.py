"""Server-side learner sessions, so a session can be revoked and ends when idle.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tokens issued before this revision name no row and stop working: those learners launch
    # again from their LMS, which is what an expired session asks of them anyway.
    op.create_table(
        "launch_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("launch_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["launch_id"],
            ["launch.id"],
            name=op.f("fk_launch_session_launch_id_launch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launch_session")),
    )
    with op.batch_alter_table("launch_session") as batch:
        batch.create_index("ix_launch_session_expires_at", ["expires_at"], unique=False)
        batch.create_index("ix_launch_session_launch_id", ["launch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("launch_session") as batch:
        batch.drop_index("ix_launch_session_launch_id")
        batch.drop_index("ix_launch_session_expires_at")
    op.drop_table("launch_session")
