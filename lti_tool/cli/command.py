"""How a `cxa` command gets its settings and its transaction; refusals exit with status 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.config import Settings
from lti_tool.errors import ConfigError, ToolError
from lti_tool.recording import IRI_BASE
from lti_tool.store.db import make_engine, make_session_factory, transaction


class Refused(click.ClickException):
    """Raised when a command's input or environment is unusable; nothing was written."""

    exit_code = 2


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as err:
        raise Refused(str(err)) from err


@contextmanager
def sessions() -> Iterator[tuple[sessionmaker[Session], Settings]]:
    """A session factory; refusals (bad input, no database) become exit status 2."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        yield make_session_factory(engine, info={IRI_BASE: settings.iri_base}), settings
    except ToolError as err:
        raise Refused(str(err)) from err
    except (OperationalError, ProgrammingError) as err:
        raise Refused(
            f"the database at {engine.url!r} is unreachable or not migrated: run `cxa db upgrade`"
        ) from err
    finally:
        engine.dispose()


@contextmanager
def one_transaction() -> Iterator[tuple[Session, Settings]]:
    """One transaction for the whole command: all of it is written, or nothing."""
    with sessions() as (factory, settings), transaction(factory) as session:
        yield session, settings
