"""The request's database session: opened on first use, committed by the view, closed after."""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from lti_tool.queue import TASK_DELIVER_OUTBOX
from lti_tool.recording import OUTBOX_TOUCHED
from lti_tool.services import Services

log = logging.getLogger(__name__)


def services() -> Services:
    return current_app.extensions["cxa"]  # type: ignore[no-any-return]


def db() -> Session:
    if "db" not in g:
        g.db = services().sessions()
    return g.db  # type: ignore[no-any-return]


def commit() -> None:
    """Commit the request's work, then nudge the delivery worker if statements were queued."""
    session = db()
    touched = session.info.pop(OUTBOX_TOUCHED, False)
    session.commit()
    if touched:
        kick_delivery()


#: After a failed kick, this process stops kicking for a while: with the broker down, only
#: one request in this window pays the connection timeout, and the sweep delivers anyway.
KICK_PAUSE_SECONDS = 30.0
_kick_paused_until = 0.0


def kick_delivery() -> None:
    # After commit only: a worker must never look for a row that is not visible yet. If the
    # broker is down the periodic sweep delivers later, so the learner's request still succeeds.
    global _kick_paused_until
    if time.monotonic() < _kick_paused_until:
        return
    try:
        services().celery.send_task(TASK_DELIVER_OUTBOX, retry=False)
    except Exception as err:
        _kick_paused_until = time.monotonic() + KICK_PAUSE_SECONDS
        log.warning("outbox kick not sent (the sweep will deliver): %s", err)


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
