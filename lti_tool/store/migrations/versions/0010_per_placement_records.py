"""quiz attempts and role-play runs count per placement (deployment, context, resource link)

Existing rows get the placement of the launch they were started in.

Revision ID: 0010
Revises: 0009
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("quiz_attempt", "scenario_run")


def _placement_key(deployment_id: str, context_id: str | None, resource_link_id: str | None) -> str:
    # The recipe of lti_tool.store.learning.placement_key, copied rather than imported so
    # this migration keeps meaning what it meant when the application code moves on.
    parts = [deployment_id, context_id or "", resource_link_id or ""]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def _fill(table_name: str) -> None:
    bind = op.get_bind()
    table = sa.table(
        table_name, sa.column("id", sa.Uuid()), sa.column("launch_id", sa.Uuid()),
        sa.column("placement", sa.String(64)),
    )
    launch = sa.table(
        "launch", sa.column("id", sa.Uuid()), sa.column("deployment_id", sa.String(255)),
        sa.column("context_id", sa.String(255)), sa.column("resource_link_id", sa.String(255)),
    )
    rows = bind.execute(
        sa.select(table.c.id, launch.c.deployment_id, launch.c.context_id, launch.c.resource_link_id)
        .join(launch, launch.c.id == table.c.launch_id)
    ).all()
    for row_id, deployment_id, context_id, resource_link_id in rows:
        bind.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(placement=_placement_key(deployment_id, context_id, resource_link_id))
        )


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("placement", sa.String(length=64), nullable=True))
        _fill(name)
    with op.batch_alter_table("quiz_attempt") as batch:
        batch.alter_column("placement", existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint("uq_quiz_attempt_platform_id_sub_quiz_id_number", type_="unique")
        # Numbered per placement: each gradebook column has its own attempt limit.
        batch.create_unique_constraint(
            "uq_quiz_attempt_platform_id_sub_placement_quiz_id_number",
            ["platform_id", "sub", "placement", "quiz_id", "number"],
        )
    with op.batch_alter_table("scenario_run") as batch:
        batch.alter_column("placement", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    # Attempts numbered per placement may repeat a number across placements; renumber per
    # learner and quiz before the old constraint comes back, in the order they started.
    bind = op.get_bind()
    attempt = sa.table(
        "quiz_attempt", sa.column("id", sa.Uuid()), sa.column("platform_id", sa.Integer()),
        sa.column("sub", sa.String(255)), sa.column("quiz_id", sa.String(80)),
        sa.column("number", sa.Integer()), sa.column("started_at", sa.DateTime()),
    )
    with op.batch_alter_table("quiz_attempt") as batch:
        batch.drop_constraint(
            "uq_quiz_attempt_platform_id_sub_placement_quiz_id_number", type_="unique"
        )
    rows = bind.execute(
        sa.select(attempt.c.id, attempt.c.platform_id, attempt.c.sub, attempt.c.quiz_id).order_by(
            attempt.c.platform_id, attempt.c.sub, attempt.c.quiz_id, attempt.c.started_at,
            attempt.c.number,
        )
    ).all()
    numbers: dict[tuple[int, str, str], int] = {}
    for row_id, platform_id, sub, quiz_id in rows:
        key = (platform_id, sub, quiz_id)
        numbers[key] = numbers.get(key, 0) + 1
        bind.execute(attempt.update().where(attempt.c.id == row_id).values(number=numbers[key]))
    with op.batch_alter_table("quiz_attempt") as batch:
        batch.create_unique_constraint(
            "uq_quiz_attempt_platform_id_sub_quiz_id_number",
            ["platform_id", "sub", "quiz_id", "number"],
        )
        batch.drop_column("placement")
    with op.batch_alter_table("scenario_run") as batch:
        batch.drop_column("placement")
