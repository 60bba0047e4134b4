"""The worker's doorbell loop, driven by a scripted doorbell and runtime (no Redis, no LRS):
it delivers each destination when rung and only then, comes back for busy lanes without a
ring, and survives Redis and database failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from lti_tool.config import LRSDestination, Settings
from tests.conftest import embedded_settings
from workers import delivery_loop, tasks
from workers.delivery import DeliveryReport
from workers.delivery_loop import DeliveryLoop
from workers.goal_engine import EngineReport

RING, QUIET = True, False


class ScriptedBell:
    """Answers each wait from a script (True: rung, False: timed out, an exception: raised);
    when the script runs out it stops the loop."""

    def __init__(self, loop: DeliveryLoop, script: list[bool | Exception]) -> None:
        self.loop = loop
        self.script = list(script)
        self.waits: list[float | None] = []
        self.silenced = 0
        self.rings = 0
        self.events: list[str] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if not self.script:
            self.loop._stopping.set()  # as stop() does, without joining from inside the thread
            return False
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if not answer and timeout is not None:
            time.sleep(max(0.0, min(timeout, 0.05)))  # a timed-out BLPOP took its time
        return answer

    def silence(self) -> None:
        self.silenced += 1
        self.events.append("silence")

    def ring(self) -> None:
        self.rings += 1


class ScriptedRuntime:
    def __init__(self, bell: ScriptedBell, reports: Callable[[str], DeliveryReport]) -> None:
        self.bell = bell
        self.reports = reports
        self.calls: list[str] = []

    def deliver(
        self, destination: LRSDestination, on_spare_lanes: Callable[[], None] | None
    ) -> DeliveryReport:
        self.calls.append(destination.name)
        self.bell.events.append(f"deliver {destination.name}")
        report = self.reports(destination.name)
        if report.sent == 99 and on_spare_lanes is not None:
            on_spare_lanes()
        return report


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(
        tmp_path,
        state_store_url="redis://127.0.0.1:1/0",
        lrs_destinations=(
            LRSDestination(name="north", endpoint="https://north.lrs.example/xAPI/"),
            LRSDestination(name="south", endpoint="https://south.lrs.example/xAPI/"),
        ),
        delivery_gather_seconds=0.0,
    )


class GoalCounts:
    """Goal counts as the loop asks for them: their times, and the answers scripted."""

    def __init__(self, answers: list[tuple[EngineReport, bool] | Exception] | None = None) -> None:
        self.at: list[float] = []
        self.answers = list(answers or [])

    def __call__(self, _runtime: Any) -> tuple[EngineReport, bool]:
        self.at.append(time.monotonic())
        answer = self.answers.pop(0) if self.answers else (EngineReport("outbox"), False)
        if isinstance(answer, Exception):
            raise answer
        return answer


def run(
    settings: Settings,
    script: list[bool | Exception],
    reports: Callable[[str], DeliveryReport] = lambda _: DeliveryReport(sent=1),
    goals: GoalCounts | None = None,
) -> tuple[DeliveryLoop, ScriptedBell, ScriptedRuntime]:
    loop = DeliveryLoop(settings, count_goals=goals or GoalCounts())
    bell = ScriptedBell(loop, script)
    runtime = ScriptedRuntime(bell, reports)
    loop.serve(runtime, bell)  # type: ignore[arg-type]
    return loop, bell, runtime


def test_a_ring_delivers_every_configured_destination_once(settings: Settings) -> None:
    loop, bell, runtime = run(settings, [QUIET, RING, QUIET, QUIET])
    assert runtime.calls == ["north", "south"]
    assert (loop.figures.rounds, loop.figures.sent) == (1, 2)
    # Rings that came while it gathered are dropped before the delivery that covers them.
    assert bell.events == ["silence", "deliver north", "deliver south"]


def test_without_a_ring_nothing_is_delivered(settings: Settings) -> None:
    _, _, runtime = run(settings, [QUIET] * 5)
    assert runtime.calls == []


def test_the_gather_window_passes_before_delivering(settings: Settings) -> None:
    started = time.monotonic()
    run(settings.with_overrides(delivery_gather_seconds=0.3), [RING])
    assert time.monotonic() - started >= 0.3


def test_busy_lanes_bring_the_loop_back_without_a_ring(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "BUSY_RETRY_SECONDS", 0.01)
    answers = iter([DeliveryReport(busy=True), DeliveryReport(sent=1)])
    _, bell, runtime = run(
        settings.with_overrides(lrs_destinations=(), lrs_endpoint="https://lrs.example/xAPI"),
        [RING, QUIET, QUIET],
        lambda _: next(answers, DeliveryReport()),
    )
    assert runtime.calls == ["default", "default"]  # the second round came from no ring
    assert bell.waits[1] is not None and bell.waits[1] <= 0.01  # waited only until due


def test_a_breaker_wait_longer_than_the_sweep_is_left_to_the_sweep(settings: Settings) -> None:
    _, bell, runtime = run(
        settings.with_overrides(
            lrs_destinations=(), lrs_endpoint="https://lrs.example/xAPI", outbox_sweep_seconds=30
        ),
        [RING, QUIET, QUIET],
        lambda _: DeliveryReport(retry_in=600.0),
    )
    assert runtime.calls == ["default"]
    assert bell.waits[1:3] == [delivery_loop.IDLE_WAIT_SECONDS] * 2


def test_lanes_left_for_others_ring_for_another_worker(settings: Settings) -> None:
    _, bell, _ = run(
        settings, [RING], lambda name: DeliveryReport(sent=99 if name == "north" else 1)
    )
    assert bell.rings == 1


def test_redis_down_is_waited_out_and_the_next_ring_still_delivers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_loop, "REDIS_RETRY_SECONDS", 0.01)
    down = redis.ConnectionError("connection refused")
    _, _, runtime = run(settings, [down, down, down, RING])
    assert runtime.calls == ["north", "south"]


def test_a_failing_destination_neither_stops_the_loop_nor_the_others(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_loop, "ERROR_RETRY_SECONDS", 0.01)

    failures = iter([RuntimeError("database unreachable")])

    def report(name: str) -> DeliveryReport:
        failure = next(failures, None) if name == "north" else None
        if failure is not None:
            raise failure
        return DeliveryReport(sent=1)

    _, _, runtime = run(settings, [RING, QUIET, QUIET], report)
    # South delivered at once; north was tried again shortly, without a ring.
    assert runtime.calls == ["north", "south", "north", "south"]


def test_the_step_runs_only_with_a_redis_state_store(settings: Settings) -> None:
    step_class: Any = type("Step", (delivery_loop.DeliveryLoopStep,), {"settings": settings})
    assert step_class.include_if(step_class.__new__(step_class), None) is True
    embedded = settings.with_overrides(state_store_url="")
    step_class.settings = embedded
    assert step_class.include_if(step_class.__new__(step_class), None) is False


def test_an_unexpected_error_restarts_the_loop_instead_of_ending_its_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_loop, "ERROR_RETRY_SECONDS", 0.01)
    loop = DeliveryLoop(settings, count_goals=GoalCounts())
    bell = ScriptedBell(loop, [ValueError("unexpected"), RING])
    runtime = ScriptedRuntime(bell, lambda _: DeliveryReport(sent=1))
    monkeypatch.setattr(delivery_loop, "Runtime", lambda _settings: runtime)
    monkeypatch.setattr(delivery_loop.Doorbell, "for_settings", lambda *_a, **_k: bell)
    bell.close = lambda: None  # type: ignore[attr-defined]
    runtime.close = lambda: None  # type: ignore[attr-defined]
    loop.start()
    thread = loop._thread
    assert thread is not None
    thread.join(5)
    # The ring after the error was served; the thread ended only when the script ran out.
    assert runtime.calls == ["north", "south"]
    assert not thread.is_alive()


def test_rings_count_goal_progress_at_most_once_a_second(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_loop, "GOAL_INTERVAL_SECONDS", 0.3)
    goals = GoalCounts()
    started = time.monotonic()
    # Three rings in quick succession, then quiet waits long enough for the interval.
    _, _, runtime = run(settings, [RING, RING, RING] + [QUIET] * 12, goals=goals)
    assert runtime.calls == ["north", "south"] * 3
    assert len(goals.at) == 2  # one at once, one for the later rings after the interval
    assert goals.at[0] - started < 0.25
    assert goals.at[1] - goals.at[0] >= 0.3


def test_without_a_ring_no_goal_progress_is_counted(settings: Settings) -> None:
    goals = GoalCounts()
    run(settings, [QUIET] * 5, goals=goals)
    assert goals.at == []


def test_goal_statements_recorded_by_a_count_are_delivered_without_a_ring(
    settings: Settings,
) -> None:
    goals = GoalCounts([(EngineReport("outbox"), True)])
    _, _, runtime = run(settings, [RING, QUIET, QUIET], goals=goals)
    assert runtime.calls == ["north", "south", "north", "south"]


def test_a_failing_goal_count_neither_stops_the_loop_nor_delivery(settings: Settings) -> None:
    goals = GoalCounts([RuntimeError("curriculum unreadable")])
    _, _, runtime = run(settings, [RING, RING], goals=goals)
    assert runtime.calls == ["north", "south"] * 2
