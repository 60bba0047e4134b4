"""The request's database session: opened on first use, committed by the view, closed after."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from lti_tool.doorbell import Doorbell, uses_doorbell
from lti_tool.queue import TASK_COUNT_GOAL_PROGRESS, TASK_DELIVER_OUTBOX, TASK_SEND_GRADES
from lti_tool.recording import OUTBOX_TOUCHED
from lti_tool.services import Services
from lti_tool.store.grades import GRADES_TOUCHED
from lti_tool.web.kicks import CoalescedKick

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
        # New learning records may move a goal: the engine reads them from the outbox. With
        # the doorbell, the worker's loop counts them after the delivery it was rung for.
        if not uses_doorbell(services().settings):
            _coalesced(TASK_COUNT_GOAL_PROGRESS, "goal", GOAL_KICK_INTERVAL_SECONDS).request()
    if grades:
        _kick_grades()


#: After a failed kick, this process stops kicking for a while: with the broker down, only
#: one request in this window pays the connection timeout, and the sweep delivers anyway.
KICK_PAUSE_SECONDS = 30.0
_kick_paused_until = 0.0


def kick_delivery() -> None:
    _coalesced(TASK_DELIVER_OUTBOX, "outbox").request()


def _kick_grades() -> None:
    _coalesced(TASK_SEND_GRADES, "grade").request()


#: Goals move over days, not milliseconds: one goal-engine kick per second per process is
#: plenty, and a busy process stops paying a second Celery message on most commits.
GOAL_KICK_INTERVAL_SECONDS = 1.0

#: Kept on the app (one per task per process): see lti_tool/web/kicks.py.
KICKS = "cxa_kicks"
_coalescers_lock = threading.Lock()


def _coalesced(task: str, what: str, interval: float | None = None) -> CoalescedKick:
    with _coalescers_lock:
        kicks: dict[str, CoalescedKick] = current_app.extensions.setdefault(KICKS, {})
        found = kicks.get(task)
        if found is None:
            send = _sender(task)
            found = kicks[task] = CoalescedKick(lambda: _kick(send, what), interval=interval)
        return found


def _sender(task: str) -> Callable[[], None]:
    """How this process says "work for ``task``": the doorbell or a Celery message."""
    settings = services().settings
    if task == TASK_DELIVER_OUTBOX and uses_doorbell(settings):
        # One pipelined Redis round trip that wakes one worker's delivery loop; no message
        # for Celery to handle on either side (docs/decisions/0022).
        return Doorbell.for_settings(settings).ring
    celery = services().celery
    targets: list[dict[str, str] | None] = [None]
    if task == TASK_DELIVER_OUTBOX and settings.destinations:
        # Straight to each configured destination's task: the task's own fan-out (one task
        # that only starts the per-destination ones) would cost the worker a second message
        # and the statement a second hop. The sweep still fans out from the worker's config.
        targets = [{"destination": d.name} for d in settings.destinations]

    def send() -> None:
        for kwargs in targets:
            celery.send_task(task, kwargs=kwargs, retry=False)

    return send


def flush_kicks(app: Flask) -> None:
    """Send any trailing kick now rather than after its interval (shutdown, tests)."""
    with _coalescers_lock:
        pending = list(app.extensions.get(KICKS, {}).values())
    for kick in pending:
        kick.flush()


def _kick(send: Callable[[], None], what: str) -> None:
    # After commit only: a worker must never look for a row that is not visible yet. If the
    # broker (or the doorbell's Redis) is down the periodic sweep delivers later, so the
    # learner's request still succeeds.
    global _kick_paused_until
    if time.monotonic() < _kick_paused_until:
        return
    try:
        send()
    except Exception as err:
        _kick_paused_until = time.monotonic() + KICK_PAUSE_SECONDS
        log.warning("%s kick not sent (the sweep will deliver): %s", what, err)


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
