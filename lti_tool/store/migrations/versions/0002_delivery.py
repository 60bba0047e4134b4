"""delivery: one state row per LRS destination, outbox index for date-range work

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00.000000
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    destination = op.create_table(
        "lrs_destination",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_id", sa.Integer(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lrs_destination")),
    )
    # Recording fans out to the enabled rows of this table; "default" keeps the single
    # CXA_LRS_ENDPOINT set-up (and rows recorded before any LRS is configured) working.
    op.bulk_insert(
        destination,
        [
            {
                "name": "default",
                "enabled": True,
                "consecutive_failures": 0,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_created_at")
    op.drop_table("lrs_destination")
