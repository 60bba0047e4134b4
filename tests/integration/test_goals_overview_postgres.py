"""The L&D overview's figures of tests/unit/web/test_goals_report.py, against PostgreSQL.

The overview groups, ranks and averages in SQL (json_each, window functions, timestamp
arithmetic), which the two databases spell differently: every figure must come out the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lti_tool.config import Settings
from tests.conftest import embedded_settings
from tests.fixtures.stack import migrated_database
from tests.unit.web.test_goals_report import (
    org,
    session,
    test_course_titles_are_the_latest_each_course_was_sent,
    test_movement_compares_each_learners_first_and_latest_rating,
    test_outcomes_count_each_status_and_the_median_days_to_achieve,
    test_the_csv_has_counts_only_and_defuses_formulas,
    test_the_overview_of_a_hand_counted_organisation,
)

pytestmark = pytest.mark.integration

__all__ = [
    "org",
    "session",
    "test_course_titles_are_the_latest_each_course_was_sent",
    "test_movement_compares_each_learners_first_and_latest_rating",
    "test_outcomes_count_each_status_and_the_median_days_to_achieve",
    "test_the_csv_has_counts_only_and_defuses_formulas",
    "test_the_overview_of_a_hand_counted_organisation",
]


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    with migrated_database(tmp_path) as url:
        yield embedded_settings(tmp_path, database_url=url)
