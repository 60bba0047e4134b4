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
from tests.browser.support import audit_pages, report
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.lti_tool.test_demo_ags import SCORES, score, token
from tests.unit.web.conftest import answer_fields, attempt_row, launch_learner

pytestmark = pytest.mark.browser

COURSE = "service-foundations"


def test_the_quiz_page_with_its_counted_score_passes_axe(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "a11y-grades")
    attempt_id = learner.start_quiz(COURSE)
    with app.extensions["cxa"].sessions() as session:
        questions = attempt_row(session, attempt_id).question_ids
    fields = answer_fields(questions, attempt_id, correct=True)
    learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    path = f"{learner.base}courses/{COURSE}/quiz"
    assert "Your score that counts" in learner.client.get(path).get_data(as_text=True)
    failures = audit_pages(browser, axe_source, tool_url, {"quiz intro": path}, screenshots=False)
    assert not failures, report(failures)


def test_the_demo_gradebook_passes_axe(
    tmp_path: Path,
    browser: Any,
    axe_source: str,
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
        paths = {"gradebook": "/gradebook", "course": "/"}
        failures = audit_pages(browser, axe_source, base_url, paths, screenshots=False)
    assert not failures, report(failures)
