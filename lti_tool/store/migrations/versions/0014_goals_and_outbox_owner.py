"""personal goals, the practice log, the goal engine's ledger; outbox rows name their learner

Outbox rows written before this migration keep no learner: goals count only learning done
after they were set, so nothing older is ever read for them.

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goal_source_cursor",
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("position", sa.String(length=2000), nullable=False),
        sa.Column("more", sa.String(length=2000), nullable=True),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_goal_source_cursor")),
    )
    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("template_id", sa.String(length=80), nullable=True),
        sa.Column("skill", sa.String(length=80), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("specific", sa.Text(), nullable=False),
        sa.Column("relevance", sa.Text(), nullable=False),
        sa.Column("metric_key", sa.String(length=60), nullable=False),
        sa.Column("metric_params", sa.JSON(), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=120), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "paused",
                "achieved",
                "missed",
                "abandoned",
                name="goal_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "visibility",
            sa.Enum(
                "progress",
                "content",
                "private",
                name="goal_visibility",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("check_in_days", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_goal_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal")),
        sa.UniqueConstraint("public_id", name=op.f("uq_goal_public_id")),
    )
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_goal_learner_metric", ["platform_id", "sub", "metric_key", "status"], unique=False
        )
        batch_op.create_index("ix_goal_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "practice_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("share_note", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_practice_entry_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_entry")),
        sa.UniqueConstraint("public_id", name=op.f("uq_practice_entry_public_id")),
    )
    with op.batch_alter_table("practice_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_practice_entry_learner", ["platform_id", "sub", "happened_on"], unique=False
        )

    op.create_table(
        "goal_check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("did", sa.Text(), nullable=False),
        sa.Column("learned", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goal.id"], name=op.f("fk_goal_check_in_goal_id_goal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_check_in")),
        sa.UniqueConstraint("public_id", name=op.f("uq_goal_check_in_public_id")),
    )
    with op.batch_alter_table("goal_check_in", schema=None) as batch_op:
        batch_op.create_index("ix_goal_check_in_goal", ["goal_id", "created_at"], unique=False)

    op.create_table(
        "goal_counted_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goal.id"],
            name=op.f("fk_goal_counted_statement_goal_id_goal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_counted_statement")),
        sa.UniqueConstraint(
            "goal_id", "statement_id", name=op.f("uq_goal_counted_statement_goal_id_statement_id")
        ),
    )
    with op.batch_alter_table("goal_counted_statement", schema=None) as batch_op:
        batch_op.create_index("ix_goal_counted_statement_statement", ["statement_id"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sub", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("sub")
        batch_op.drop_column("platform_id")

    with op.batch_alter_table("goal_counted_statement", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_counted_statement_statement")

    op.drop_table("goal_counted_statement")
    with op.batch_alter_table("goal_check_in", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_check_in_goal")

    op.drop_table("goal_check_in")
    with op.batch_alter_table("practice_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_entry_learner")

    op.drop_table("practice_entry")
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_status_due")
        batch_op.drop_index("ix_goal_learner_metric")

    op.drop_table("goal")
    op.drop_table("goal_source_cursor")
