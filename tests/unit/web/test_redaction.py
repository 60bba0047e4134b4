"""Session tokens never reach a log line: ours show a short hash of them instead.

These tests read log records on purpose: what a log line must not contain is the feature.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from gunicorn.config import Config

from lti_tool.store.sessions import session_id_of
from lti_tool.web.redaction import RedactingGunicornLogger, redact, session_reference
from tests.unit.web.conftest import LearnerBrowser

TOKEN = "Jx3vQ9_kLmT2wR8pZs5YbN1cHdF7gA0eUiO4tKqVnXy"


@pytest.mark.parametrize(
    "line",
    [
        f'127.0.0.1 - - "GET /s/{TOKEN}/courses/x/ HTTP/1.1" 200 1234 "-" "Mozilla/5.0"',
        f'"POST /s/{TOKEN}/attempts/1 HTTP/1.1" 303 0 "https://cxa.example.edu/s/{TOKEN}/x"',
        f"refused GET /s/{TOKEN}: status=401",
        f"GET /s/{TOKEN}?a=b",
    ],
)
def test_every_token_in_a_line_becomes_its_reference(line: str) -> None:
    redacted = redact(line)

    assert TOKEN not in redacted
    assert f"/s/~{session_id_of(TOKEN)[:12]}" in redacted
    assert session_reference(TOKEN) == session_id_of(TOKEN)[:12]


def test_lines_without_a_session_path_are_untouched() -> None:
    line = '"GET /lti/jwks HTTP/1.1" 200 "https://lms.example.edu/course/view.php?id=7"'

    assert redact(line) == line


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage() + (record.exc_text or "")
        for record in caplog.records
        if record.name == "lti_tool.errors"
    ]


def test_a_refusal_logs_the_reference_not_the_token(
    learner: LearnerBrowser, caplog: pytest.LogCaptureFixture
) -> None:
    token = learner.base.strip("/").split("/")[1]
    caplog.set_level(logging.WARNING, logger="lti_tool.errors")

    assert learner.get("no-such-page").status_code == 404

    messages = _messages(caplog)
    assert len(messages) == 1
    assert token not in messages[0]
    assert f"/s/~{session_reference(token)}/no-such-page" in messages[0]


def test_an_unexpected_error_logs_no_token_even_in_its_traceback(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(token: str) -> str:
        raise RuntimeError(f"could not render /s/{token}/page")

    app.add_url_rule("/s/<token>/crash", view_func=crash)
    caplog.set_level(logging.WARNING, logger="lti_tool.errors")

    assert app.test_client().get(f"/s/{TOKEN}/crash").status_code == 500

    messages = _messages(caplog)
    assert len(messages) == 2  # the traceback, then the refusal line
    assert "RuntimeError" in messages[0]
    assert all(TOKEN not in message for message in messages)
    assert all(session_reference(TOKEN) in message for message in messages)


def test_gunicorns_error_log_shows_no_token(tmp_path: Path) -> None:
    """gunicorn logs "Error handling request <uri>" with a traceback when a worker crashes."""
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    logger = RedactingGunicornLogger(config)
    try:
        try:
            raise RuntimeError(f"while serving /s/{TOKEN}/page")
        except RuntimeError:
            logger.exception("Error handling request %s", f"/s/{TOKEN}/page")
        text = (tmp_path / "error.log").read_text()
    finally:
        # gunicorn's loggers are process-wide: leave them as they were.
        for log in (logger.error_log, logger.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
                handler.close()
            for installed in list(log.filters):
                log.removeFilter(installed)

    assert "Error handling request" in text and "RuntimeError" in text
    assert TOKEN not in text
    assert text.count(f"/s/~{session_reference(TOKEN)}/page") == 2
