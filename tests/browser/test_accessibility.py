"""WCAG 2.1 AA checks with axe-core in real headless Chromium, on the learner pages.

Needs Debian's ``chromium`` (apt), Python ``playwright`` (pip; its own browser download is
never used) and ``npm`` to fetch axe-core into ``tests/browser/.axe/`` the first time. A
missing piece FAILS the test with what to install: a skipped accessibility check would
look like a passed one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from content import load_catalog
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve
from tests.unit.web.conftest import LearnerBrowser, launch_learner

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_VERSION = "4.10.3"
AXE_DIR = Path(__file__).resolve().parent / ".axe"
AXE_FILE = AXE_DIR / f"axe-core-{AXE_VERSION}.min.js"
# The rule sets for WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"minor", "moderate", "serious", "critical"}
COURSE = "service-foundations"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _fail(message: str) -> None:
    pytest.fail(message, pytrace=False)


def _axe_source() -> str:
    """axe.min.js (MPL-2.0), fetched with npm once and kept out of git."""
    if not AXE_FILE.exists():
        npm = shutil.which("npm")
        if npm is None:
            _fail("npm is missing: install Node.js and npm so the test can fetch axe-core")
        AXE_DIR.mkdir(exist_ok=True)
        result = subprocess.run(  # noqa: S603 - fixed argv, our own folder
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(AXE_DIR)],
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        tarball = AXE_DIR / f"axe-core-{AXE_VERSION}.tgz"
        if result.returncode != 0 or not tarball.exists():
            _fail(f"could not fetch axe-core {AXE_VERSION} with npm:\n{result.stderr}")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/axe.min.js")
            if member is None:
                _fail(f"{tarball} has no package/axe.min.js")
            AXE_FILE.write_bytes(member.read())  # type: ignore[union-attr]
        tarball.unlink()
    return AXE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def axe_source() -> str:
    return _axe_source()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _fail("Python playwright is missing: pip install playwright (no 'playwright install')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def _pages(client: FlaskClient, learner: LearnerBrowser) -> dict[str, str]:
    """Paths of every kind of learner page, with an open quiz attempt and role-play."""
    lesson = load_catalog().list_course_lessons(COURSE)[0].id
    attempt_id = learner.start_quiz(COURSE)
    done = load_catalog().require_scenario("double-charge")
    run_id = learner.start_scenario(COURSE, done.id)
    return {
        "home": learner.base,
        "course": f"{learner.base}courses/{COURSE}/",
        "lesson": f"{learner.base}courses/{COURSE}/lessons/{lesson}",
        "quiz": f"{learner.base}attempts/{attempt_id}",
        "scenario": f"{learner.base}runs/{run_id}",
        "self-assessment": f"{learner.base}self-assessment",
        "progress": f"{learner.base}courses/{COURSE}/progress",
        # What a person sees opening an activity IRI from an LRS (web/xapi_iris.py).
        "xapi-activity": f"/xapi/activities/course/{COURSE}",
    }


def _violations(page: Any, axe: str) -> list[dict[str, Any]]:
    page.evaluate(axe)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [v for v in results["violations"] if v.get("impact") in BLOCKING]


def _describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [n["target"] for n in v["nodes"]][:5],
            }
            for v in violations
        ],
        indent=2,
    )


def test_learner_pages_have_no_axe_violations(
    app: Flask, client: FlaskClient, registered: TestPlatform, browser: Any, axe_source: str
) -> None:
    learner = launch_learner(client, registered, "a11y-learner")
    paths = _pages(client, learner)
    failures: dict[str, str] = {}
    with serve(app) as base_url:
        # bypass_csp lets axe run on our pages, whose CSP forbids injected scripts.
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(viewport=viewport, bypass_csp=True)
            page = context.new_page()
            for kind, path in paths.items():
                response = page.goto(base_url + path)
                assert response is not None and response.ok, (kind, path)
                found = _violations(page, axe_source)
                if found:
                    failures[f"{kind} ({name})"] = _describe(found)
                if name == "phone":
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"
                    )
                    if overflow > 0:
                        failures[f"{kind} (phone)"] = f"scrolls sideways by {overflow}px"
            context.close()
    assert not failures, "\n".join(f"{page}: {text}" for page, text in failures.items())


def test_a_quiz_can_be_answered_and_submitted_by_keyboard_alone(
    app: Flask, client: FlaskClient, registered: TestPlatform, browser: Any
) -> None:
    learner = launch_learner(client, registered, "keyboard-learner")
    attempt_path = _pages(client, learner)["quiz"]
    with serve(app) as base_url:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(base_url + attempt_path)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        # Tab to the "Submit answers" button and press Enter, touching no mouse.
        for _ in range(200):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.value") == "submit":
                break
        else:
            _fail("the Submit button cannot be reached with the Tab key")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert urlsplit(page.url).path == attempt_path
        assert "Results of attempt 1" in page.content()
        context.close()


def test_the_axe_harness_reports_a_real_violation(browser: Any, axe_source: str) -> None:
    # Guards the check itself: an unlabelled field must be caught, or "no violations" above
    # could mean axe never ran.
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
    assert "label" in {v["id"] for v in _violations(page, axe_source)}
    context.close()
