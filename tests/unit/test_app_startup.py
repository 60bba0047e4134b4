"""Start-up refuses an unmigrated database with an instruction, not a stack of SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.app import create_app
from lti_tool.errors import ConfigError
from lti_tool.services import Services
from lti_tool.store.migrate import upgrade
from lti_tool.web.learner import shipped_catalog
from tests.conftest import embedded_settings


def test_unmigrated_database_names_the_fix(tmp_path: Path) -> None:
    services = Services.build(embedded_settings(tmp_path))
    try:
        with pytest.raises(ConfigError, match="run `cxa db upgrade`"):
            create_app(services=services)
    finally:
        services.close()


def test_the_app_parses_the_curriculum_when_it_is_built(tmp_path: Path) -> None:
    # So a server that builds the app before forking parses it once for every worker.
    shipped_catalog.cache_clear()
    services = Services.build(embedded_settings(tmp_path))
    try:
        upgrade(services.engine)
        create_app(services=services)
        assert shipped_catalog.cache_info().currsize == 1
    finally:
        services.close()
