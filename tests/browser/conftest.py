"""Browser-test fixtures: Debian's headless Chromium, axe-core's source, the tool served.

Needs Debian's ``chromium`` (apt), Python ``playwright`` (pip; its own browser download is
never used) and ``npm`` to fetch axe-core into ``tests/browser/.axe/`` the first time. A
missing piece FAILS the test with what to install: a skipped accessibility check would
look like a passed one.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.fixtures.servers import serve

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


@pytest.fixture(scope="session")
def axe_source() -> str:
    return _axe_source()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the run; each test opens contexts of its own (cookies, viewport)."""
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


@pytest.fixture
def tool_url(app: Flask) -> Iterator[str]:
    """The test's app served over real loopback HTTP, for the browser to open."""
    with serve(app) as url:
        yield url
