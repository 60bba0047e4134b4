"""The operator console in real headless Chromium: signed in with the keyboard alone, every
page passes axe with no violation of any impact at 1280 and 390 px without scrolling
sideways, and a pending deployment is approved with the keyboard.

Set CXA_SCREENSHOTS_DIR (e.g. docs/screenshots) to also save its screenshots.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lti_tool.services import Services
from lti_tool.store import operators, platforms, refusals, registrations
from lti_tool.store.db import transaction
from tests.browser.test_accessibility import (  # noqa: F401 - module fixtures reused here
    AXE_TAGS,
    _describe,
    axe_source,
    browser,
)
from tests.fixtures.servers import serve
from tests.unit.web.admin.conftest import add_operator
from tests.unit.web.admin.test_pages import _dead_grade, _dead_statement, _platform

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
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


def _violations(page: Any, axe: str) -> list[dict[str, Any]]:
    page.evaluate(axe)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return list(results["violations"])  # every impact, minor included


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
    browser: Any,  # noqa: F811 - the fixture imported above
    axe_source: str,  # noqa: F811 - the fixture imported above
) -> None:
    account = add_operator(services)
    platform_id = _seed(services)
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    failures: dict[str, str] = {}

    def check(name: str, page: Any, width: str) -> None:
        found = _violations(page, axe_source)
        if found:
            failures[f"{name} ({width})"] = _describe(found)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            failures[f"{name} ({width}) overflow"] = f"scrolls sideways by {overflow}px"
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"admin-{name}-{width}.png"), full_page=True)

    with serve(app) as tool_url:
        for width, viewport in (("1280", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
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
            context.close()
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_a_pending_deployment_is_approved_with_the_keyboard(
    app: Flask,
    services: Services,
    browser: Any,  # noqa: F811 - the fixture imported above
) -> None:
    account = add_operator(services)
    platform_id = _seed(services)
    with serve(app) as tool_url:
        context = browser.new_context(viewport=DESKTOP)  # the console's real CSP
        page = context.new_page()
        _sign_in_with_the_keyboard(page, tool_url, account.name, account.password)
        page.goto(tool_url + "/admin/registrations")
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == "Approve":
                break
        else:
            pytest.fail("the Approve button is not reachable with Tab")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "deployment was approved" in page.content()
        context.close()
    with services.sessions() as session:
        found = platforms.require_platform_by_id(session, platform_id)
        assert "course-copy-9" in [d.deployment_id for d in found.deployments]
