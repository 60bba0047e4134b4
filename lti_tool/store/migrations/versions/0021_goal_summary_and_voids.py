"""goal engine: each outbox row's statement summary, and the statements seen voided

Rows already queued keep no summary (NULL): the engine reads their statement instead, so
there is nothing to backfill, and a big outbox is not rewritten on upgrade.

Revision ID: 0021
Revises: 0020
"""

from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "goal_voided_statement",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_goal_voided_statement")),
    )


def downgrade() -> None:
    op.drop_table("goal_voided_statement")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("summary")
