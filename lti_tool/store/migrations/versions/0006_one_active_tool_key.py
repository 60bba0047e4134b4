"""At most one ACTIVE tool key, enforced by the database.

Revision ID: 0006
Revises: 0005
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Keys demoted below stay published this long, so platforms can still check what they
# signed (the default CXA_KEY_OVERLAP_SECONDS; a migration cannot read the settings).
DEMOTED_OVERLAP = timedelta(days=7)


def upgrade() -> None:
    tool_key = sa.table(
        "tool_key",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("retire_after", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    active = connection.execute(
        sa.select(tool_key.c.id).where(tool_key.c.status == "active").order_by(tool_key.c.id)
    ).scalars()
    # Databases hit by the start-up race hold several ACTIVE keys. The first one keeps
    # signing (the one signing now picks); the others retire after the usual overlap.
    extra = list(active)[1:]
    if extra:
        connection.execute(
            tool_key.update()
            .where(tool_key.c.id.in_(extra))
            .values(status="retiring", retire_after=datetime.now(UTC) + DEMOTED_OVERLAP)
        )
    op.create_index(
        "uq_tool_key_one_active",
        "tool_key",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("uq_tool_key_one_active", table_name="tool_key")
