"""The pages a placed link changes, in real headless Chromium: the quiz intro with the
placement's rules, a placed role-play with its pass mark and attempts, and the progress
page's history across placements. WCAG 2.1 AA with axe-core at 1280 and 390 px.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save their screenshots.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.services import Services
from tests.browser.test_accessibility import (  # noqa: F401 - module fixtures reused here
    _describe,
    _violations,
    axe_source,
    browser,
)
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.web.test_grade_publishing import (
    COURSE,
    SCENARIO,
    finish_scenario,
    launch_with,
    take_quiz,
)
from tests.unit.web.test_placement_rules import QUIZ_ID, placement

pytestmark = pytest.mark.browser

VIEWPORTS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def test_placed_pages_have_no_serious_axe_violations_at_desktop_and_phone_width(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
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
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    failures: dict[str, str] = {}
    with serve(app) as base_url:
        for width, viewport in VIEWPORTS.items():
            # bypass_csp lets axe run on our pages, whose CSP forbids injected scripts.
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            for name, path in pages.items():
                response = page.goto(base_url + path)
                assert response is not None and response.ok, (name, path)
                found = _violations(page, axe_source)
                if found:
                    failures[f"{name} ({width})"] = _describe(found)
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    failures[f"{name} ({width}) overflow"] = f"scrolls sideways by {overflow}px"
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"{name}-{width}.png"), full_page=True)
            context.close()
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())
