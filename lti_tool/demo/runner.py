"""`cxa demo`: the whole product on one machine, with nothing to install beyond pip.

Tool (gunicorn), Celery worker and beat on the filesystem broker, a real LRS (Ralph) and
the demo LMS, each its own process; SQLite underneath. Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import requests

from lti_tool.config import Settings
from lti_tool.demo.lms import DemoLMSConfig, register_with_tool
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade

LRS_USER = "cxa-demo"


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]


def _wait_http(url: str, timeout: float, children: list[_Child]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited early (see var/logs/{child.name}.log)")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def run_demo(*, port: int, lms_port: int, lrs_port: int) -> int:
    base = Settings.from_env()
    settings = base.with_overrides(
        base_url=f"http://127.0.0.1:{port}",
        demo_lms=True,
        demo_lms_url=f"http://127.0.0.1:{lms_port}",
        lrs_endpoint=f"http://127.0.0.1:{lrs_port}/xAPI/",
        lrs_username=LRS_USER,
        lrs_password=base.lrs_password or secrets.token_urlsafe(18),
    )
    var = settings.var_dir
    logs = var / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    engine = make_engine(settings.database_url)
    upgrade(engine)
    lms = DemoLMSConfig(settings.demo_lms_url, settings.base_url, var / "demo-lms")
    with transaction(make_session_factory(engine)) as session:
        register_with_tool(session, lms)
    engine.dispose()

    env = {
        **os.environ,
        **settings.as_env(),
        # Ralph's own runner reads its password from here, not from the command line.
        "CXA_RALPH_PASSWORD": settings.lrs_password,
    }
    py = sys.executable
    commands = {
        "lrs": [
            py,
            "-m",
            "lti_tool.demo.ralph",
            "--port",
            str(lrs_port),
            "--data-dir",
            str(var / "ralph"),
            "--username",
            LRS_USER,
        ],
        "web": [
            py,
            "-m",
            "gunicorn",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--threads",
            "4",
            "--no-control-socket",
            # The demo logs its requests too, with session tokens redacted as in production.
            "--access-logfile",
            "-",
            "--logger-class",
            "lti_tool.web.redaction.RedactingGunicornLogger",
            "lti_tool.app:create_app()",
        ],
        "lms": [
            py,
            "-m",
            "gunicorn",
            "-b",
            f"127.0.0.1:{lms_port}",
            "-w",
            "1",
            "--threads",
            "4",
            "--no-control-socket",
            "lti_tool.demo.lms:create_demo_lms_from_env()",
        ],
        "worker": [
            py,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "-n",
            "demo@%h",
        ],
        "beat": [
            py,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "beat",
            "--loglevel",
            "INFO",
            "-s",
            str(var / "celerybeat-schedule"),
        ],
    }
    children: list[_Child] = []
    stopping = False

    def stop(_signum: int = 0, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, command in commands.items():
            log_file = (logs / f"{name}.log").open("ab")
            children.append(
                _Child(
                    name,
                    subprocess.Popen(  # noqa: S603 (fixed argv built above, no shell)
                        command,
                        env=env,
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        cwd=Path(__file__).resolve().parents[2],
                        # Ctrl-C reaches only this runner, which stops the children in order;
                        # a child that got the terminal's SIGINT and our SIGTERM at once could
                        # hang half-way through its shutdown (seen with gunicorn).
                        start_new_session=True,
                    ),
                )
            )
            log_file.close()
        _wait_http(f"http://127.0.0.1:{lrs_port}/__heartbeat__", 120, children)
        _wait_http(settings.base_url + "/healthz", 60, children)
        _wait_http(settings.demo_lms_url + "/", 60, children)
        print(
            "\nCX Academy demo is running.\n"
            f"  Open the demo LMS:  {settings.demo_lms_url}/   (click a launch button)\n"
            f"  The tool:           {settings.base_url}/healthz, JWKS at "
            f"{settings.base_url}/.well-known/jwks.json\n"
            # Loopback only (or CXA_OPERATOR_TOKEN): the demo's browser is on this machine.
            f"  Delivery details:   {settings.base_url}/healthz/delivery\n"
            f"  The LRS (Ralph):    {settings.lrs_endpoint}  user {LRS_USER}, "
            f"password {settings.lrs_password}\n"
            f"  Logs:               {logs}/\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping:
            for child in children:
                if child.process.poll() is not None:
                    print(
                        f"{child.name} stopped unexpectedly; see {logs}/{child.name}.log",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
        return 0
    except RuntimeError as err:
        print(f"demo failed to start: {err}", file=sys.stderr)
        return 1
    finally:
        for child in reversed(children):
            if child.process.poll() is None:
                child.process.terminate()
        for child in children:
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
