"""Login binding in real headless Chromium: the demo LMS and the tool on two loopback ports.

The demo LMS's frame page answers LTI Platform Storage messages; the tool's pages send them
from lti-storage.js under its strict CSP. One browser context is one browser (its own
cookies), so a second context plays the victim of a login CSRF.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from flask import Flask, redirect, request

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.demo.lms import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    DemoLMSConfig,
    create_demo_lms,
    register_with_tool,
)
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from tests.browser.support import (
    DESKTOP,
    VIEWPORTS,
    axe_violations,
    describe,
    report,
    sideways_scroll,
)
from tests.conftest import embedded_settings
from tests.fixtures.servers import serve

pytestmark = pytest.mark.browser

LANDED = "**/s/**"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    tool_url: str
    lms_url: str
    services: Services
    lms: DemoLMSConfig


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    # The tool's base URL must be known before it is served: pick the ports first.
    tool_url = f"http://127.0.0.1:{_free_port()}"
    lms_url = f"http://127.0.0.1:{_free_port()}"
    settings: Settings = embedded_settings(tmp_path, base_url=tool_url)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    lms = DemoLMSConfig(base_url=lms_url, tool_url=tool_url, data_dir=tmp_path / "lms")
    with transaction(services.sessions) as session:
        register_with_tool(session, lms)
    tool: Flask = create_app(services=services)
    lms_app = create_demo_lms(lms)
    lms_app.add_url_rule("/other-platform", view_func=_other_platform_page(lms))
    lms_app.add_url_rule("/other-platform/storage", view_func=lambda: _STORAGE_FRAME)
    lms_app.add_url_rule("/other-platform/launch", view_func=_login_redirect(lms))
    with (
        serve(tool, port=int(tool_url.rsplit(":", 1)[1])),
        serve(lms_app, port=int(lms_url.rsplit(":", 1)[1])),
    ):
        yield Stack(tool_url, lms_url, services, lms)
    services.close()


# Another platform's way of answering (as some LMSs and conformance harnesses do): the
# draft spec's "org.imsglobal." subjects in lti.capabilities, storage in a named sibling
# frame, and on demand a platform that never answers or answers with a foreign value.
_HANDLER = """
var store = {};
window.addEventListener('message', function (event) {
  var data = event.data, mode = new URLSearchParams(location.search).get('mode');
  if (!data || typeof data.subject !== 'string' || mode === 'silent') { return; }
  var reply = {message_id: data.message_id, subject: data.subject + '.response'};
  if (data.subject === 'lti.capabilities') {
    reply.supported_messages = [{subject: 'org.imsglobal.lti.put_data'},
                                {subject: 'org.imsglobal.lti.get_data'}];
  } else if (data.subject === 'lti.put_data') {
    store[event.origin + data.key] = data.value; reply.key = data.key; reply.value = data.value;
  } else if (data.subject === 'lti.get_data') {
    reply.key = data.key;
    reply.value = mode === 'tampered' ? 'state-of-another-login' : store[event.origin + data.key];
  } else { return; }
  event.source.postMessage(reply, event.origin);
});
"""
_STORAGE_FRAME = f"<!doctype html><title>storage</title><script>{_HANDLER}</script>"


def _other_platform_page(lms: DemoLMSConfig) -> Any:
    def page() -> str:
        mode = request.args.get("mode", "frame")
        return (
            "<!doctype html><title>other platform</title>"
            f'<iframe name="lti-storage" src="/other-platform/storage?mode={mode}"></iframe>'
            '<iframe id="tool-frame" name="tool" src="/other-platform/launch"></iframe>'
        )

    return page


def _login_redirect(lms: DemoLMSConfig) -> Any:
    # Like the demo LMS: the frame starts at the platform, which redirects to the tool's
    # login (Chromium's local network checks refuse the later /auth navigation otherwise).
    def start() -> Any:
        return redirect(
            lms.tool_login_url
            + "?"
            + urlencode(
                {
                    "iss": lms.issuer,
                    "login_hint": "ada",
                    "target_link_uri": lms.tool_launch_url,
                    "lti_message_hint": "cx-academy",
                    "client_id": CLIENT_ID,
                    "lti_deployment_id": DEPLOYMENT_ID,
                    "lti_storage_target": "lti-storage",
                }
            )
        )

    return start


def _posts_to(page: Any, path: str) -> list[dict[str, list[str]]]:
    seen: list[dict[str, list[str]]] = []
    page.on(
        "request",
        lambda request: (
            seen.append(parse_qs(request.post_data or ""))
            if request.method == "POST" and request.url.endswith(path)
            else None
        ),
    )
    return seen


def _without_cookies(context: Any, tool_url: str) -> None:
    """Make the tool's cookies vanish, as a browser blocking third-party cookies does."""

    def strip(route: Any) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
        route.fulfill(response=response, headers=headers)

    context.route(tool_url + "/lti/**", strip)


def test_a_launch_in_the_demo_lms_iframe_is_bound_through_platform_storage(
    stack: Stack,
    browser: Any,
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    # No cookie survives: only lti.put_data / lti.get_data can prove this browser.
    _without_cookies(context, stack.tool_url)
    page = context.new_page()
    confirms = _posts_to(page, "/lti/launch/confirm")
    page.goto(stack.lms_url + "/frame/ada/cx-academy")
    tool = page.frame_locator("#tool-frame")
    tool.get_by_role("heading", name="Ada Okafor", exact=False).first.wait_for(timeout=20000)
    assert len(confirms) == 1
    # The check page read the state back from the platform and posted it.
    assert confirms[0]["lti_storage"] == ["found"]
    assert confirms[0]["lti_storage_value"] == confirms[0]["state"]
    context.close()


@pytest.mark.parametrize(
    ("mode", "storage_answer", "lands"),
    [("frame", "found", True), ("silent", "silent", True), ("tampered", "found", False)],
)
def test_storage_in_a_named_frame_of_another_platform(
    stack: Stack,
    browser: Any,
    mode: str,
    storage_answer: str,
    lands: bool,
) -> None:
    context = browser.new_context()
    _without_cookies(context, stack.tool_url)
    page = context.new_page()
    confirms = _posts_to(page, "/lti/launch/confirm")
    page.goto(f"{stack.lms_url}/other-platform?mode={mode}")
    tool = page.frame_locator("#tool-frame")
    if lands:
        # silent: no storage, no cookies: the server-side fallback (the default) lets it in.
        tool.get_by_role("heading", name="Ada Okafor", exact=False).first.wait_for(timeout=20000)
    else:
        tool.get_by_text("does not belong to this browser").wait_for(timeout=20000)
    assert [c["lti_storage"] for c in confirms] == [[storage_answer]]
    context.close()


def test_the_demo_lms_answers_only_its_tool_frame(
    stack: Stack,
    browser: Any,
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack.lms_url + "/frame/ada/cx-academy")
    tool = page.frame_locator("#tool-frame")
    tool.get_by_role("heading", name="Ada Okafor", exact=False).first.wait_for(timeout=20000)
    ask = """([target, origin]) => new Promise(resolve => {
        const id = String(Math.random());
        addEventListener('message', e => {
            if (e.data && e.data.message_id === id && e.data.subject.endsWith('.response')) {
                resolve(e.data);
            }
        });
        (target === 'parent' ? parent : window).postMessage(
            {subject: 'lti.put_data', message_id: id, key: 'k', value: 'v'}, origin);
        setTimeout(() => resolve(null), 1500);
    })"""
    # The tool's frame, from the tool's origin: answered.
    tool_frame = next(f for f in page.frames if f.url.startswith(stack.tool_url))
    answer = tool_frame.evaluate(ask, ["parent", stack.lms_url])
    assert answer == {
        "subject": "lti.put_data.response",
        "message_id": answer["message_id"],
        "key": "k",
        "value": "v",
    }
    # Any other window or origin (here the LMS page itself): no answer at all.
    assert page.evaluate(ask, ["self", "*"]) is None
    context.close()


def test_a_different_browser_cannot_finish_someone_elses_login(
    stack: Stack,
    browser: Any,
) -> None:
    # The attacker logs in as themselves and keeps the platform's form_post for later.
    attacker = browser.new_context()
    stolen: dict[str, list[str]] = {}

    def keep(route: Any) -> None:
        stolen.update(parse_qs(route.request.post_data or ""))
        route.fulfill(status=204)

    attacker.route(stack.tool_url + "/lti/launch", keep)
    page = attacker.new_page()
    page.goto(stack.lms_url + "/frame/sam/cx-academy")
    page.wait_for_timeout(100)
    for _ in range(100):
        if stolen:
            break
        page.wait_for_timeout(100)
    assert stolen.get("id_token"), "the attacker's login never reached the launch"
    attacker.close()

    # The attacker's page makes the victim's browser post it (a cross-site auto-submit).
    victim = browser.new_context()
    page = victim.new_page()
    page.set_content(
        f'<form method="post" action="{stack.tool_url}/lti/launch">'
        f'<input name="id_token" value="{stolen["id_token"][0]}">'
        f'<input name="state" value="{stolen["state"][0]}"><button>go</button></form>'
    )
    with page.expect_navigation():
        page.click("button")
    page.wait_for_load_state()
    page.get_by_text("does not belong to this browser").wait_for(timeout=15000)
    assert "/s/" not in page.url
    victim.close()


def test_with_scripts_off_the_launch_still_lands(
    stack: Stack,
    browser: Any,
) -> None:
    # No script: the login page's noscript refresh goes on to the platform, the platform's
    # and our check page's Continue buttons post by hand, and the state cookie decides.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(stack.lms_url + "/frame/grace/cx-academy")
    tool = page.frame_locator("#tool-frame")
    tool.get_by_role("button", name="Continue to CX Academy").click()  # the LMS's form_post
    tool.get_by_role("heading", name="Opening CX Academy").wait_for(timeout=15000)
    tool.get_by_role("button", name="Continue to CX Academy").click()  # our check page
    tool.get_by_role("heading", name="Grace Mendes", exact=False).first.wait_for(timeout=15000)
    context.close()


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_the_storage_pages_are_accessible(
    stack: Stack,
    browser: Any,
    axe_source: str,
    tmp_path: Path,
) -> None:
    failures: dict[str, str] = {}
    for width, viewport in VIEWPORTS.items():
        # bypass_csp lets axe run on our pages, whose CSP forbids injected scripts.
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        # A 204 answer keeps the page on screen: the login page would otherwise move on to
        # the platform, the check page to the launch.
        context.route(stack.lms_url + "/auth**", lambda route: route.fulfill(status=204))
        page = context.new_page()
        page.goto(stack.lms_url + "/launch/ada/cx-academy?storage=_parent", wait_until="commit")
        page.get_by_role("heading", name="Opening CX Academy").wait_for()
        page.wait_for_timeout(300)
        shots = {"lti-login-storage": page.screenshot(full_page=True)}
        found = axe_violations(page, axe_source)
        if found:
            failures[f"login page ({width})"] = describe(found)

        context.unroute(stack.lms_url + "/auth**")
        context.route(stack.tool_url + "/lti/launch/confirm", lambda r: r.fulfill(status=204))
        page.goto(stack.lms_url + "/launch/ada/cx-academy?storage=_parent", wait_until="commit")
        page.wait_for_url("**/lti/launch", timeout=15000, wait_until="commit")
        page.get_by_role("button", name="Continue to CX Academy").wait_for()
        page.wait_for_timeout(300)
        shots["lti-launch-check"] = page.screenshot(full_page=True)
        found = axe_violations(page, axe_source)
        if found:
            failures[f"check page ({width})"] = describe(found)
        overflow = sideways_scroll(page)
        if overflow > 0:
            failures[f"check page ({width})"] = f"scrolls sideways by {overflow}px"
        for name, png in shots.items():
            (tmp_path / f"{name}-{width}.png").write_bytes(png)
        context.close()
    assert not failures, report(failures)
    # `CXA_SCREENSHOTS=1` refreshes the pictures in docs/screenshots/.
    if os.environ.get("CXA_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for png in tmp_path.glob("*.png"):
            shutil.copy(png, SCREENSHOTS / png.name)
