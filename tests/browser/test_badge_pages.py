"""The badge pages in real headless Chromium under the tool's CSP: the public verification
page (verified and revoked) and a learner's own badges pass axe with no violation of any
impact at 1280 and 390 px, without sideways scrolling, and are usable by keyboard.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save their screenshots.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.services import Services
from lti_tool.store.badges import revoke_badge
from lti_tool.store.db import transaction
from tests.browser.support import check_page, each_width, report, save_screenshot
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import launch_learner
from tests.unit.web.test_badges import NOW, achieve_goal, badge_row

pytestmark = pytest.mark.browser


def test_badge_pages_pass_axe_at_desktop_and_phone_width(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    learner = launch_learner(client, registered, "learner-1")
    verified = achieve_goal(services, "learner-1")
    revoked = achieve_goal(services, "learner-1", template_id=None)
    client.get(f"/badges/{revoked}")  # signed before it is withdrawn
    with transaction(services.sessions) as session:
        revoke_badge(session, badge_row(session, revoked), reason="test", now=NOW)

    pages = {
        "badge-verified": (f"/badges/{verified}", "Verified"),
        "badge-revoked": (f"/badges/{revoked}", "Revoked"),
        "badges-mine": (f"{learner.base}badges/", "My badges"),
    }
    failures: dict[str, str] = {}
    # The real CSP, not bypassed: the badge image must load under it.
    for width, page in each_width(browser, bypass_csp=False):
        for name, (path, expected) in pages.items():
            response = page.goto(tool_url + path)
            assert response is not None and response.status == 200, name
            assert expected in page.inner_text("main"), name
            check_page(page, axe_source, f"{name} ({width})", failures)
            # The badge image is served by the tool and loads under its CSP.
            loaded = page.evaluate(
                "[...document.images].every(i => i.complete && i.naturalWidth > 0)"
            )
            if not loaded:
                failures[f"{name} ({width}) image"] = "an image did not load"
            if name != "badges-mine":
                save_screenshot(page, f"{name}-{width}")
            # Keyboard: the first Tab reaches the skip link, and every link is focusable.
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.className")
            if "skip" not in focused:
                failures[f"{name} ({width}) keyboard"] = f"first Tab focused {focused!r}"
    assert not failures, report(failures)
