"""Migration 0015 builds exactly the badge tables the models describe, and downgrades."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from lti_tool.store.db import make_engine
from lti_tool.store.migrate import downgrade, upgrade
from lti_tool.store.models import Base

TABLES = {"issued_badge", "badge_issuer_key"}


def _touches_badges(diff: object) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    text = repr(items)
    return any(table in text for table in TABLES)


def test_models_and_migration_agree(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                d for d in compare_metadata(context, Base.metadata) if _touches_badges(d)
            ]
        assert differences == []
    finally:
        engine.dispose()


def test_downgrade_removes_the_badge_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        upgrade(engine)
        downgrade(engine, "0014")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
