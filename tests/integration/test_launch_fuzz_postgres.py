"""The signed-launch fuzzing of tests/unit/web/test_fuzz.py, against PostgreSQL.

PostgreSQL is stricter than SQLite (NUL bytes in text, VARCHAR lengths, what its json type
accepts), so mutated claims that SQLite stores could still crash a launch there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lti_tool.config import Settings
from tests.conftest import embedded_settings
from tests.fixtures.stack import migrated_database
from tests.unit.web.test_fuzz import (
    test_signed_launches_with_mutated_claims_never_answer_500 as test_signed_launches_on_postgresql,
)

pytestmark = pytest.mark.integration

__all__ = ["test_signed_launches_on_postgresql"]


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    with migrated_database(tmp_path) as url:
        yield embedded_settings(
            tmp_path,
            database_url=url,
            # Many launches from one client: the rate limits have tests of their own.
            rate_limit_per_client="1000000/minute",
            rate_limit_per_platform="1000000/minute",
        )
