"""grade outbox: scores waiting for (or done with) publication to LMS gradebooks (AGS)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grade_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=True),
        sa.Column("resource_link_id", sa.String(length=255), nullable=True),
        sa.Column("lineitem_url", sa.String(length=1000), nullable=True),
        sa.Column("lineitems_url", sa.String(length=1000), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("resource_id", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("target_key", sa.String(length=1500), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("activity_progress", sa.String(length=20), nullable=False),
        sa.Column("grading_progress", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "sent", "superseded", "dead",
                name="grade_status", native_enum=False, length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_lineitem_url", sa.String(length=1000), nullable=True),
        sa.Column("sent_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lms_score", sa.Float(), nullable=True),
        sa.Column("lms_maximum", sa.Float(), nullable=True),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_grade_outbox_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_outbox")),
        sa.UniqueConstraint("source_id", name=op.f("uq_grade_outbox_source_id")),
    )
    with op.batch_alter_table("grade_outbox") as batch:
        batch.create_index(
            "ix_grade_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch.create_index(
            "ix_grade_outbox_target", ["platform_id", "sub", "target_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("grade_outbox") as batch:
        batch.drop_index("ix_grade_outbox_target")
        batch.drop_index("ix_grade_outbox_status_next_attempt_at")
    op.drop_table("grade_outbox")
