"""Whether statements from a platform's launches carry the learner's name.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform") as batch:
        # Existing registrations stop sending names: an LRS is often read by people who
        # need no learner's name, and a registration opts in with `cxa platform
        # set-actor-name ID include`.
        batch.add_column(
            sa.Column("actor_name", sa.String(8), nullable=False, server_default="omit")
        )


def downgrade() -> None:
    with op.batch_alter_table("platform") as batch:
        batch.drop_column("actor_name")
