"""The operator console in real headless Chromium: signed in with the keyboard alone, every
page passes axe with no violation of any impact at 1280 and 390 px without scrolling
sideways, and a pending deployment is approved with the keyboard.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save its screenshots.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from lti_tool.services import Services
from lti_tool.store import operators, platforms, refusals, registrations
from lti_tool.store.db import transaction
from tests.browser.support import DESKTOP, check_page, each_width, report, save_screenshot, tab_to
from tests.unit.web.admin.conftest import add_operator
from tests.unit.web.admin.test_pages import _dead_grade, _dead_statement, _platform

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "/admin/",
    "registrations": "/admin/registrations",
    "registration": "/admin/registrations/{platform_id}",
    "keys": "/admin/keys",
    "lrs": "/admin/lrs",
    "grades": "/admin/grades",
    "refused": "/admin/refused?reference=3f2a9c1b7d4e",
    "audit": "/admin/audit",
}


def _seed(services: Services) -> int:
    """Something on every page: a registration with a pending deployment and an
    invitation, a dead statement, a dead grade, a refused launch."""
    platform_id = _platform(services)
    _dead_statement(services, "HTTP 400: the LRS refused the verb")
    _dead_grade(services, platform_id)
    with transaction(services.sessions) as session:
        found = platforms.require_platform_by_id(session, platform_id)
        registrations.record_pending_deployment(
            session, found, "course-copy-9", context_id="c7", context_title="Support Basics",
            platform_name="Moodle",
        )  # fmt: skip
        registrations.create_invitation(session, lifetime=timedelta(days=1), name="Acme Canvas")
        refusals.record_refusal(
            session,
            reference="3f2a9c1b7d4e",
            status=400,
            endpoint="lti.launch",
            reason="LaunchError: the id_token's signature does not match the platform's keys",
            issuer="https://lms1.example",
            client_id="client-a",
            deployment_id="1",
        )
        operators.audit(session, "cli:root", "platform.add", f"platform {platform_id}")
    return platform_id


def _sign_in_with_the_keyboard(page: Any, tool_url: str, name: str, password: str) -> None:
    page.goto(tool_url + "/admin/")  # redirected to the sign-in page
    assert "/admin/sign-in" in page.url
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/admin/")


def test_every_console_page_passes_axe_at_desktop_and_phone_width(
    app: Flask,
    services: Services,
    browser: Any,
    axe_source: str,
    tool_url: str,
) -> None:
    account = add_operator(services)
    platform_id = _seed(services)
    failures: dict[str, str] = {}

    def check(name: str, page: Any, width: str) -> None:
        check_page(page, axe_source, f"{name} ({width})", failures)
        save_screenshot(page, f"admin-{name}-{width}")

    for width, page in each_width(browser):
        page.goto(tool_url + "/admin/sign-in")
        check("sign-in", page, width)
        for name, path in PAGES.items():
            if name == "overview":
                _sign_in_with_the_keyboard(page, tool_url, account.name, account.password)
            response = page.goto(tool_url + path.format(platform_id=platform_id))
            assert response is not None and response.status == 200, name
            check(name, page, width)
        # Two answers to a POST: the invitation shown once, and a refused change.
        page.goto(tool_url + "/admin/registrations")
        with page.expect_navigation():
            page.click("text=Create invitation link")
        check("invitation", page, width)
        page.goto(tool_url + f"/admin/registrations/{platform_id}")
        page.fill("#deployment_id", "1")  # already registered
        with page.expect_navigation():
            page.click("text=Add deployment")
        assert "Nothing was changed" in page.content()
        check("refused-change", page, width)
    assert not failures, report(failures)


def test_a_pending_deployment_is_approved_with_the_keyboard(
    app: Flask,
    services: Services,
    browser: Any,
    tool_url: str,
) -> None:
    account = add_operator(services)
    platform_id = _seed(services)
    context = browser.new_context(viewport=DESKTOP)  # the console's real CSP
    page = context.new_page()
    _sign_in_with_the_keyboard(page, tool_url, account.name, account.password)
    page.goto(tool_url + "/admin/registrations")
    tab_to(
        page,
        "document.activeElement.textContent.trim()",
        "Approve",
        "the Approve button is not reachable with Tab",
        presses=60,
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "deployment was approved" in page.content()
    context.close()
    with services.sessions() as session:
        found = platforms.require_platform_by_id(session, platform_id)
        assert "course-copy-9" in [d.deployment_id for d in found.deployments]
