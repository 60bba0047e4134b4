"""dynamic registration: invitations, pending deployments, registration state

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform") as batch:
        batch.add_column(
            sa.Column(
                "state",
                sa.Enum("active", "pending", name="platform_state", native_enum=False, length=16),
                nullable=False,
                server_default="active",
            )
        )
        batch.add_column(
            sa.Column(
                "auto_approve_deployments",
                sa.Boolean(),
                nullable=False,
                server_default=sa.text("false"),
            )
        )
    op.create_table(
        "registration_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("auto_approve_deployments", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_registration_invitation_platform_id_platform"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_registration_invitation_token_hash")),
    )
    op.create_table(
        "pending_deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=True),
        sa.Column("context_title", sa.String(length=500), nullable=True),
        sa.Column("platform_name", sa.String(length=500), nullable=True),
        sa.Column("launches", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_pending_deployment_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_deployment")),
        sa.UniqueConstraint(
            "platform_id", "deployment_id", name=op.f("uq_pending_deployment_platform_id_deployment_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("pending_deployment")
    op.drop_table("registration_invitation")
    with op.batch_alter_table("platform") as batch:
        batch.drop_column("auto_approve_deployments")
        batch.drop_column("state")
