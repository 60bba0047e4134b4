"""The goal pages in real headless Chromium: the learner's list, form (with its errors and
SMART check), goal, celebration and practice log, the instructor's goals and the L&D
overview have no axe-core violation of any impact at 1280 and 390 px and never scroll
sideways on a phone; a check-in can be made with the keyboard alone.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save the pages' screenshots.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from content import load_catalog
from tests.browser.support import (
    PHONE,
    audit_pages,
    check_page,
    each_width,
    report,
    save_screenshot,
    tab_to,
)
from tests.fixtures.platform import TestPlatform
from tests.unit.web.test_goals_pages import TODAY, set_goal
from tests.unit.web.test_goals_staff import (  # noqa: F401 - the settings fixture
    INSTITUTION_ADMIN,
    in_course,
    staff_settings,
    with_roles,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def pages(app: Flask, client: FlaskClient, registered: TestPlatform) -> dict[str, str]:
    """A learner with goals in every state, a course's instructor and an L&D viewer; the
    paths of every goal page, by screenshot name."""
    learner = in_course(app.test_client(), registered, "course-7", sub="ada")
    statements = load_catalog().require_self_assessment().statements
    weakest = statements[0].skill
    learner.post(
        "self-assessment",
        {f"q.{s.id}": "2" if s.skill == weakest else "4" for s in statements},
    )
    tips = set_goal(learner, visibility="content")
    learner.post(f"goals/{tips}/progress", {"progress": "3"})
    learner.post(
        f"goals/{tips}/check-ins",
        {"did": "Posted three tips", "learned": "Screenshots help", "confidence": "4"},
    )
    done = set_goal(learner, title="Close every contact with a summary", target="2")
    learner.post(f"goals/{done}/progress", {"progress": "2"})
    set_goal(
        learner,
        title="Pass the quizzes",
        metric="quizzes_passed",
        unit="quizzes",
        target="2",
        **{"p.quizzes_passed.min_score": "0.8"},
    )
    for kind, note, share in (
        ("mentoring-given", "Walked Sam through refunds", "yes"),  # on the instructor's page
        ("kb-article", "Fixed", ""),
    ):
        learner.post(
            "practice",
            {"kind": kind, "happened_on": TODAY.isoformat(), "note": note, "share_note": share},
        )
    teacher = in_course(client, registered, "course-7", sub="grace", role="Instructor")
    lnd = with_roles(app.test_client(), registered, [INSTITUTION_ADMIN])
    base = learner.base
    return {
        "goals-list": base + "goals",
        "goals-new": base + "goals/new?template=goal-weekly-channel-tip",
        "goals-goal": base + f"goals/{tips}",
        "goals-celebrate": base + f"goals/{done}/celebrate",
        "goals-practice": base + "practice",
        "goals-instructor": teacher.base + "instructor/goals",
        "goals-insights": lnd.base + "insights/goals",
    }


def test_goal_pages_have_no_axe_violations_of_any_impact(
    app: Flask,
    pages: dict[str, str],
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    # The pages' own CSP, not bypassed: axe runs through the devtools protocol.
    failures = audit_pages(browser, axe_source, tool_url, pages, bypass_csp=False)
    for width, page in each_width(browser, bypass_csp=False):
        # The form with its errors and the SMART check showing.
        page.goto(tool_url + pages["goals-new"])
        page.fill("#f-target", "0")
        page.fill("#f-due", (TODAY - timedelta(days=2)).isoformat())
        page.click("button[value=save]")
        assert "The deadline is in the past" in page.content()
        check_page(page, axe_source, f"goals-form-errors ({width})", failures)
        save_screenshot(page, f"goals-form-errors-{width}")
    assert not failures, report(failures)


def test_a_check_in_can_be_made_by_keyboard_alone(
    app: Flask,
    pages: dict[str, str],
    browser: Any,
    tool_url: str,
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(tool_url + pages["goals-goal"])
    tab_to(
        page,
        "document.activeElement.id",
        "f-did",
        "the check-in form cannot be reached with the Tab key",
    )
    page.keyboard.type("Shared a tip about refunds")
    page.keyboard.press("Tab")
    page.keyboard.type("Examples land better")
    page.keyboard.press("Tab")  # the confidence radios: arrows choose within the group
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") in ("2", "3")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    with page.expect_navigation(url="**done=checked-in"):
        page.keyboard.press("Enter")
    assert "Shared a tip about refunds" in page.content()
    context.close()
