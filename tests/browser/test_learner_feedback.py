"""Feedback where the learner looks, a home that shows the way: in real headless Chromium.

After a knowledge check, a role-play reply or a self-assessment problem the page lands on
the feedback (URL fragment plus focus) and the live region announces it; a role-play
completes by keyboard alone; every page changed for issue 11 has no axe violations at
1280 and 390 px. Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save their
screenshots. Same requirements as every browser test (conftest.py): a missing Chromium,
playwright or npm fails, never skips.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from content import load_catalog
from lti_tool.services import Services
from lti_tool.store.branding import set_branding
from lti_tool.store.models import Launch
from tests.browser.support import (
    DESKTOP,
    PHONE,
    VIEWPORTS,
    axe_violations,
    describe,
    each_width,
    save_screenshot,
)
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import launch_learner

pytestmark = pytest.mark.browser

COURSE = "service-foundations"
LESSON = "active-listening"


def _axe_clean(page: Any, axe: str, what: str) -> None:
    found = axe_violations(page, axe)
    assert not found, f"{what}: {describe(found)}"


def _announced(page: Any) -> str:
    page.wait_for_function("document.getElementById('announce').textContent.length > 0")
    return str(page.evaluate("document.getElementById('announce').textContent"))


def _focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def test_a_knowledge_check_lands_on_its_result_and_announces_it(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "check-learner")
    lesson_path = f"{learner.base}courses/{COURSE}/lessons/{LESSON}"
    for width, page in each_width(browser):
        page.goto(tool_url + lesson_path)
        # Nothing chosen: the page lands on the problem summary, not the top.
        with page.expect_navigation():
            page.click("#check button[type=submit]")
        assert _focused_id(page) == "check-problems"
        assert "Answer at least one question" in _announced(page)
        _axe_clean(page, axe_source, f"knowledge check problem ({width})")
        page.check("#check input[type=radio] >> nth=0")
        with page.expect_navigation():
            page.click("#check button[type=submit]")
        assert page.url.endswith("#check-result")
        assert _focused_id(page) == "check-result"
        assert "You got" in _announced(page)
        # The result is in view, not 1,500 px below it.
        top = page.evaluate("document.getElementById('check-result').getBoundingClientRect().top")
        assert -1 <= top < page.viewport_size["height"] / 2
        _axe_clean(page, axe_source, f"knowledge check result ({width})")
        # The viewport only: the picture shows where the learner lands.
        save_screenshot(page, f"lesson-knowledge-check-{width}", full_page=False)


def test_a_role_play_completes_by_keyboard_and_lands_on_each_reply_and_the_debrief(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    scenario = load_catalog().require_scenario("double-charge")
    for width, viewport in VIEWPORTS.items():
        learner = launch_learner(client, registered, f"keyboard-rp-{width}")
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{tool_url}{learner.base}courses/{COURSE}/scenarios/{scenario.id}")
        _axe_clean(page, axe_source, f"role-play intro ({width})")

        def tab_to(test: str, page: Any = page) -> None:
            for _ in range(80):
                page.keyboard.press("Tab")
                if page.evaluate(test):
                    return
            pytest.fail(f"Tab never reached {test}", pytrace=False)

        tab_to("document.activeElement.textContent.includes('Start the conversation')")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        replies = 0
        while page.query_selector("input[name=choice]") is not None:
            _axe_clean(page, axe_source, f"role-play step {replies} ({width})")
            tab_to("document.activeElement.name === 'choice'")
            # The last reply offered: with per-run shuffling, any position is possible.
            page.keyboard.press("End")
            page.keyboard.press("Space")
            tab_to("document.activeElement.textContent.trim() === 'Reply'")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            replies += 1
            if page.query_selector("input[name=choice]") is not None:
                assert page.url.endswith("#latest")
                assert _focused_id(page) == "latest"
            assert replies < 20
        assert page.url.endswith("#debrief")
        assert _focused_id(page) == "debrief"
        assert "Debrief" in page.content()
        _axe_clean(page, axe_source, f"role-play debrief ({width})")
        save_screenshot(page, f"role-play-debrief-{width}")
        context.close()


def test_self_assessment_grid_phone_steps_and_result_chart(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "sa-learner")
    form = f"{learner.base}self-assessment"
    # Desktop: every skill at once as a grid; an empty submit lands on the problem.
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    page.goto(tool_url + form)
    assert page.evaluate("[...document.querySelectorAll('[data-step]')].every(s => !s.hidden)")
    _axe_clean(page, axe_source, "self-assessment grid (1280)")
    save_screenshot(page, "self-assessment-grid-1280")
    with page.expect_navigation():
        page.click("form[data-steps] button[type=submit]")
    assert _focused_id(page) == "sa-problem"
    assert "Rate at least one" in _announced(page)
    context.close()

    # Phone: one skill per step, Next moves focus to the next skill's fieldset.
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.goto(tool_url + form)
    visible = "[...document.querySelectorAll('[data-step]')].filter(s => !s.hidden).length"
    assert page.evaluate(visible) == 1
    steps = page.evaluate("document.querySelectorAll('[data-step]').length")

    def rate(step: int) -> None:
        # A spread of ratings, so the result chart has short and long bars.
        rows = page.query_selector_all(f"#step-{step} .rating-row")
        for row_index, row in enumerate(rows):
            row.query_selector_all("input")[(step * 2 + row_index) % 5].check()

    rate(1)
    _axe_clean(page, axe_source, "self-assessment step (390)")
    save_screenshot(page, "self-assessment-step-390")
    page.click("text=Next skill")
    assert _focused_id(page) == "step-2"
    assert page.evaluate(visible) == 1
    for step in range(2, steps):
        rate(step)
        page.click("text=Next skill")
    rate(steps)
    with page.expect_navigation():
        page.click("form[data-steps] button[type=submit]")
    assert "/self-assessment/results/" in page.url
    context.close()

    result_path = page.url.split(tool_url, 1)[1]
    for width, page in each_width(browser):
        page.goto(tool_url + result_path)
        assert page.query_selector_all("meter")
        _axe_clean(page, axe_source, f"self-assessment result ({width})")
        save_screenshot(page, f"self-assessment-result-{width}")


def test_home_shows_the_path_brand_and_no_favicon_404(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,
    axe_source: str,
    services: Services,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "home-learner")
    assert learner.get(f"courses/{COURSE}/lessons/{LESSON}").status_code == 200
    with services.sessions() as session:
        launch = session.scalars(select(Launch)).first()
        assert launch is not None
        set_branding(
            session, launch.platform_id, organisation="Northwind Support", accent="#1e6b3a"
        )
        session.commit()
    for width, page in each_width(browser):
        missing: list[str] = []
        page.on(
            "response",
            lambda r, missing=missing: missing.append(r.url) if r.status == 404 else None,
        )
        page.goto(tool_url + learner.base)
        page.goto(tool_url + "/favicon.ico")
        page.goto(tool_url + learner.base)
        assert not missing, missing
        assert "Northwind Support" in page.content()
        accent = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        assert accent == "#1e6b3a"
        _axe_clean(page, axe_source, f"home ({width})")
        save_screenshot(page, f"home-{width}")
