"""The pages a placed link changes, in real headless Chromium: the quiz intro with the
placement's rules, a placed role-play with its pass mark and attempts, and the progress
page's history across placements. WCAG 2.1 AA with axe-core at 1280 and 390 px.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save their screenshots.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.services import Services
from tests.browser.support import audit_pages, report
from tests.fixtures.platform import TestPlatform
from tests.unit.web.test_grade_publishing import (
    COURSE,
    SCENARIO,
    finish_scenario,
    launch_with,
    take_quiz,
)
from tests.unit.web.test_placement_rules import QUIZ_ID, placement

pytestmark = pytest.mark.browser


def test_placed_pages_have_no_serious_axe_violations_at_desktop_and_phone_width(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    rules = {"cxa_activity": QUIZ_ID, "cxa_pass_mark": "90", "cxa_attempts": "2"}
    week1 = launch_with(
        client, registered, placement(registered, "week-1", rules, title="Week one check")
    )
    with services.sessions() as session:
        take_quiz(week1, session, correct=True)
    week2 = launch_with(
        client,
        registered,
        placement(registered, "week-2", {**rules, "cxa_draw": "5"}, title="Week two check"),
    )
    with services.sessions() as session:
        take_quiz(week2, session, correct=False)
    role_play = {"cxa_activity": f"scenario:{SCENARIO.id}", "cxa_pass_mark": "60"}
    played = launch_with(client, registered, placement(registered, "rp", role_play))
    run_id = finish_scenario(played)
    pages = {
        "placed-quiz-intro": f"{week2.base}courses/{COURSE}/quiz",
        "placed-role-play": f"{played.base}courses/{COURSE}/scenarios/{SCENARIO.id}",
        "placed-role-play-debrief": f"{played.base}runs/{run_id}",
        "progress-placements": f"{week2.base}courses/{COURSE}/progress",
    }
    failures = audit_pages(browser, axe_source, tool_url, pages)
    assert not failures, report(failures)
