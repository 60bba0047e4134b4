"""The instructor's class view and item analysis in real headless Chromium: axe-core
reports no violation of any impact at 1280 and 390 px, the page never scrolls sideways on a
phone (the wide table scrolls in its own focusable region), and an action can be taken by
keyboard alone.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save the pages' screenshots.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from content import load_catalog
from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.models import Platform
from lti_tool.store.roster import MemberRecord, replace_members
from tests.browser.test_accessibility import (  # noqa: F401 - module fixtures reused here
    AXE_TAGS,
    _describe,
    axe_source,
    browser,
)
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.web.instructor.test_class_view import teacher, unlimited_settings  # noqa: F401
from tests.unit.web.test_grade_publishing import ags_claim, launch_with, take_quiz

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
QUIZ = load_catalog().require_quiz("service-foundations-quiz")
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _all_violations(page: Any, axe: str) -> list[dict[str, Any]]:
    # Every impact, minor included: these pages are new and can be clean.
    page.evaluate(axe)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return list(results["violations"])


@pytest.fixture
def classroom(app: Flask, client: FlaskClient, registered: TestPlatform) -> str:
    """A class with every state on show; returns the instructor's session path."""
    sessions = app.extensions["cxa"].sessions
    with sessions() as session:
        passer = launch_with(app.test_client(), registered, ags_claim(registered), sub="pat")
        take_quiz(passer, session, correct=True)
        failer = launch_with(app.test_client(), registered, ags_claim(registered), sub="fay")
        take_quiz(failer, session, correct=False)
        failer.start_quiz("service-foundations")
        rows = session.scalars(select(GradeRow).order_by(GradeRow.id)).all()
        rows[0].status = GradeStatus.SENT
        rows[1].status, rows[1].last_error = GradeStatus.DEAD, "HTTP 422: user not enrolled"
        platform_id = session.scalars(select(Platform.id)).one()
        replace_members(
            session,
            platform_id,
            "course-7",
            [
                MemberRecord("pat", "Active", (LEARNER,), "Pat Passer", None),
                MemberRecord("fay", "Active", (LEARNER,), "Fay Failer", None),
                MemberRecord("nev", "Active", (LEARNER,), "Nev Neverlaunched", None),
                MemberRecord("ina", "Inactive", (LEARNER,), "Ina Inactive", None),
            ],
        )
        session.commit()
    return teacher(client, registered).base


def test_class_view_and_item_analysis_have_no_axe_violations_of_any_impact(
    app: Flask,
    classroom: str,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
) -> None:
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    pages = {
        "class-view": classroom + "instructor/class",
        "item-analysis": classroom + f"instructor/class/quizzes/{QUIZ.id}",
    }
    failures: dict[str, str] = {}
    with serve(app) as base_url:
        for width, viewport in (("1280", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            for name, path in pages.items():
                response = page.goto(base_url + path)
                assert response is not None and response.ok, (name, width)
                found = _all_violations(page, axe_source)
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


def test_an_extra_attempt_can_be_granted_by_keyboard_alone(
    app: Flask,
    classroom: str,
    browser: Any,  # noqa: F811 - the fixture imported above
) -> None:
    label = "Extra attempt"
    with serve(app) as base_url:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(base_url + classroom + "instructor/class")
        reached_table = False
        for _ in range(300):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('role')") == "region":
                reached_table = True
            if page.evaluate("document.activeElement.textContent.trim()") == label:
                break
        else:
            pytest.fail("no action button can be reached with the Tab key")
        assert reached_table, "the scrolling table region is not focusable"
        with page.expect_navigation(url="**/instructor/class?done=grant_attempt"):
            page.keyboard.press("Enter")
        assert "An extra attempt was granted." in page.content()
        context.close()
