"""Every migration runs up and down cleanly on the production database and on SQLite."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import pytest
from sqlalchemy import inspect

from lti_tool.store.db import make_engine
from lti_tool.store.migrate import downgrade, upgrade
from lti_tool.store.models import Base
from tests.fixtures.stack import isolated_database

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("database", ["configured", "sqlite"])
def test_upgrade_downgrade_upgrade_matches_the_models(tmp_path: Path, database: str) -> None:
    sqlite = nullcontext(f"sqlite:///{tmp_path / 'migrations.db'}")
    with sqlite if database == "sqlite" else isolated_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            downgrade(engine, "base")
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            upgrade(engine)
            tables = set(inspect(engine).get_table_names())
            # The schema Alembic builds holds every table the models declare.
            assert set(Base.metadata.tables) <= tables
            for table in Base.metadata.tables.values():
                columns = {c["name"] for c in inspect(engine).get_columns(table.name)}
                assert {c.name for c in table.columns} <= columns, table.name
        finally:
            engine.dispose()
