"""Shared fixtures: a tool app on a throwaway SQLite database migrated by Alembic."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.services import Services
from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade

pytest_plugins = ["tests.fixtures.ralph", "tests.fixtures.platform"]


def embedded_settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "base_url": "http://localhost",
        "database_url": f"sqlite:///{tmp_path / 'cxa.db'}",
        # In-process broker: unit tests check what is queued, not a worker.
        "broker_url": "memory://",
        "broker_dir": tmp_path / "broker",
        "var_dir": tmp_path,
        "secret_key": "test-secret",
        "key_encryption_secret": "test-key-secret",
        # Its own queue: test runs sharing one Redis never take each other's tasks.
        "task_queue": f"cxa-test-{uuid.uuid4().hex[:12]}",
    }
    values.update(changes)
    return Settings().with_overrides(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(tmp_path)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    built = Services.build(settings)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
