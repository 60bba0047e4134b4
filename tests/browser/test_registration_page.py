"""The Dynamic Registration page in real headless Chromium: under the tool's real CSP, inside
the LMS's frame, it tells the LMS to close (DR 1.0 section 3.7); and both its outcomes pass
axe with no violation of any impact at 1280 and 390 px.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save its screenshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from lti_tool.services import Services
from lti_tool.store import registrations
from lti_tool.store.db import transaction
from tests.browser.test_accessibility import (  # noqa: F401 - module fixtures reused here
    AXE_TAGS,
    _describe,
    axe_source,
    browser,
)
from tests.fixtures.servers import serve
from tests.unit.web.test_registration_page import FakePlatform, _platform_app

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

_FRAME_PAGE = """<!doctype html><html lang="en"><head><title>LMS</title></head><body>
<iframe title="Register a tool" src="{src}" width="800" height="600"></iframe>
<script>
window.received = [];
window.addEventListener("message", function (e) {{ window.received.push(e.data); }});
</script></body></html>"""


@pytest.fixture
def lms() -> Iterator[FakePlatform]:
    fake = FakePlatform()
    app = _platform_app(fake)

    @app.get("/frame")
    def frame() -> str:
        return _FRAME_PAGE.format(src=request.args["src"])

    with serve(app) as base_url:
        fake.base_url = base_url
        yield fake


def _registration_url(tool_url: str, services: Services, lms: FakePlatform) -> str:
    with transaction(services.sessions) as session:
        token = registrations.create_invitation(
            session, lifetime=timedelta(hours=1), name="Acme Moodle"
        ).token
    return (
        f"{tool_url}/lti/register/{token}?openid_configuration={lms.configuration_url}"
        "&registration_token=reg-token-1"
    )


def test_the_page_in_the_lms_frame_posts_the_close_message(
    app: Flask,
    services: Services,
    lms: FakePlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
) -> None:
    with serve(app) as tool_url:
        src = _registration_url(tool_url, services, lms)
        context = browser.new_context(viewport=DESKTOP)  # the real CSP, not bypassed
        page = context.new_page()
        page.goto(lms.base_url + "/frame?src=" + src.replace("&", "%26").replace("?", "%3F"))
        page.wait_for_function("window.received.length > 0", timeout=10_000)
        assert page.evaluate("window.received") == [{"subject": "org.imsglobal.lti.close"}]
        context.close()


def _all_violations(page: Any, axe: str) -> list[dict[str, Any]]:
    page.evaluate(axe)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return list(results["violations"])  # every impact, minor included


def test_both_outcomes_pass_axe_at_desktop_and_phone_width(
    app: Flask,
    services: Services,
    lms: FakePlatform,
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
) -> None:
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    failures: dict[str, str] = {}
    with serve(app) as tool_url:
        for name, viewport in (("1280", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            for outcome, expected in (("registered", 200), ("refused", 403)):
                lms.client_id = f"client-{name}"
                url = (
                    _registration_url(tool_url, services, lms)
                    if outcome == "registered"
                    else tool_url + "/lti/register/unknown-invitation?openid_configuration=x"
                )
                response = page.goto(url)
                assert response is not None and response.status == expected, outcome
                found = _all_violations(page, axe_source)
                if found:
                    failures[f"{outcome} ({name})"] = _describe(found)
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    failures[f"{outcome} ({name}) overflow"] = f"scrolls sideways by {overflow}px"
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"lti-register-{outcome}-{name}.png"))
            context.close()
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())
