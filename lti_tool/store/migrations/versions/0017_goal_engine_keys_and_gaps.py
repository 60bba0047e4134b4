"""goal engine: what each counted statement counts (distinct lessons, quizzes, courses) and
the outbox cursor's open gaps

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goal_counted_statement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counted_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_goal_counted_statement_goal_key", ["goal_id", "counted_key"], unique=False
        )
    with op.batch_alter_table("goal_source_cursor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gaps", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("goal_source_cursor", schema=None) as batch_op:
        batch_op.drop_column("gaps")
    with op.batch_alter_table("goal_counted_statement", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_counted_statement_goal_key")
        batch_op.drop_column("counted_key")
