"""The request's database session: opened on first use, committed by the view, closed after."""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from lti_tool.queue import TASK_DELIVER_OUTBOX, TASK_SEND_GRADES
from lti_tool.recording import OUTBOX_TOUCHED
from lti_tool.services import Services
from lti_tool.store.grades import GRADES_TOUCHED

log = logging.getLogger(__name__)


def services() -> Services:
    return current_app.extensions["cxa"]  # type: ignore[no-any-return]


def db() -> Session:
    if "db" not in g:
        g.db = services().sessions()
    return g.db  # type: ignore[no-any-return]


def commit() -> None:
    """Commit the request's work, then nudge the workers if statements or grades were queued."""
    session = db()
    touched = session.info.pop(OUTBOX_TOUCHED, False)
    grades = session.info.pop(GRADES_TOUCHED, False)
    session.commit()
    if touched:
        kick_delivery()
    if grades:
        _kick(TASK_SEND_GRADES, "grade")


#: After a failed kick, this process stops kicking for a while: with the broker down, only
#: one request in this window pays the connection timeout, and the sweep delivers anyway.
KICK_PAUSE_SECONDS = 30.0
_kick_paused_until = 0.0


def kick_delivery() -> None:
    _kick(TASK_DELIVER_OUTBOX, "outbox")


def _kick(task: str, what: str) -> None:
    # After commit only: a worker must never look for a row that is not visible yet. If the
    # broker is down the periodic sweep delivers later, so the learner's request still succeeds.
    global _kick_paused_until
    if time.monotonic() < _kick_paused_until:
        return
    try:
        services().celery.send_task(task, retry=False)
    except Exception as err:
        _kick_paused_until = time.monotonic() + KICK_PAUSE_SECONDS
        log.warning("%s kick not sent (the sweep will deliver): %s", what, err)


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
