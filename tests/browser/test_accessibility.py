"""WCAG 2.1 AA checks with axe-core in real headless Chromium, on the learner pages.

Chromium, playwright and axe-core come from tests/browser/conftest.py, which says what to
install when one is missing (the test then fails: a skipped accessibility check would look
like a passed one).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from content import load_catalog
from tests.browser.support import PHONE, audit_pages, axe_violations, report, tab_to
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.web.conftest import LearnerBrowser, launch_learner

pytestmark = pytest.mark.browser

COURSE = "service-foundations"


def _pages(client: FlaskClient, learner: LearnerBrowser) -> dict[str, str]:
    """Paths of every kind of learner page, with an open quiz attempt and role-play."""
    lesson = load_catalog().list_course_lessons(COURSE)[0].id
    attempt_id = learner.start_quiz(COURSE)
    done = load_catalog().require_scenario("double-charge")
    run_id = learner.start_scenario(COURSE, done.id)
    return {
        "home": learner.base,
        "course": f"{learner.base}courses/{COURSE}/",
        "lesson": f"{learner.base}courses/{COURSE}/lessons/{lesson}",
        "quiz": f"{learner.base}attempts/{attempt_id}",
        "scenario": f"{learner.base}runs/{run_id}",
        "self-assessment": f"{learner.base}self-assessment",
        "progress": f"{learner.base}courses/{COURSE}/progress",
        # What a person sees opening an activity IRI from an LRS (web/xapi_iris.py).
        "xapi-activity": f"/xapi/activities/course/{COURSE}",
    }


def test_learner_pages_have_no_axe_violations(
    client: FlaskClient, registered: TestPlatform, browser: Any, axe_source: str, tool_url: str
) -> None:
    learner = launch_learner(client, registered, "a11y-learner")
    paths = _pages(client, learner)
    failures = audit_pages(browser, axe_source, tool_url, paths, screenshots=False)
    assert not failures, report(failures)


def test_a_quiz_can_be_answered_and_submitted_by_keyboard_alone(
    client: FlaskClient, registered: TestPlatform, browser: Any, tool_url: str
) -> None:
    learner = launch_learner(client, registered, "keyboard-learner")
    attempt_path = _pages(client, learner)["quiz"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(tool_url + attempt_path)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    # Tab to the "Submit answers" button and press Enter, touching no mouse.
    tab_to(
        page,
        "document.activeElement.value",
        "submit",
        "the Submit button cannot be reached with the Tab key",
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == attempt_path
    assert "Results of attempt 1" in page.content()
    context.close()


def test_the_axe_harness_reports_a_real_violation(browser: Any, axe_source: str) -> None:
    # Guards the check itself: an unlabelled field must be caught, or "no violations" above
    # could mean axe never ran.
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
    assert "label" in {v["id"] for v in axe_violations(page, axe_source)}
    context.close()


def test_the_page_audit_reports_violations_and_sideways_scrolling(
    browser: Any, axe_source: str
) -> None:
    # Guards the shared loop every page test relies on: a page it passed would be clean.
    bad = Flask("bad-page")

    @bad.get("/")
    def wide_unlabelled_form() -> str:
        return (
            '<html lang="en"><title>t</title><main><input type="text">'
            '<div style="width: 3000px">wide</div></main></html>'
        )

    with serve(bad) as url:
        failures = audit_pages(browser, axe_source, url, {"bad": "/"}, screenshots=False)
    assert set(failures) == {"bad (1280)", "bad (1280) overflow", "bad (390)", "bad (390) overflow"}
    assert "label" in failures["bad (390)"]
