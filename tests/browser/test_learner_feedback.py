"""Feedback where the learner looks, a home that shows the way: in real headless Chromium.

After a knowledge check, a role-play reply or a self-assessment problem the page lands on
the feedback (URL fragment plus focus) and the live region announces it; a role-play
completes by keyboard alone; every page changed for issue 11 has no axe violations at
1280 and 390 px. Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save their
screenshots. Same requirements as test_accessibility.py: a missing Chromium, playwright
or npm fails, never skips.
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
from lti_tool.services import Services
from lti_tool.store.branding import set_branding
from lti_tool.store.models import Launch
from tests.browser.test_accessibility import (  # noqa: F401 - module fixtures reused here
    DESKTOP,
    PHONE,
    _describe,
    _violations,
    axe_source,
    browser,
)
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.web.conftest import launch_learner

pytestmark = pytest.mark.browser

COURSE = "service-foundations"
LESSON = "active-listening"
VIEWPORTS = {"1280": DESKTOP, "390": PHONE}


def _axe_clean(page: Any, axe: str, what: str) -> None:
    found = _violations(page, axe)
    assert not found, f"{what}: {_describe(found)}"


def _announced(page: Any) -> str:
    page.wait_for_function("document.getElementById('announce').textContent.length > 0")
    return str(page.evaluate("document.getElementById('announce').textContent"))


def _focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def _shot(page: Any, name: str, width: str, *, full_page: bool = True) -> None:
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"{name}-{width}.png"), full_page=full_page)


def test_a_knowledge_check_lands_on_its_result_and_announces_it(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
) -> None:
    learner = launch_learner(client, registered, "check-learner")
    lesson_path = f"{learner.base}courses/{COURSE}/lessons/{LESSON}"
    with serve(app) as base_url:
        for width, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            page.goto(base_url + lesson_path)
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
            top = page.evaluate(
                "document.getElementById('check-result').getBoundingClientRect().top"
            )
            assert -1 <= top < viewport["height"] / 2
            _axe_clean(page, axe_source, f"knowledge check result ({width})")
            # The viewport only: the picture shows where the learner lands.
            _shot(page, "lesson-knowledge-check", width, full_page=False)
            context.close()


def test_a_role_play_completes_by_keyboard_and_lands_on_each_reply_and_the_debrief(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
) -> None:
    scenario = load_catalog().require_scenario("double-charge")
    with serve(app) as base_url:
        for width, viewport in VIEWPORTS.items():
            learner = launch_learner(client, registered, f"keyboard-rp-{width}")
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            page.goto(f"{base_url}{learner.base}courses/{COURSE}/scenarios/{scenario.id}")
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
            _shot(page, "role-play-debrief", width)
            context.close()


def test_self_assessment_grid_phone_steps_and_result_chart(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
) -> None:
    learner = launch_learner(client, registered, "sa-learner")
    form = f"{learner.base}self-assessment"
    with serve(app) as base_url:
        # Desktop: every skill at once as a grid; an empty submit lands on the problem.
        context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
        page = context.new_page()
        page.goto(base_url + form)
        assert page.evaluate("[...document.querySelectorAll('[data-step]')].every(s => !s.hidden)")
        _axe_clean(page, axe_source, "self-assessment grid (1280)")
        _shot(page, "self-assessment-grid", "1280")
        with page.expect_navigation():
            page.click("form[data-steps] button[type=submit]")
        assert _focused_id(page) == "sa-problem"
        assert "Rate at least one" in _announced(page)
        context.close()

        # Phone: one skill per step, Next moves focus to the next skill's fieldset.
        context = browser.new_context(viewport=PHONE, bypass_csp=True)
        page = context.new_page()
        page.goto(base_url + form)
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
        _shot(page, "self-assessment-step", "390")
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

        result_path = page.url.split(base_url, 1)[1]
        for width, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            page.goto(base_url + result_path)
            assert page.query_selector_all("meter")
            _axe_clean(page, axe_source, f"self-assessment result ({width})")
            _shot(page, "self-assessment-result", width)
            context.close()


def test_home_shows_the_path_brand_and_no_favicon_404(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
    services: Services,
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
    with serve(app) as base_url:
        for width, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            missing: list[str] = []
            page.on(
                "response",
                lambda r, missing=missing: missing.append(r.url) if r.status == 404 else None,
            )
            page.goto(base_url + learner.base)
            page.goto(base_url + "/favicon.ico")
            page.goto(base_url + learner.base)
            assert not missing, missing
            assert "Northwind Support" in page.content()
            accent = page.evaluate(
                "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
            )
            assert accent == "#1e6b3a"
            _axe_clean(page, axe_source, f"home ({width})")
            _shot(page, "home", width)
            context.close()
