"""The instructor's content picker in real headless Chromium: WCAG 2.1 AA with axe-core at
desktop and phone widths, and a whole Deep Linking selection by keyboard alone, under the
tool's real CSP (the return page's script is a static file, so script-src 'self' holds).

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save the picker's screenshots.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.browser.test_accessibility import (  # noqa: F401 - module fixtures reused here
    _describe,
    _violations,
    axe_source,
    browser,
)
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.web.instructor.conftest import dl_settings, open_picker

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
QUIZ = "quiz:service-foundations-quiz"


def test_the_picker_has_no_axe_violations_at_desktop_and_phone_width(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
) -> None:
    picker = open_picker(client, registered)
    # The error state too: the page with a field marked invalid must pass as well.
    invalid = picker.choose(QUIZ, **{f"{QUIZ}.pass_mark": "150"})
    assert invalid.status_code == 400
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    failures: dict[str, str] = {}
    with serve(app) as base_url:
        for name, viewport in (("1280", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            response = page.goto(base_url + picker.path)
            assert response is not None and response.ok
            found = _violations(page, axe_source)
            if found:
                failures[name] = _describe(found)
            page.locator("details.options").first.evaluate("d => d.open = true")
            found = _violations(page, axe_source)
            if found:
                failures[f"{name} with options open"] = _describe(found)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                failures[f"{name} overflow"] = f"scrolls sideways by {overflow}px"
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(shots) / f"content-picker-{name}.png"))
            context.close()
        context = browser.new_context(viewport=PHONE, bypass_csp=True)
        page = context.new_page()
        page.set_content(invalid.get_data(as_text=True))
        found = _violations(page, axe_source)
        if found:
            failures["form errors"] = _describe(found)
        context.close()
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_an_activity_can_be_chosen_and_sent_by_keyboard_alone(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
) -> None:
    # The return URL is served (by the test platform), so the browser's final stop proves
    # the return page submitted itself to the LMS under our real CSP.
    return_url = registered.base_url + "/deep-link/return"
    picker = open_picker(client, registered, settings=dl_settings(deep_link_return_url=return_url))
    with serve(app) as base_url:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(base_url + picker.path)
        # Tab to the quiz's box, tick it with the space bar, tab on to "Add", press Enter.
        for _ in range(400):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.value") == QUIZ:
                break
        else:
            pytest.fail("the quiz cannot be reached with the Tab key")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked") is True
        for _ in range(400):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.value") == "place":
                break
        else:
            pytest.fail("the Add button cannot be reached with the Tab key")
        with page.expect_request(return_url) as sent:
            page.keyboard.press("Enter")
        assert sent.value.method == "POST"
        assert sent.value.post_data is not None and sent.value.post_data.startswith("JWT=")
        page.wait_for_url(return_url)
        assert urlsplit(page.url).path == "/deep-link/return"
        context.close()
