"""The README's demo command, run as a person would, then one launch through it.

`make run` installs, migrates, starts the tool, worker, beat, Ralph and the demo LMS,
and prints where to go. A launch from the demo LMS must land on the learner page and
its `launched` statement must be readable from Ralph over HTTP.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from lti_tool.demo.ralph import REPO_ROOT, free_port
from lti_tool.web.redaction import session_reference
from tests.fixtures.browser import launch_from_demo_lms
from tests.fixtures.ralph import XAPI_HEADERS

pytestmark = pytest.mark.integration


_readers: list[threading.Thread] = []


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    # A thread reads the pipe: select() on a buffered text pipe misses lines already read
    # into Python's buffer.
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True)
    reader.start()
    _readers.append(reader)
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen += lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                pytest.fail(f"the demo exited with {process.returncode}:\n{seen}", pytrace=False)
            continue
        if marker in seen:
            return seen
    pytest.fail(f"the demo did not report ready within {timeout:.0f}s:\n{seen}", pytrace=False)


@dataclass
class Demo:
    """`make run` as started by running_demo: its process, its banner, its ports, and after
    it stopped, the processes of it that outlived Ctrl-C (all killed by then)."""

    process: subprocess.Popen[str]
    banner: str
    port: int
    lrs_port: int
    leftovers: list[int] = field(default_factory=list)

    @property
    def lms_url(self) -> str:
        found = re.search(r"Open the demo LMS:\s+(\S+?)/?\s", self.banner)
        assert found, self.banner
        return found.group(1)


@contextmanager
def running_demo(tmp_path: Path) -> Iterator[Demo]:
    """`make run` on free ports, as a person runs it, until ready; stopped with Ctrl-C after."""
    port, lms_port, lrs_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "CXA_VAR_DIR": str(tmp_path),
        "CXA_DATABASE_URL": f"sqlite:///{tmp_path / 'cxa.db'}",
        "CXA_BROKER_DIR": str(tmp_path / "broker"),
        # Beat's sweeps (delivery and goal counting) every 2 s: a lost kick costs 2 s.
        "CXA_OUTBOX_SWEEP_SECONDS": "2",
    }
    for name in ("CXA_BROKER_URL", "CXA_STATE_STORE_URL", "CXA_LRS_ENDPOINT"):
        env.pop(name, None)
    process = subprocess.Popen(  # noqa: S603 - the README's own command
        [  # noqa: S607 - make from PATH, as a person runs it
            "make",
            "--no-print-directory",
            "run",
            f"PORT={port}",
            f"LMS_PORT={lms_port}",
            f"LRS_PORT={lrs_port}",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    demo = Demo(process, "", port, lrs_port)
    try:
        demo.banner = _read_until(process, "Press Ctrl-C to stop.", timeout=240)
        yield demo
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Ctrl-C must stop everything the demo started: the caller checks what outlived it.
        demo.leftovers = _wait_for_no_processes(tmp_path, timeout=45)
        for pid in demo.leftovers:
            os.kill(pid, signal.SIGKILL)
        for reader in _readers:
            reader.join(timeout=10)
        _readers.clear()
        assert process.stdout is not None
        process.stdout.close()


def test_make_run_serves_a_launch_that_reaches_the_lrs(tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        # The runner and its five children: the leftover check below sees real processes.
        assert len(_demo_processes(tmp_path)) >= 6
        lms_url = demo.lms_url
        password = re.search(r"password (\S+)", demo.banner).group(1)

        landing = launch_from_demo_lms(lms_url, persona="ada")
        assert landing.status == 200, landing.text[:800]
        assert f"127.0.0.1:{demo.port}/s/" in landing.url
        assert "Ada Okafor" in landing.text and "Service Desk Onboarding" in landing.text
        # A refusal under the session's URL is logged too: by its reference, never its token.
        token = urlsplit(landing.url).path.strip("/").split("/")[1]
        assert requests.get(landing.url + "no-such-page", timeout=10).status_code == 404

        deadline = time.monotonic() + 60
        found: list[dict] = []
        while time.monotonic() < deadline and not found:
            answer = requests.get(
                f"http://127.0.0.1:{demo.lrs_port}/xAPI/statements",
                auth=("cxa-demo", password),
                headers=XAPI_HEADERS,
                timeout=10,
            )
            answer.raise_for_status()
            found = [
                s
                for s in answer.json()["statements"]
                if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"
                and s["actor"].get("account", {}).get("name") == "ada"
            ]
            time.sleep(0.5)
        assert found, "the launched statement never reached Ralph"
        assert found[0]["actor"]["account"]["homePage"] == lms_url
    assert demo.process.returncode in (0, 2, -signal.SIGINT), demo.process.returncode
    assert not demo.leftovers, f"the demo left processes running after Ctrl-C: {demo.leftovers}"
    logs = "".join(path.read_text() for path in (tmp_path / "logs").glob("*.log"))
    assert f"/s/~{session_reference(token)}/no-such-page" in logs
    assert token not in logs, "a session token reached the demo's logs"


def _demo_processes(var_dir: Path) -> list[int]:
    """Processes started with this demo's CXA_VAR_DIR (the runner and each child)."""
    marker = f"CXA_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:  # gone meanwhile, or not ours to read
                continue
            if marker in environ:
                found.append(int(entry.name))
    return found


def _wait_for_no_processes(var_dir: Path, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := _demo_processes(var_dir)) and time.monotonic() < deadline:
        time.sleep(0.3)
    return left
