"""The instructor's content picker in real headless Chromium: WCAG 2.1 AA with axe-core at
desktop and phone widths, and a whole Deep Linking selection by keyboard alone, under the
tool's real CSP (the return page's script is a static file, so script-src 'self' holds).

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save the picker's screenshots.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.browser.support import (
    PHONE,
    axe_violations,
    check_page,
    describe,
    each_width,
    report,
    save_screenshot,
    tab_to,
)
from tests.fixtures.platform import TestPlatform
from tests.unit.web.instructor.conftest import dl_settings, open_picker

pytestmark = pytest.mark.browser

QUIZ = "quiz:service-foundations-quiz"


def test_the_picker_has_no_axe_violations_at_desktop_and_phone_width(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    picker = open_picker(client, registered)
    # The error state too: the page with a field marked invalid must pass as well.
    invalid = picker.choose(QUIZ, **{f"{QUIZ}.pass_mark": "150"})
    assert invalid.status_code == 400
    failures: dict[str, str] = {}
    for name, page in each_width(browser):
        response = page.goto(tool_url + picker.path)
        assert response is not None and response.ok
        found = axe_violations(page, axe_source)
        if found:
            failures[name] = describe(found)
        page.locator("details.options").first.evaluate("d => d.open = true")
        check_page(page, axe_source, f"{name} with options open", failures)
        save_screenshot(page, f"content-picker-{name}", full_page=False)
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    page.set_content(invalid.get_data(as_text=True))
    found = axe_violations(page, axe_source)
    if found:
        failures["form errors"] = describe(found)
    context.close()
    assert not failures, report(failures)


def test_an_activity_can_be_chosen_and_sent_by_keyboard_alone(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    browser: Any,
    tool_url: str,
) -> None:
    # The return URL is served (by the test platform), so the browser's final stop proves
    # the return page submitted itself to the LMS under our real CSP.
    return_url = registered.base_url + "/deep-link/return"
    picker = open_picker(client, registered, settings=dl_settings(deep_link_return_url=return_url))
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(tool_url + picker.path)
    # Tab to the quiz's box, tick it with the space bar, tab on to "Add", press Enter.
    tab_to(
        page,
        "document.activeElement.value",
        QUIZ,
        "the quiz cannot be reached with the Tab key",
        presses=400,
    )
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") is True
    tab_to(
        page,
        "document.activeElement.value",
        "place",
        "the Add button cannot be reached with the Tab key",
        presses=400,
    )
    with page.expect_request(return_url) as sent:
        page.keyboard.press("Enter")
    assert sent.value.method == "POST"
    assert sent.value.post_data is not None and sent.value.post_data.startswith("JWT=")
    page.wait_for_url(return_url)
    assert urlsplit(page.url).path == "/deep-link/return"
    context.close()
