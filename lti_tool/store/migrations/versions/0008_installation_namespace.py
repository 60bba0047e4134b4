"""installation: the statement-id namespace of this installation; knowledge-check records

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:45:00.000000
"""

import uuid
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_namespace", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_installation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    # Made here, once, and kept with the data: a restore keeps its statement ids, a new
    # installation (a fresh database) gets ids no other installation can produce.
    op.bulk_insert(
        installation,
        [{"id": 1, "statement_namespace": uuid.uuid4(), "created_at": datetime.now(UTC)}],
    )

    op.create_table(
        "knowledge_check_submission",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("launch_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.String(length=80), nullable=False),
        sa.Column("lesson_id", sa.String(length=80), nullable=False),
        sa.Column("content_version", sa.String(length=40), nullable=False),
        sa.Column("responses", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["launch_id"],
            ["launch.id"],
            name=op.f("fk_knowledge_check_submission_launch_id_launch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_check_submission")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_check_submission")
    op.drop_table("installation")
