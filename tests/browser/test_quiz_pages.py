"""The quiz pages in real headless Chromium: after a save, a refused submit and a submit,
the page lands on what happened (URL fragment, keyboard focus, a live role), and every
state passes WCAG 2.1 AA with axe-core at 1280 and 390 px.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save their screenshots.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from content import load_catalog
from lti_tool.services import Services
from lti_tool.store.learning import QuizAttempt
from tests.browser.support import PHONE, check_page, each_width, report, save_screenshot
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import answer_fields, launch_learner

pytestmark = pytest.mark.browser

COURSE = "service-foundations"
QUIZ_ID = "service-foundations-quiz"


def _with_ordering_question(services: Services, attempt_id: str) -> Any:
    """Make sure the attempt's random draw holds an ordering question, so a learner's slip
    (two steps at one position) can be made; returns that question."""
    ordering = next(q for q in load_catalog().list_quiz_pool(QUIZ_ID) if q.type == "ordering")
    with services.sessions() as session:
        attempt = session.get(QuizAttempt, uuid.UUID(attempt_id))
        assert attempt is not None
        if ordering.id not in attempt.question_ids:
            attempt.question_ids = [ordering.id, *attempt.question_ids[1:]]
        session.commit()
    return ordering


def _landed(page: Any) -> dict[str, Any]:
    """Where the page put the learner: the focused element, its live role, the fragment."""
    focused = page.evaluate(
        "() => ({id: document.activeElement.id, role: document.activeElement.getAttribute('role'),"
        " text: document.activeElement.textContent.trim()})"
    )
    return {**focused, "hash": urlsplit(page.url).fragment}


def test_save_refused_submit_and_result_each_land_on_their_message(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "quiz-landing-learner")
    attempt_id = learner.start_quiz(COURSE)
    ordering = _with_ordering_question(services, attempt_id)
    steps = [f"q.{ordering.id}.{item.id}" for item in ordering.items]  # type: ignore[union-attr]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{tool_url}{learner.base}attempts/{attempt_id}")

    # Save: the status message gets focus, so a screen reader reads it first.
    with page.expect_navigation():
        page.get_by_role("button", name="Save and finish later").click()
    landed = _landed(page)
    assert (landed["id"], landed["role"], landed["hash"]) == ("feedback", "status", "feedback")
    assert "Your answers are saved" in landed["text"]

    # A slip: two steps at position 1. The summary is focused and links to the question.
    page.select_option(f"select[name='{steps[0]}']", "1")
    page.select_option(f"select[name='{steps[1]}']", "1")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit answers").click()
    landed = _landed(page)
    assert (landed["id"], landed["role"], landed["hash"]) == ("feedback", "alert", "feedback")
    assert "Give each step a different position." in landed["text"]
    page.keyboard.press("Tab")  # the first thing after the summary is its link
    assert page.evaluate("document.activeElement.getAttribute('href')") == f"#q.{ordering.id}"

    # Submit for real: the review opens on the score.
    for field in steps:
        page.select_option(f"select[name='{field}']", "")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit answers").click()
    landed = _landed(page)
    assert (landed["id"], landed["role"], landed["hash"]) == ("result", "status", "result")
    assert landed["text"].startswith("You scored 0%: 0 of 10 points.")
    context.close()


def test_quiz_pages_have_no_axe_violations_at_desktop_and_phone_width(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "quiz-pages-learner")
    # A finished attempt (half right) to review, and an open one with a slip in it.
    reviewed = learner.start_quiz(COURSE)
    with services.sessions() as session:
        questions = session.get(QuizAttempt, uuid.UUID(reviewed)).question_ids  # type: ignore[union-attr]
    half = [
        *answer_fields(questions[:5], reviewed, correct=True),
        *answer_fields(questions[5:], reviewed, correct=False),
    ]
    assert learner.post(f"attempts/{reviewed}", [*half, ("action", "submit")]).status_code == 303
    open_id = learner.start_quiz(COURSE)
    ordering = _with_ordering_question(services, open_id)
    first, second = (f"q.{ordering.id}.{item.id}" for item in ordering.items[:2])  # type: ignore[union-attr]
    pages: dict[str, tuple[str, list[tuple[str, str]] | None]] = {
        "quiz-intro": (f"courses/{COURSE}/quiz", None),
        "quiz-attempt-saved": (f"attempts/{open_id}?saved=1", None),
        "quiz-attempt-problem": (f"attempts/{open_id}", [(first, "1"), (second, "1")]),
        "quiz-review": (f"attempts/{reviewed}", None),
        "course-progress": (f"courses/{COURSE}/progress", None),
        "course-page": (f"courses/{COURSE}/", None),
    }
    failures: dict[str, str] = {}
    for width, page in each_width(browser):
        for name, (path, slip) in pages.items():
            response = page.goto(f"{tool_url}{learner.base}{path}")
            assert response is not None and response.ok, (name, path)
            if slip:
                for field, value in slip:
                    page.select_option(f"select[name='{field}']", value)
                with page.expect_navigation():
                    page.get_by_role("button", name="Submit answers").click()
                assert page.locator("#feedback.problem-summary").count() == 1
            check_page(page, axe_source, f"{name} ({width})", failures)
            save_screenshot(page, f"{name}-{width}")
    assert not failures, report(failures)
