"""outbox: keep the LRS's version of a statement that conflicts with ours

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        # Filled only for rows dead-lettered as "conflict" (xAPI 409 with other content).
        batch.add_column(sa.Column("lrs_statement", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lrs_statement")
