"""What the browser tests share: viewports, the axe-core check, sideways-scroll and
screenshot helpers, and the loop that audits a set of pages at both widths.

The fixtures (Chromium, axe-core's source, the served tool) are in conftest.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"1280": DESKTOP, "390": PHONE}
# The rule sets for WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any, axe: str) -> list[dict[str, Any]]:
    """axe-core's violations on the open page, of every impact (minor included)."""
    page.evaluate(axe)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return list(results["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
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


def sideways_scroll(page: Any) -> int:
    """How many pixels the open page scrolls sideways (0 when it fits its viewport)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def save_screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Keep a picture of the open page as <name>.png when CXA_SCREENSHOTS_DIR is set
    (docs/screenshots, say); otherwise nothing."""
    shots = os.environ.get("CXA_SCREENSHOTS_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=full_page)


def each_width(browser: Any, *, bypass_csp: bool = True) -> Iterator[tuple[str, Any]]:
    """A fresh page at 1280 px, then at 390 px, each in a context (a browser) of its own.
    ``bypass_csp`` lets axe be injected under our pages' CSP, which forbids it."""
    for width, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport, bypass_csp=bypass_csp)
        try:
            yield width, context.new_page()
        finally:
            context.close()


def check_page(page: Any, axe: str, label: str, failures: dict[str, str]) -> None:
    """Note the open page's axe violations and sideways scrolling in ``failures``."""
    found = axe_violations(page, axe)
    if found:
        failures[label] = describe(found)
    overflow = sideways_scroll(page)
    if overflow > 0:
        failures[f"{label} overflow"] = f"scrolls sideways by {overflow}px"


def audit_pages(
    browser: Any,
    axe: str,
    base_url: str,
    paths: Mapping[str, str],
    *,
    bypass_csp: bool = True,
    screenshots: bool = True,
) -> dict[str, str]:
    """Open every path at 1280 and 390 px and check it (``check_page``); screenshots are
    named <name>-<width>."""
    failures: dict[str, str] = {}
    for width, page in each_width(browser, bypass_csp=bypass_csp):
        for name, path in paths.items():
            response = page.goto(base_url + path)
            assert response is not None and response.ok, (name, width, path)
            check_page(page, axe, f"{name} ({width})", failures)
            if screenshots:
                save_screenshot(page, f"{name}-{width}")
    return failures


def tab_to(page: Any, expression: str, value: Any, failure: str, *, presses: int = 200) -> None:
    """Press Tab, touching no mouse, until the JavaScript ``expression`` evaluates to
    ``value`` on the focused page; fail with ``failure`` after ``presses`` tries."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(expression) == value:
            return
    pytest.fail(failure)


def report(failures: Mapping[str, str]) -> str:
    return "\n".join(f"{where}: {what}" for where, what in failures.items())
