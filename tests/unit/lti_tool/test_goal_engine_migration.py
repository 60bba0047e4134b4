"""Migration 0021: outbox summaries and remembered voids, as the models declare them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lti_tool.store.db import make_engine
from lti_tool.store.migrate import downgrade, upgrade
from lti_tool.store.models import Base


def _is_ours(diff: object) -> bool:
    text = repr(diff)
    return "goal_voided_statement" in text or "'summary'" in text


def test_models_and_migration_agree(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [d for d in compare_metadata(context, Base.metadata) if _is_ours(d)]
        assert differences == []
    finally:
        engine.dispose()


def test_rows_queued_before_the_upgrade_keep_no_summary_and_downgrade_drops_it(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        upgrade(engine, "0020")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO outbox (destination, statement_id, statement, status, attempts,"
                    " next_attempt_at, created_at, lane_key) VALUES ('default', 's-1',"
                    " '{\"id\": \"s-1\"}', 'pending', 0, '2026-01-01', '2026-01-01', 0)"
                )
            )
        upgrade(engine)
        with engine.connect() as connection:
            summary = connection.execute(sa.text("SELECT summary FROM outbox")).scalar_one()
        assert summary is None  # nothing rewritten: the engine reads the statement instead

        downgrade(engine, "0020")
        inspector = sa.inspect(engine)
        assert "goal_voided_statement" not in inspector.get_table_names()
        assert "summary" not in {column["name"] for column in inspector.get_columns("outbox")}
    finally:
        engine.dispose()
