"""Celery tasks: thin wrappers, named by verb_noun, over the plain functions in this package."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from celery import Celery

from lti_tool.config import LRSDestination, Settings
from lti_tool.queue import TASK_DELIVER_OUTBOX, TASK_SWEEP
from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.state import purge_expired_state
from workers import goals as goal_tasks
from workers import grades as grade_sync
from workers.delivery import DeliveryPolicy, DeliveryReport, deliver_outbox
from xapi.lrs import LRSClient

log = logging.getLogger(__name__)


def policy_for(settings: Settings, destination: LRSDestination) -> DeliveryPolicy:
    return DeliveryPolicy(
        batch_size=destination.batch_size,
        max_batch_age=settings.lrs_batch_max_age,
        max_attempts=settings.lrs_max_attempts,
        max_backoff=timedelta(seconds=settings.lrs_max_backoff_seconds),
    )


def client_for(destination: LRSDestination) -> LRSClient:
    return LRSClient(
        destination.endpoint,
        username=destination.username or None,
        password=destination.password or None,
        version=destination.version,
        token_url=destination.token_url or None,
        client_id=destination.client_id or None,
        client_secret=destination.client_secret or None,
    )


#: Seconds before another look when other workers held every lane with work: they may finish
#: without seeing a row committed meanwhile.
BUSY_RETRY_SECONDS = 1.0


def follow_up_in(report: DeliveryReport, settings: Settings) -> float | None:
    """Seconds until a destination is worth another look after ``report``; None: leave it
    to the next kick or sweep (nothing due, or a wait longer than the sweep's period)."""
    wait = BUSY_RETRY_SECONDS if report.busy else report.retry_in
    if wait is None or wait > settings.outbox_sweep_seconds:
        return None
    return wait


@dataclass
class Runtime:
    """One worker child's (or delivery loop's) database engine and LRS clients (one HTTP
    session per LRS)."""

    settings: Settings
    services: Services | None = None
    clients: dict[str, LRSClient] = field(default_factory=dict)
    grades: grade_sync.GradeClients = field(default_factory=grade_sync.GradeClients)

    def get_services(self) -> Services:
        # Built lazily in the worker child process, never at import (prefork would share
        # sockets), and the configured destinations are registered before the first delivery.
        if self.services is None:
            self.services = Services.build(self.settings)
            self.sync_destinations()
        return self.services

    def sync_destinations(self) -> None:
        with transaction(self.get_services().sessions) as session:
            moved = outbox.sync_destinations(
                session,
                [d.name for d in self.settings.destinations],
                lanes=self.settings.outbox_lanes,
            )
        if moved:
            log.warning(
                "%d pending statements of destinations no longer configured were queued for "
                "the configured ones",
                moved,
            )

    def get_client(self, destination: LRSDestination) -> LRSClient:
        if destination.name not in self.clients:
            self.clients[destination.name] = client_for(destination)
        return self.clients[destination.name]

    def deliver(
        self, destination: LRSDestination, on_spare_lanes: Callable[[], None] | None
    ) -> DeliveryReport:
        """Deliver one destination's due rows: what the delivery task and the doorbell loop
        (workers/delivery_loop.py) both run, so the two differ only in how they are woken."""
        return deliver_outbox(
            self.get_services().sessions,
            self.get_client(destination),
            destination=destination.name,
            policy=policy_for(self.settings, destination),
            on_spare_lanes=on_spare_lanes,
        )

    def close(self) -> None:
        self.grades.close()
        for client in self.clients.values():
            client.close()
        self.clients.clear()
        if self.services is not None:
            self.services.close()
            self.services = None


def register(app: Celery, settings: Settings) -> Runtime:
    """Register the tasks on ``app``; the returned runtime holds what they open (close it)."""
    runtime = Runtime(settings)
    destinations = {d.name: d for d in settings.destinations}

    # A batch POST answers within the LRS client's read timeout (15 s), bisection included a
    # few dozen of them; 10 minutes covers a long backlog, and the hard limit stops a wedged
    # task from holding its worker forever (its uncommitted batch simply stays pending).
    # shared=False: tests build several apps in one process; each keeps its own tasks.
    @app.task(name=TASK_DELIVER_OUTBOX, soft_time_limit=600, time_limit=660, shared=False)
    def deliver_statements(
        *, destination: str | None = None, followup: bool = False, **_: Any
    ) -> dict[str, Any]:
        """Deliver one destination's outbox; without one, start a task per destination.

        One task per destination keeps a slow or unreachable LRS from delaying the others.
        """
        if destination is None:
            if not destinations:
                log.info("no LRS configured (CXA_LRS_ENDPOINT): statements stay in the outbox")
            for name in destinations:
                deliver_statements.apply_async(kwargs={"destination": name})
            return {"destinations": sorted(destinations)}
        if destination not in destinations:
            log.warning("no LRS destination %r is configured; its rows wait", destination)
            return {"destination": destination, "configured": False}
        config = destinations[destination]

        def bring_in_another_worker() -> None:
            # Lanes with work nobody holds: one more task, which an idle worker picks up (and
            # which may call one more itself), so a backlog spreads over every worker. Each
            # task adds at most one, so the queue cannot grow faster than it is consumed.
            deliver_statements.apply_async(kwargs={"destination": destination})

        report = runtime.deliver(config, bring_in_another_worker)
        # One follow-up per kick, for a batch still filling up, a short breaker wait, or a row
        # committed while another worker was finishing; longer waits are the sweep's job, and
        # a follow-up never schedules another, so tasks cannot multiply.
        wait = follow_up_in(report, settings)
        if not followup and wait is not None:
            deliver_statements.apply_async(
                kwargs={"destination": destination, "followup": True}, countdown=max(wait, 0.05)
            )
        return {"destination": destination, **asdict(report)}

    @app.task(name=TASK_SWEEP, soft_time_limit=60, time_limit=90, shared=False)
    def sweep_outbox() -> None:
        """Periodic: catches rows whose kick was lost, and clears expired launch state."""
        with transaction(runtime.get_services().sessions) as session:
            purge_expired_state(session)
        # A destination added to or removed from the configuration takes effect here too.
        runtime.sync_destinations()
        deliver_statements.apply_async()

    grade_sync.register(app, settings, runtime.get_services, runtime.grades)
    goal_tasks.register(app, settings, runtime.get_services)
    return runtime
