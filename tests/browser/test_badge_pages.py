"""The badge pages in real headless Chromium under the tool's CSP: the public verification
page (verified and revoked) and a learner's own badges pass axe with no violation of any
impact at 1280 and 390 px, without sideways scrolling, and are usable by keyboard.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save their screenshots.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.services import Services
from lti_tool.store.badges import revoke_badge
from lti_tool.store.db import transaction
from tests.browser.test_accessibility import (  # noqa: F401 - module fixtures reused here
    AXE_TAGS,
    _describe,
    axe_source,
    browser,
)
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.web.conftest import launch_learner
from tests.unit.web.test_badges import NOW, achieve_goal, badge_row

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _violations(page: Any, axe: str) -> list[dict[str, Any]]:
    page.evaluate(axe)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return list(results["violations"])  # every impact, minor included


def test_badge_pages_pass_axe_at_desktop_and_phone_width(
    app: Flask,
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
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
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    failures: dict[str, str] = {}
    with serve(app) as tool_url:
        for width, viewport in (("1280", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=viewport)  # the real CSP, not bypassed
            page = context.new_page()
            for name, (path, expected) in pages.items():
                response = page.goto(tool_url + path)
                assert response is not None and response.status == 200, name
                assert expected in page.inner_text("main"), name
                found = _violations(page, axe_source)
                if found:
                    failures[f"{name} ({width})"] = _describe(found)
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    failures[f"{name} ({width}) overflow"] = f"scrolls sideways by {overflow}px"
                # The badge image is served by the tool and loads under its CSP.
                loaded = page.evaluate(
                    "[...document.images].every(i => i.complete && i.naturalWidth > 0)"
                )
                if not loaded:
                    failures[f"{name} ({width}) image"] = "an image did not load"
                if shots and name != "badges-mine":
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"{name}-{width}.png"), full_page=True)
                # Keyboard: the first Tab reaches the skip link, and every link is focusable.
                page.keyboard.press("Tab")
                focused = page.evaluate("document.activeElement.className")
                if "skip" not in focused:
                    failures[f"{name} ({width}) keyboard"] = f"first Tab focused {focused!r}"
            context.close()
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())
