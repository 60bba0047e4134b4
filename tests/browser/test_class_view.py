"""The instructor's class view and item analysis in real headless Chromium: axe-core
reports no violation of any impact at 1280 and 390 px, the page never scrolls sideways on a
phone (the wide table scrolls in its own focusable region), and an action can be taken by
keyboard alone.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save the pages' screenshots.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from content import load_catalog
from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.models import Platform
from lti_tool.store.roster import MemberRecord, replace_members
from tests.browser.support import PHONE, audit_pages, report
from tests.fixtures.platform import TestPlatform
from tests.unit.web.instructor.test_class_view import teacher, unlimited_settings  # noqa: F401
from tests.unit.web.test_grade_publishing import ags_claim, launch_with, take_quiz

pytestmark = pytest.mark.browser

QUIZ = load_catalog().require_quiz("service-foundations-quiz")
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


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
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    pages = {
        "class-view": classroom + "instructor/class",
        "item-analysis": classroom + f"instructor/class/quizzes/{QUIZ.id}",
    }
    # The pages' own CSP, not bypassed: axe runs through the devtools protocol.
    failures = audit_pages(browser, axe_source, tool_url, pages, bypass_csp=False)
    assert not failures, report(failures)


def test_an_extra_attempt_can_be_granted_by_keyboard_alone(
    app: Flask,
    classroom: str,
    browser: Any,
    tool_url: str,
) -> None:
    label = "Extra attempt"
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(tool_url + classroom + "instructor/class")
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
