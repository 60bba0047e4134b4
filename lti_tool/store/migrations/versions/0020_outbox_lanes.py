"""outbox lanes: each row keeps its learner's lane key; each destination its lane count

Pending rows get their key here, from the same recipe as new rows, so a learner's backlog
and their next statements share a lane across the upgrade (docs/decisions/0021). Rows no
longer pending keep 0: they are never claimed again (a replay re-keys nothing, see 0021).

Revision ID: 0020
Revises: 0019
"""

import json
import zlib

from alembic import op
import sqlalchemy as sa


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _lane_key(platform_id: int, sub: str | None, statement: object) -> int:
    # Frozen copy of lti_tool.store.outbox.lane_key as of this revision: a migration must not
    # change meaning when the application code moves on.
    if sub is not None:
        text = f"learner:{platform_id}:{sub}"
    else:
        actor = statement.get("actor") if isinstance(statement, dict) else None
        text = "actor:" + json.dumps(actor, sort_keys=True, separators=(",", ":"))
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane_key", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("lrs_destination", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lanes", sa.Integer(), server_default="1", nullable=False))

    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("platform_id", sa.Integer()),
        sa.column("sub", sa.String()),
        sa.column("statement", sa.JSON()),
        sa.column("lane_key", sa.Integer()),
    )
    bind = op.get_bind()
    pending = bind.execute(
        sa.select(outbox.c.id, outbox.c.platform_id, outbox.c.sub, outbox.c.statement).where(
            outbox.c.status == "pending"
        )
    ).all()
    for row in pending:
        bind.execute(
            outbox.update()
            .where(outbox.c.id == row.id)
            .values(lane_key=_lane_key(row.platform_id, row.sub, row.statement))
        )


def downgrade() -> None:
    with op.batch_alter_table("lrs_destination", schema=None) as batch_op:
        batch_op.drop_column("lanes")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lane_key")
