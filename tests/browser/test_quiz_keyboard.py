"""A quiz answered and submitted by keyboard alone, in real headless Chromium: every question
type is answered with the keys a keyboard user has (Tab, arrow keys, Space, Enter), never a
mouse click or a script setting a value, and the learner lands on the result with all points.
axe-core finds no violations on the attempt page or on the review.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from content import load_catalog
from content.schema import MatchingQuestion, OrderingQuestion
from lti_tool.services import Services
from lti_tool.store.learning import QuizAttempt
from tests.browser.support import PHONE, axe_violations, describe
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import launch_learner

pytestmark = pytest.mark.browser

COURSE = "service-foundations"
QUIZ_ID = "service-foundations-quiz"


def _one_of_each_type(services: Services, attempt_id: str) -> dict[str, Any]:
    """Give the attempt one question of every type the quiz's pool holds, so each kind of
    control is met; returns those questions by id."""
    picked: dict[str, Any] = {}
    for question in load_catalog().list_quiz_pool(QUIZ_ID):
        picked.setdefault(question.type, question)
    with services.sessions() as session:
        attempt = session.get(QuizAttempt, uuid.UUID(attempt_id))
        assert attempt is not None
        attempt.question_ids = [q.id for q in picked.values()]
        session.commit()
    return {q.id: q for q in picked.values()}


def _right_texts(question: Any) -> set[str]:
    return {option.text for option in question.options if option.correct}


def _wanted_in_select(question: Any, part_id: str) -> str:
    """The visible text a right answer shows in a step's or an item's drop-down."""
    if isinstance(question, OrderingQuestion):
        return str([item.id for item in question.items].index(part_id) + 1)
    assert isinstance(question, MatchingQuestion)
    return next(pair.match for pair in question.pairs if pair.id == part_id)


def _focused(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : '';
              const shown = el.tagName === 'SELECT' && el.selectedIndex >= 0
                ? el.options[el.selectedIndex].textContent.trim() : '';
              return {tag: el.tagName, type: el.type || '', name: el.name || '',
                      value: el.value || '', label, shown, checked: !!el.checked,
                      id: el.id, role: el.getAttribute('role'), text: el.textContent.trim()};
            }"""
        )
    )


def _choose_radio(page: Any, question: Any) -> None:
    # Arrow keys move through the group and check what they land on; Space checks the
    # first one if Tab arrived on it unchecked.
    right = _right_texts(question)
    for _ in range(len(question.options)):
        now = _focused(page)
        if now["label"] in right:
            page.keyboard.press("Space")
            assert _focused(page)["checked"], question.id
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"{question.id}: the right option was never reached with the arrow keys")


def _choose_in_select(page: Any, question: Any, part_id: str) -> None:
    wanted = _wanted_in_select(question, part_id)
    for _ in range(12):
        if _focused(page)["shown"] == wanted:
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"{question.id}.{part_id}: {wanted!r} never reached with the arrow keys")


def test_every_question_type_is_answered_and_submitted_by_keyboard_alone(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "quiz-keyboard-learner")
    attempt_id = learner.start_quiz(COURSE)
    questions = _one_of_each_type(services, attempt_id)
    kinds = {q.type for q in questions.values()}
    assert kinds == {
        "single_choice",
        "multiple_response",
        "true_false",
        "scenario_judgement",
        "ordering",
        "matching",
    }
    answered: set[str] = set()
    # bypass_csp lets axe run on our pages, whose CSP forbids injected scripts.
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{tool_url}{learner.base}attempts/{attempt_id}")
    found = axe_violations(page, axe_source)
    assert not found, f"attempt page: {describe(found)}"

    for _ in range(300):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now["tag"] == "BUTTON" and now["value"] == "submit":
            break
        if not now["name"].startswith("q."):
            continue
        _, question_id, *part = now["name"].split(".", 2)
        question = questions[question_id]
        if now["type"] == "radio" and question_id not in answered:
            _choose_radio(page, question)
        elif now["type"] == "checkbox" and now["label"] in _right_texts(question):
            page.keyboard.press("Space")
            assert _focused(page)["checked"]
        elif now["tag"] == "SELECT":
            _choose_in_select(page, question, part[0])
        answered.add(question_id)
    else:
        pytest.fail("the Submit button cannot be reached with the Tab key")
    assert answered == set(questions), "some questions were never reached by Tab"

    with page.expect_navigation():
        page.keyboard.press("Enter")
    landed = _focused(page)
    assert (landed["id"], landed["role"]) == ("result", "status")
    assert landed["text"].startswith("You scored 100%"), landed["text"]
    assert page.url.endswith("#result")
    found = axe_violations(page, axe_source)
    assert not found, f"review: {describe(found)}"
    context.close()
