"""`cxa db`: the database schema."""

from __future__ import annotations

import click

from lti_tool.cli.command import load_settings
from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to the newest schema."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("database is at the newest schema")
