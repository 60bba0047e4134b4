"""Goal tasks: thin Celery wrappers over ``workers.goal_engine`` (plain functions there).

Kicked after each commit that queued statements (the web's ``commit``), and swept by beat,
so a lost kick costs at most one sweep interval. Each batch is its own transaction with the
cursor moved inside it: a task killed mid-run redoes at most the batch in hand, which the
ledger makes harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from celery import Celery

from content.loader import load_catalog
from lti_tool.config import LRSDestination, Settings
from lti_tool.queue import (
    TASK_COUNT_GOAL_PROGRESS,
    TASK_DELIVER_OUTBOX,
    TASK_MARK_MISSED_GOALS,
    TASK_PULL_GOAL_SOURCES,
)
from lti_tool.recording import OUTBOX_TOUCHED
from lti_tool.services import Services
from lti_tool.store.db import transaction
from workers.goal_engine import EngineReport, GoalEngine
from xapi.lrs import LRSClient

log = logging.getLogger(__name__)

#: Seconds one task keeps taking batches before it hands over to a follow-up task, so a
#: long backlog never holds a worker past its time limit.
RUN_SECONDS = 30.0


def count_outbox(
    services: Services, engine: GoalEngine, *, run_seconds: float = RUN_SECONDS
) -> tuple[EngineReport, bool]:
    """Process outbox batches until caught up or ``run_seconds`` are spent.

    Returns the summed report and whether statements were recorded (delivery to kick).
    """
    total = EngineReport("outbox")
    recorded = False
    deadline = time.monotonic() + run_seconds
    while True:
        with transaction(services.sessions) as session:
            report = engine.process_outbox(session)
            recorded |= bool(session.info.pop(OUTBOX_TOUCHED, False))
        _add(total, report)
        total.busy = report.busy
        if not report.busy or report.locked or time.monotonic() >= deadline:
            return total, recorded


def pull_source(
    services: Services,
    engine: GoalEngine,
    name: str,
    client: LRSClient,
    *,
    run_seconds: float = RUN_SECONDS,
) -> tuple[EngineReport, bool]:
    """Read pages from one external LRS until its last page or ``run_seconds``."""
    total = EngineReport(f"lrs:{name}")
    recorded = False
    deadline = time.monotonic() + run_seconds
    while True:
        with transaction(services.sessions) as session:
            report = engine.process_lrs_page(session, name, client)
            recorded |= bool(session.info.pop(OUTBOX_TOUCHED, False))
        _add(total, report)
        total.busy, total.error = report.busy, report.error
        if not report.busy or report.error or time.monotonic() >= deadline:
            return total, recorded


def _add(total: EngineReport, report: EngineReport) -> None:
    for name in ("processed", "malformed", "counted", "voided", "progressed", "achieved"):
        setattr(total, name, getattr(total, name) + getattr(report, name))
    total.locked = total.locked or report.locked


def client_for_source(source: LRSDestination) -> LRSClient:
    # Bounded timeouts: a source that hangs costs a pull a few seconds, never the worker.
    return LRSClient(
        source.endpoint,
        username=source.username or None,
        password=source.password or None,
        version=source.version,
        timeout=(3.05, 15.0),
        token_url=source.token_url or None,
        client_id=source.client_id or None,
        client_secret=source.client_secret or None,
    )


def register(app: Celery, settings: Settings, get_services: Callable[[], Services]) -> None:
    """Register the goal tasks on ``app``."""
    engines: list[GoalEngine] = []
    clients: dict[str, LRSClient] = {}

    def engine() -> GoalEngine:
        # Built in the worker child on first use: the curriculum is read once per process.
        if not engines:
            engines.append(GoalEngine(load_catalog()))
        return engines[0]

    def kick_delivery() -> None:
        # The engine recorded progressed/achieved statements: send them like any other.
        app.send_task(TASK_DELIVER_OUTBOX)

    # A batch is a few queries and, for the goals it moves, a statement each; RUN_SECONDS
    # bounds the loop, so 120 s is ample and the hard limit frees a wedged worker (its
    # uncommitted batch is simply read again). No Celery retries: the next kick or sweep
    # is the retry, and the cursor makes a rerun idempotent.
    @app.task(name=TASK_COUNT_GOAL_PROGRESS, soft_time_limit=120, time_limit=150, shared=False)
    def count_goal_progress(*, followup: bool = False, **_: Any) -> dict[str, Any]:
        """Count newly committed learning records towards learners' goals."""
        report, recorded = count_outbox(get_services(), engine())
        if recorded:
            kick_delivery()
        if report.busy and not followup:
            count_goal_progress.apply_async(kwargs={"followup": True})
        return asdict(report)

    # Each page is one GET with a 15 s read timeout; RUN_SECONDS bounds the pages per run.
    @app.task(name=TASK_PULL_GOAL_SOURCES, soft_time_limit=120, time_limit=150, shared=False)
    def pull_goal_sources(**_: Any) -> list[dict[str, Any]]:
        """Periodic: read new statements from each external LRS configured as a goal source."""
        reports = []
        recorded = False
        for source in settings.goal_sources:
            client = clients.get(source.name)
            if client is None:
                client = clients[source.name] = client_for_source(source)
            report, touched = pull_source(get_services(), engine(), source.name, client)
            recorded |= touched
            if report.error:
                log.warning("goal source %s unavailable: %s", source.name, report.error)
            reports.append(asdict(report))
        if recorded:
            kick_delivery()
        return reports

    @app.task(name=TASK_MARK_MISSED_GOALS, soft_time_limit=60, time_limit=90, shared=False)
    def mark_missed_goals(**_: Any) -> dict[str, Any]:
        """Periodic: goals whose deadline passed unreached become missed."""
        with transaction(get_services().sessions) as session:
            marked = engine().mark_missed(session)
            recorded = bool(session.info.pop(OUTBOX_TOUCHED, False))
        if recorded:
            kick_delivery()
        return {"missed": marked}
