"""How each platform's learners are identified in xAPI statements.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform") as batch:
        # Existing registrations keep the privacy-preserving LTI account actor.
        batch.add_column(
            sa.Column("actor_format", sa.String(16), nullable=False, server_default="account")
        )


def downgrade() -> None:
    with op.batch_alter_table("platform") as batch:
        batch.drop_column("actor_format")
