from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event

from lti_tool.services import Services
from lti_tool.web.warmup import precompile_templates, prepare
from tests.fixtures.platform import TestPlatform
from tests.unit.web.test_launch_queries import statements


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


def test_the_registrations_are_read_before_the_first_request(
    app: Flask, services: Services
) -> None:
    prepare(app)
    with statements(services) as seen:
        # Every response names its frame-ancestors from the registrations.
        assert app.test_client().get("/healthz").status_code == 200
    assert not [s for s in seen if "FROM platform" in s]


_LOCALES = """
import babel.localedata
from lti_tool.web.warmup import prepare_regional_formats
print(prepare_regional_formats(), sorted(babel.localedata._cache))
"""


def test_the_shipped_languages_locale_data_is_loaded_before_the_fork() -> None:
    done = subprocess.run(  # noqa: S603 - fixed argv; fresh, so nothing was loaded before
        [sys.executable, "-c", _LOCALES], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['en', 'en_US'] ['en', 'en_US', 'root']"


def _compiled_anew(services: Services, run: Callable[[], Any]) -> list[str]:
    """The SELECTs ``run`` made whose SQL the engine had not compiled before."""
    fresh: list[str] = []

    def note(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: Any
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and context.cache_hit in (
            context.dialect.CACHE_MISS,
            context.dialect.NO_CACHE_KEY,
        ):
            fresh.append(statement)

    event.listen(services.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(services.engine, "before_cursor_execute", note)
    return fresh


def test_a_first_launch_after_the_fork_compiles_none_of_its_reads(
    app: Flask, services: Services, registered: TestPlatform
) -> None:
    prepare(app)
    client = app.test_client()

    def launch_and_land() -> None:
        response = registered.launch(client)
        assert response.status_code == 303, response.get_data(as_text=True)
        assert client.get(response.headers["Location"]).status_code == 200

    # Left to the launch: the outbox's destination list (read with the statement's insert)
    # and, in this embedded setup only, the state store's table (production uses Redis).
    left = ("FROM lrs_destination", "FROM launch_state")
    fresh = _compiled_anew(services, launch_and_land)
    assert [s for s in fresh if not any(table in s for table in left)] == []
