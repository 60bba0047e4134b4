"""course rosters (LTI NRPS) and instructors' actions on learners' records

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_roster_member_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_member")),
        sa.UniqueConstraint(
            "platform_id",
            "context_id",
            "user_id",
            name=op.f("uq_roster_member_platform_id_context_id_user_id"),
        ),
    )
    op.create_table(
        "roster_fetch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_roster_fetch_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_fetch")),
        sa.UniqueConstraint(
            "platform_id", "context_id", name=op.f("uq_roster_fetch_platform_id_context_id")
        ),
    )
    op.create_table(
        "instructor_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("actor_sub", sa.String(length=255), nullable=False),
        sa.Column("actor_name", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("learner_sub", sa.String(length=255), nullable=False),
        sa.Column("quiz_id", sa.String(length=80), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_instructor_action_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructor_action")),
    )
    with op.batch_alter_table("instructor_action") as batch:
        batch.create_index(
            "ix_instructor_action_learner",
            ["platform_id", "learner_sub", "action", "quiz_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("instructor_action") as batch:
        batch.drop_index("ix_instructor_action_learner")
    op.drop_table("instructor_action")
    op.drop_table("roster_fetch")
    op.drop_table("roster_member")
