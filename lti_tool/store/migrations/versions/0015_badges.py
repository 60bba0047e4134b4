"""open badges: credentials issued for achieved goals, their revocation, the issuer's keys

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "badge_issuer_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_issuer_key")),
        sa.UniqueConstraint("kid", name=op.f("uq_badge_issuer_key_kid")),
    )
    op.create_table(
        "issued_badge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("achievement_key", sa.String(length=120), nullable=False),
        sa.Column("achievement_name", sa.String(length=300), nullable=False),
        sa.Column("skill", sa.String(length=80), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("identity_salt", sa.String(length=64), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credential_jws", sa.Text(), nullable=True),
        sa.Column("signed_kid", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goal.id"],
            name=op.f("fk_issued_badge_goal_id_goal"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_issued_badge_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_badge")),
        sa.UniqueConstraint("goal_id", name=op.f("uq_issued_badge_goal_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_issued_badge_public_id")),
        sa.UniqueConstraint("status_index", name=op.f("uq_issued_badge_status_index")),
    )
    with op.batch_alter_table("issued_badge", schema=None) as batch_op:
        batch_op.create_index(
            "ix_issued_badge_learner", ["platform_id", "sub", "issued_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_badge", schema=None) as batch_op:
        batch_op.drop_index("ix_issued_badge_learner")

    op.drop_table("issued_badge")
    op.drop_table("badge_issuer_key")
