"""Start-up refuses an unmigrated database with an instruction, not a stack of SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool.app import create_app
from lti_tool.errors import ConfigError
from lti_tool.services import Services
from tests.conftest import embedded_settings


def test_unmigrated_database_names_the_fix(tmp_path: Path) -> None:
    services = Services.build(embedded_settings(tmp_path))
    try:
        with pytest.raises(ConfigError, match="run `cxa db upgrade`"):
            create_app(services=services)
    finally:
        services.close()
