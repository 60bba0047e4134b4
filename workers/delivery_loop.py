"""The worker's delivery loop: a thread in each worker process that delivers when the doorbell
rings, then counts goal progress at most once a second (docs/decisions/0022).

It replaces the web side's per-commit delivery task when the state store is Redis. Waking it
costs one BLPOP answer instead of a Celery message (receive, hand to the pool, acknowledge),
which at a trickle cost the worker more CPU than the delivery itself. Each round calls
``Runtime.deliver``, the very function the delivery task calls, so lanes, SKIP LOCKED,
breakers and dead letters behave the same and several workers' loops are as safe as several
tasks. The periodic sweep still sends delivery tasks (and goal-count tasks), so a lost ring,
a dead loop or a Redis outage only delays statements.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import redis
from celery import bootsteps

from content.loader import load_catalog
from lti_tool.config import Settings
from lti_tool.doorbell import Doorbell, uses_doorbell
from workers.goal_engine import EngineReport, GoalEngine
from workers.goals import count_outbox
from workers.tasks import Runtime, follow_up_in

log = logging.getLogger(__name__)

#: The longest one wait blocks. It bounds how long a worker's shutdown waits for the thread;
#: an idle wake-up costs one Redis round trip, nothing in the database.
IDLE_WAIT_SECONDS = 1.0
#: Waits after a failed Redis call: doubled per failure up to the ceiling, so a Redis outage
#: costs a log line and a connection attempt every half minute at most.
REDIS_RETRY_SECONDS = 0.5
REDIS_RETRY_CEILING = 30.0
#: Wait before another round after a delivery raised (the database unreachable, say).
ERROR_RETRY_SECONDS = 5.0
#: Goals move over days, not milliseconds: after rings, goal progress is counted at most
#: this often (the web side's goal-engine kick had the same interval; with the doorbell
#: the web side sends none).
GOAL_INTERVAL_SECONDS = 1.0
#: The longest one goal count runs before deliveries get their turn again; what it leaves is
#: counted in the next one.
GOAL_RUN_SECONDS = 1.0


@dataclass
class LoopFigures:
    """What the loop has done in this process (read by benchmarks/task_cpu.py)."""

    rounds: int = 0
    sent: int = 0
    #: CPU seconds of the loop's own thread spent in rounds (delivery and Redis calls).
    cpu_seconds: float = 0.0
    #: CPU seconds of the loop's thread spent counting goal progress, and how many counts.
    goal_cpu_seconds: float = 0.0
    goal_counts: int = 0
    #: The loop thread's id in the operating system (/proc/<pid>/task/<id>), once running.
    native_id: int | None = None


class DeliveryLoop:
    """Blocks on the doorbell, then delivers every due row of each configured destination."""

    def __init__(
        self,
        settings: Settings,
        count_goals: Callable[[Runtime], tuple[EngineReport, bool]] | None = None,
    ) -> None:
        self.settings = settings
        self.figures = LoopFigures()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._count_goals = count_goals or self._count_goal_progress
        self._goal_engine: GoalEngine | None = None
        # When goal progress is next due (monotonic), or None; and when it was last counted.
        self._goals_at: float | None = None
        self._goals_counted_at = float("-inf")

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name="cxa-delivery-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = IDLE_WAIT_SECONDS + 5.0) -> None:
        """Ask the thread to end and wait for it: a round in flight finishes its batch (its
        POST is bounded by the LRS client's timeouts); a thread still busy after ``timeout``
        is left to die with the process, its uncommitted batch still pending."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> None:
        # Everything with a socket is built here, in the thread, after Celery forked its pool:
        # a child never inherits the loop's database or Redis connections.
        self.figures.native_id = threading.get_native_id()
        runtime = Runtime(self.settings)
        bell = Doorbell.for_settings(self.settings, wait_timeout=IDLE_WAIT_SECONDS)
        try:
            while not self._stopping.is_set():
                try:
                    self.serve(runtime, bell)
                except Exception:
                    # Whatever went wrong, a dead thread would leave deliveries to the sweep
                    # until the worker restarts: log it and carry on.
                    log.exception("delivery loop failed; starting again shortly")
                    self._stopping.wait(ERROR_RETRY_SECONDS)
        finally:
            bell.close()
            runtime.close()

    def serve(self, runtime: Runtime, bell: Doorbell) -> None:
        # A round is also due without a ring at this monotonic time: a batch's breaker wait,
        # or lanes other workers held. A ring already on the list at start is served at once.
        due_at: float | None = None
        redis_failures = 0
        while not self._stopping.is_set():
            soonest = min((t for t in (due_at, self._goals_at) if t is not None), default=None)
            wait = IDLE_WAIT_SECONDS if soonest is None else soonest - time.monotonic()
            try:
                rung = bell.wait(wait)
            except redis.RedisError as err:
                redis_failures += 1
                pause = min(REDIS_RETRY_SECONDS * 2 ** (redis_failures - 1), REDIS_RETRY_CEILING)
                log.warning(
                    "delivery doorbell unreachable (the sweep delivers meanwhile); "
                    "next try in %.1fs: %s",
                    pause,
                    err,
                )
                self._stopping.wait(pause)
                continue
            redis_failures = 0
            if self._stopping.is_set():
                return
            if rung or (due_at is not None and time.monotonic() >= due_at):
                due_at = self.deliver_round(runtime, bell)
                if rung and self._goals_at is None:
                    # New statements may move a goal; at most one count per interval.
                    self._goals_at = max(
                        time.monotonic(), self._goals_counted_at + GOAL_INTERVAL_SECONDS
                    )
            goals_due = self._goals_at is not None and time.monotonic() >= self._goals_at
            if goals_due and self.goal_round(runtime):
                due_at = time.monotonic()  # the goal statements it recorded go out now

    def goal_round(self, runtime: Runtime) -> bool:
        """Count goal progress from the outbox; True when that recorded statements."""
        started = time.thread_time()
        self._goals_counted_at = time.monotonic()
        self._goals_at = None
        try:
            report, recorded = self._count_goals(runtime)
        except Exception:
            log.exception("goal progress count failed; the sweep counts it later")
            return False
        finally:
            self.figures.goal_counts += 1
            self.figures.goal_cpu_seconds += time.thread_time() - started
        if report.busy:
            self._goals_at = self._goals_counted_at + GOAL_INTERVAL_SECONDS
        return recorded

    def _count_goal_progress(self, runtime: Runtime) -> tuple[EngineReport, bool]:
        if self._goal_engine is None:
            # The curriculum is read once, in this thread, on first use.
            self._goal_engine = GoalEngine(load_catalog())
        return count_outbox(runtime.get_services(), self._goal_engine, run_seconds=GOAL_RUN_SECONDS)

    def deliver_round(self, runtime: Runtime, bell: Doorbell) -> float | None:
        """Gather, then deliver each destination; returns when the next round is due without
        a ring (monotonic), or None."""
        started = time.thread_time()
        gather = self.settings.delivery_gather_seconds
        if gather > 0:
            # Commits landing meanwhile ride in the same POST; their rings are dropped below.
            self._stopping.wait(gather)
        # A ring left behind only costs an extra round later; the next wait reports an outage.
        with suppress(redis.RedisError):
            bell.silence()
        soonest: float | None = None
        sent = 0

        def bring_in_another_worker() -> None:
            # Lanes with work this round does not hold: another worker's loop takes them.
            # If Redis is down, this loop's own next round, or the sweep, takes them instead.
            with suppress(redis.RedisError):
                bell.ring()

        for destination in self.settings.destinations:
            try:
                report = runtime.deliver(destination, bring_in_another_worker)
            except Exception:
                log.exception("delivery to %s failed; trying again shortly", destination.name)
                wait: float | None = ERROR_RETRY_SECONDS
            else:
                sent += report.sent
                wait = follow_up_in(report, self.settings)
            if wait is not None:
                soonest = wait if soonest is None else min(soonest, wait)
        self.figures.rounds += 1
        self.figures.sent += sent
        self.figures.cpu_seconds += time.thread_time() - started
        return None if soonest is None else time.monotonic() + soonest


#: The loop running in this process, if any (benchmarks read its figures).
running: DeliveryLoop | None = None


class DeliveryLoopStep(bootsteps.StartStopStep):
    """Starts the delivery loop with ``celery -A workers.app worker``, when the doorbell is
    in use, once the pool has forked its children; stops it at worker shutdown."""

    # After the pool (and an embedded beat) have forked: no child inherits the thread's state.
    requires = ("celery.worker.components:Pool", "celery.worker.components:Beat")
    settings: Settings | None = None

    def include_if(self, parent: Any) -> bool:
        return self.settings is not None and uses_doorbell(self.settings)

    # celery-types declares None, but StartStopStep keeps what create() returns as .obj.
    def create(self, parent: Any) -> DeliveryLoop:  # type: ignore[override]
        global running
        assert self.settings is not None  # include_if said so
        running = DeliveryLoop(self.settings)
        return running


def install(app: Any, settings: Settings) -> None:
    """Add the loop's step to ``app``'s workers."""
    step = type("DeliveryLoopStep", (DeliveryLoopStep,), {"settings": settings})
    app.steps["worker"].add(step)
