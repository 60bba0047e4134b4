"""The submission review page and the demo gradebook's review button in headless Chromium:
axe-core reports no violation of any impact at 1280 and 390 px, no sideways scrolling on a
phone, and the review button is reached with the Tab key.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save the pages' screenshots.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from content.schema import DecisionNode
from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms
from lti_tool.lti.grades import LINEITEM_MEDIA_TYPE, SCOPE_LINEITEM, SCOPE_SCORE, SCORE_MEDIA_TYPE
from lti_tool.web.scenario import offered_choices
from tests.browser.support import PHONE, audit_pages, report, tab_to
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.lti_tool.test_demo_ags import ROOT, score, token
from tests.unit.web.conftest import learner, session  # noqa: F401 - fixtures handed_in needs
from tests.unit.web.instructor.test_submission_review import (  # noqa: F401 - a fixture
    handed_in,
    review_launch,
)
from tests.unit.web.test_scenario import SCENARIO, best_path

pytestmark = pytest.mark.browser


def _review_path(client: FlaskClient, registered: TestPlatform, activity: str) -> str:
    response = review_launch(
        client,
        registered,
        role="Instructor",
        sub="teacher-1",
        for_user={"user_id": "learner-1", "name": "Lee Learner"},
        activity=activity,
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return urlsplit(response.headers["Location"]).path


def test_the_review_pages_have_no_axe_violations_of_any_impact(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    handed_in: int,  # noqa: F811 - the fixture imported above
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    quiz_review = _review_path(client, registered, "quiz:service-foundations-quiz")
    # learner-1 also plays the role-play to its end, from a fresh launch of link-1.
    learner_page = registered.launch(client, role="Learner", sub="learner-1")
    base = urlsplit(learner_page.headers["Location"]).path
    csrf_page = client.get(base + "self-assessment").get_data(as_text=True)
    csrf = csrf_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    started = client.post(
        base + "courses/service-foundations/scenarios/double-charge/runs",
        data={"csrf_token": csrf},
    )
    run_path = urlsplit(started.headers["Location"]).path
    run_id = uuid.UUID(run_path.rstrip("/").rsplit("/", 1)[-1])
    node = SCENARIO.node(SCENARIO.start)
    for step, choice_id in enumerate(best_path()):
        assert isinstance(node, DecisionNode)
        # The form sends a reply's place in this run's shuffled order, never its id.
        offered = [c.id for c in offered_choices(run_id, node)]
        value = str(offered.index(choice_id) + 1)
        reply = client.post(run_path, data={"csrf_token": csrf, "step": str(step), "choice": value})
        assert reply.status_code == 303, reply.get_data(as_text=True)
        node = SCENARIO.node(next(c for c in node.choices if c.id == choice_id).next)
    run_review = _review_path(client, registered, "scenario:double-charge")
    pages = {"submission-review-quiz": quiz_review, "submission-review-role-play": run_review}
    failures = audit_pages(browser, axe_source, tool_url, pages)
    assert not failures, report(failures)


def test_the_demo_gradebooks_review_button_passes_axe_and_takes_the_keyboard(
    tmp_path: Path,
    browser: Any,
    axe_source: str,
) -> None:
    config = DemoLMSConfig("http://lms.test", "http://tool.test", tmp_path)
    lms = create_demo_lms(config).test_client()
    created = lms.post(
        f"{ROOT}/lineitems",
        json={
            "label": "Service Foundations final quiz",
            "scoreMaximum": 100,
            "resourceId": "quiz:service-foundations-quiz",
            "submissionReview": {"reviewableStatus": ["Submitted", "Completed"]},
        },
        headers={
            "Authorization": f"Bearer {token(config, SCOPE_LINEITEM)}",
            "Content-Type": LINEITEM_MEDIA_TYPE,
        },
    ).get_json()
    sent = lms.post(
        created["id"].removeprefix(config.base_url) + "/scores",
        json=score(),
        headers={
            "Authorization": f"Bearer {token(config, SCOPE_SCORE)}",
            "Content-Type": SCORE_MEDIA_TYPE,
        },
    )
    assert sent.status_code == 204
    with serve(lms.application) as lms_url:
        failures = audit_pages(
            browser, axe_source, lms_url, {"demo-gradebook-review": "/gradebook"}
        )
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(lms_url + "/gradebook")
        tab_to(
            page,
            "document.activeElement.textContent.trim()",
            "Review submission",
            "the review button cannot be reached with the Tab key",
            presses=60,
        )
        context.close()
    assert not failures, report(failures)
