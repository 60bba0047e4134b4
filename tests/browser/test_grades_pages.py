"""The pages grade sync adds or changes, checked like the learner pages: axe-core in
headless Chromium at desktop and phone widths, no sideways scrolling on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms
from lti_tool.lti.grades import SCOPE_SCORE, SCORE_MEDIA_TYPE
from tests.browser.test_accessibility import (
    COURSE,
    DESKTOP,
    PHONE,
    _describe,
    _violations,
    axe_source,  # noqa: F401 - a fixture
    browser,  # noqa: F401 - a fixture
)
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.lti_tool.test_demo_ags import SCORES, score, token
from tests.unit.web.conftest import answer_fields, attempt_row, launch_learner

pytestmark = pytest.mark.browser


def _check(browser: Any, axe: str, base_url: str, paths: dict[str, str]) -> dict[str, str]:  # noqa: F811
    failures: dict[str, str] = {}
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        for kind, path in paths.items():
            response = page.goto(base_url + path)
            assert response is not None and response.ok, (kind, path)
            found = _violations(page, axe)
            if found:
                failures[f"{kind} ({name})"] = _describe(found)
            if name == "phone":
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    failures[f"{kind} (phone)"] = f"scrolls sideways by {overflow}px"
        context.close()
    return failures


def test_the_quiz_page_with_its_counted_score_passes_axe(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,  # noqa: F811
    axe_source: str,  # noqa: F811
) -> None:
    learner = launch_learner(client, registered, "a11y-grades")
    attempt_id = learner.start_quiz(COURSE)
    with app.extensions["cxa"].sessions() as session:
        questions = attempt_row(session, attempt_id).question_ids
    fields = answer_fields(questions, attempt_id, correct=True)
    learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    path = f"{learner.base}courses/{COURSE}/quiz"
    assert "Your score that counts" in learner.client.get(path).get_data(as_text=True)
    with serve(app) as base_url:
        failures = _check(browser, axe_source, base_url, {"quiz intro": path})
    assert not failures, "\n".join(f"{page}: {text}" for page, text in failures.items())


def test_the_demo_gradebook_passes_axe(
    tmp_path: Path,
    browser: Any,  # noqa: F811
    axe_source: str,  # noqa: F811
) -> None:
    config = DemoLMSConfig("http://lms.test", "http://tool.test", tmp_path)
    lms = create_demo_lms(config)
    answer = lms.test_client().post(
        SCORES,
        json=score(),
        headers={
            "Authorization": f"Bearer {token(config, SCOPE_SCORE)}",
            "Content-Type": SCORE_MEDIA_TYPE,
        },
    )
    assert answer.status_code == 204
    with serve(lms) as base_url:
        failures = _check(browser, axe_source, base_url, {"gradebook": "/gradebook", "course": "/"})
    assert not failures, "\n".join(f"{page}: {text}" for page, text in failures.items())
