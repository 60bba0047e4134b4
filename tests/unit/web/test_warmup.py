from __future__ import annotations

import subprocess
import sys

from flask import Flask

from lti_tool.web.warmup import precompile_templates


def test_every_page_template_is_compiled_before_a_request(app: Flask) -> None:
    loaded = precompile_templates(app)

    cache = app.jinja_env.cache
    assert cache is not None
    cached = {name for (_, name) in cache}
    assert loaded == len(cached) > 0
    assert {"home.html", "base.html", "progress.html"} <= cached


_FIRST_TASK = """
import sys
from celery import Celery
from lti_tool.web.warmup import prepare_task_sending

if sys.argv[1] == "warm":
    # Nothing listens on the discard port: preparing must not try to connect.
    prepare_task_sending(Celery("probe", broker="redis://127.0.0.1:9/0", set_as_current=False))
    assert "kombu.transport.redis" in sys.modules
celery = Celery("cxa", broker="memory://", set_as_current=False)
if sys.argv[1] == "warm":
    prepare_task_sending(celery)
before = set(sys.modules)
celery.send_task("cxa.probe", retry=False)
print(sorted(m for m in set(sys.modules) - before if m.startswith(("celery", "kombu"))))
"""


def _modules_loaded_by_first_task(mode: str) -> str:
    # A fresh interpreter each: this test process has long imported everything Celery loads.
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", _FIRST_TASK, mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_first_task_sent_after_the_fork_imports_nothing_more() -> None:
    assert _modules_loaded_by_first_task("cold") != "[]"  # what a cold worker would load
    assert _modules_loaded_by_first_task("warm") == "[]"
