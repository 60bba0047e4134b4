"""The Dynamic Registration page in real headless Chromium: under the tool's real CSP, inside
the LMS's frame, it tells the LMS to close (DR 1.0 section 3.7); and both its outcomes pass
axe with no violation of any impact at 1280 and 390 px.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save its screenshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, request

from lti_tool.services import Services
from lti_tool.store import registrations
from lti_tool.store.db import transaction
from tests.browser.support import DESKTOP, check_page, each_width, report, save_screenshot
from tests.fixtures.servers import serve
from tests.unit.web.test_registration_page import FakePlatform, _platform_app

pytestmark = pytest.mark.browser


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
    browser: Any,
    tool_url: str,
) -> None:
    src = _registration_url(tool_url, services, lms)
    context = browser.new_context(viewport=DESKTOP)  # the real CSP, not bypassed
    page = context.new_page()
    page.goto(lms.base_url + "/frame?src=" + src.replace("&", "%26").replace("?", "%3F"))
    page.wait_for_function("window.received.length > 0", timeout=10_000)
    assert page.evaluate("window.received") == [{"subject": "org.imsglobal.lti.close"}]
    context.close()


def test_both_outcomes_pass_axe_at_desktop_and_phone_width(
    app: Flask,
    services: Services,
    lms: FakePlatform,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    failures: dict[str, str] = {}
    for name, page in each_width(browser):
        for outcome, expected in (("registered", 200), ("refused", 403)):
            lms.client_id = f"client-{name}"
            url = (
                _registration_url(tool_url, services, lms)
                if outcome == "registered"
                else tool_url + "/lti/register/unknown-invitation?openid_configuration=x"
            )
            response = page.goto(url)
            assert response is not None and response.status == expected, outcome
            check_page(page, axe_source, f"{outcome} ({name})", failures)
            save_screenshot(page, f"lti-register-{outcome}-{name}", full_page=False)
    assert not failures, report(failures)
