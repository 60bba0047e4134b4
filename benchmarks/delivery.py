"""Statement delivery figures on this machine (prints numbers; never part of the tests).

1. Ralph's own ingest ceiling: raw batch POSTs of ready-made statements.
2. Our end-to-end rate through the outbox (claim, POST, mark sent, commit), same batch size,
   against a fresh Ralph of its own, so Ralph's FS backend (which re-reads its file to spot
   known ids) starts equally empty for both; the ratio of the two is the outbox's overhead.
3. The request-path cost of recording one event: record_event + commit (median, p99).
4. Delivery lag under a steady load: learners record at a fixed rate, a delivery loop kicked
   after each commit (as the worker is) sends; lag = sent_at - created_at.
5. The same lag through the real hop, as deployed: each event recorded and committed by the
   web side's own path (lti_tool.web.db.commit, with its coalesced kick), a Celery worker on
   Redis delivering to Ralph; then the embedded demo's filesystem broker (SQLite). Beside it,
   the worker's CPU ms per delivered statement and Ralph's CPU ms per stored statement (from
   /proc, same run). Lag runs from the row's created_at (just before its commit) to its
   sent_at (after Ralph answered), both read from one clock. On Redis, Redis is the state
   store too, so the kick is the delivery doorbell and the worker's loop thread delivers
   (docs/decisions/0022); the emitter is then that thread's CPU (/proc/<pid>/task/<tid>).
   ``--no-doorbell`` runs the Celery-task kick instead (for before/after pairs).
6. Scale-out (PostgreSQL and Redis only): a backlog of statements from many learners, drained
   by 1, 2 and 4 Celery workers (one process each) sharing one outbox through its lanes;
   the delivery rate, and the workers' CPU per statement beside Ralph's, for each. Woken by
   the doorbell (their loops deliver), or by delivery tasks with ``--no-doorbell``.

Run: ``.venv/bin/python -m benchmarks.delivery [--database-url URL] [--redis-url URL]``
(SQLite in a temporary folder by default; item 5 needs Redis). Loopback only; a few minutes.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.launch import TICKS, cpu_seconds, start
from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.demo.ralph import RalphConfig, RalphServer, free_port
from lti_tool.doorbell import Doorbell
from lti_tool.queue import TASK_COUNT_GOAL_PROGRESS, TASK_DELIVER_OUTBOX
from lti_tool.recording import record_event
from lti_tool.services import Services
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.learning import LearnerKey
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import DestinationState, OutboxRow, OutboxStatus
from lti_tool.web import kicks
from lti_tool.web.db import commit, db, flush_kicks
from tests.unit.xapi.catalogue import NAMESPACE, STATEMENT_KINDS
from workers.delivery import DeliveryPolicy, deliver_outbox
from xapi.events import LearningEvent
from xapi.lrs import LRSClient
from xapi.statements import build_statement

BATCH = 100
LEARNER = STATEMENT_KINDS["launched"].learner


def event(n: int, run: str) -> LearningEvent:
    """The n-th event of a run, from one of 64 learners in turn (as a class records)."""
    return replace(
        STATEMENT_KINDS["launched"],
        source_id=f"bench:{run}:{n}",
        timestamp=datetime.now(UTC),
        learner=replace(LEARNER, sub=f"learner-{n % 64}"),
    )


def record(session: Any, learning: LearningEvent) -> None:
    record_event(session, learning, owner=LearnerKey(1, learning.learner.sub))


@contextmanager
def fresh_ralph(folder: Path) -> Iterator[RalphServer]:
    config = RalphConfig(
        port=free_port(),
        data_dir=folder / f"ralph-{uuid.uuid4().hex[:6]}",
        username="bench",
        password=secrets.token_urlsafe(16),
    )
    with RalphServer(config) as server:
        yield server


def raw_ingest(ralph: RalphServer, count: int) -> float:
    statements = [build_statement(event(n, "raw"), namespace=NAMESPACE) for n in range(count)]
    with requests.Session() as http:
        http.auth = (ralph.config.username, ralph.config.password)
        http.headers["X-Experience-API-Version"] = "1.0.3"
        started = time.perf_counter()
        for start in range(0, count, BATCH):
            answer = http.post(
                ralph.config.statements_url, json=statements[start : start + BATCH], timeout=60
            )
            answer.raise_for_status()
        return count / (time.perf_counter() - started)


def outbox_rate(ralph: RalphServer, database_url: str, count: int) -> float:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with transaction(sessions) as session:
            for n in range(count):
                record(session, event(n, "outbox"))
        with LRSClient(
            ralph.config.endpoint, username=ralph.config.username, password=ralph.config.password
        ) as client:
            started = time.perf_counter()
            report = deliver_outbox(sessions, client, policy=DeliveryPolicy(batch_size=BATCH))
            elapsed = time.perf_counter() - started
        assert report.sent == count, report
        return count / elapsed
    finally:
        engine.dispose()


def request_path(database_url: str, count: int) -> list[float]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    timings = []
    try:
        for n in range(count):
            started = time.perf_counter()
            with transaction(sessions) as session:
                record(session, event(n, "request"))
            timings.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return timings


def steady_lag(ralph: RalphServer, database_url: str, rate: float, seconds: float) -> list[float]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    kicked = threading.Event()
    done = threading.Event()

    def deliver_when_kicked(client: LRSClient) -> None:
        while not done.is_set():
            kicked.wait(0.5)
            kicked.clear()
            deliver_outbox(sessions, client, policy=DeliveryPolicy(batch_size=BATCH))

    try:
        with LRSClient(
            ralph.config.endpoint, username=ralph.config.username, password=ralph.config.password
        ) as client:
            worker = threading.Thread(target=deliver_when_kicked, args=(client,))
            worker.start()
            started = time.perf_counter()
            n = 0
            while time.perf_counter() - started < seconds:
                with transaction(sessions) as session:
                    record(session, event(n, "lag"))
                kicked.set()
                n += 1
                time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and pending(sessions):
                kicked.set()
                time.sleep(0.1)
            done.set()
            worker.join()
        with sessions() as session:
            rows = session.execute(
                select(OutboxRow.created_at, OutboxRow.sent_at).where(
                    OutboxRow.status == OutboxStatus.SENT
                )
            ).all()
        return [(sent - created).total_seconds() for created, sent in rows if sent]
    finally:
        engine.dispose()


@dataclass
class HopFigures:
    lags: list[float]
    delivered: int
    worker_cpu: float
    ralph_cpu: float
    #: Of worker_cpu, what the tasks themselves spent, and how many ran, by task name; the rest
    #: is Celery's own (receiving, handing to the pool, acknowledging).
    task_cpu: dict[str, tuple[float, int]]
    #: Events per second the producer actually committed (below the asked rate when the
    #: machine cannot keep up: each is a whole app context, record and commit).
    achieved_rate: float
    #: With the doorbell: the loop thread's CPU seconds (all of it, waits included) and its
    #: delivery rounds within the window; None without.
    loop_cpu: float | None = None
    loop_rounds: int = 0
    #: Of loop_cpu, what the rounds themselves took (gather, delivery, Redis), by the loop's
    #: own count (time.thread_time, finer than /proc's ticks).
    loop_round_cpu: float = 0.0
    #: Of loop_cpu, the goal counts the loop ran (not the emitter's: the goal engine's).
    loop_goal_cpu: float = 0.0

    def ms(self, fraction: float) -> float:
        return percentile(self.lags, fraction) * 1000


def celery_hop_lag(
    folder: Path,
    database_url: str,
    broker_url: str,
    rate: float,
    seconds: float,
    kick_interval: float | None = None,
    doorbell: bool = False,
    gather: float | None = None,
) -> HopFigures:
    """Events committed by the web path at ``rate``; a real Celery worker delivers them.

    ``kick_interval`` replaces the web side's kick coalescing interval for the run (a what-if:
    fewer kicks, fewer tasks, longer lag). ``doorbell``: the broker's Redis is the state store
    too, so commits ring the doorbell; ``gather`` replaces the loop's gather window.
    """
    if kick_interval is not None:
        kicks.KICK_INTERVAL_SECONDS = kick_interval
    name = uuid.uuid4().hex[:6]
    logs = folder / f"logs-{name}"
    logs.mkdir()
    with fresh_ralph(folder) as ralph:
        settings = Settings(
            database_url=database_url,
            broker_url=broker_url,
            broker_dir=folder / f"broker-{name}",
            lrs_endpoint=ralph.config.endpoint,
            lrs_username=ralph.config.username,
            lrs_password=ralph.config.password,
            var_dir=folder / f"var-{name}",
            log_level="WARNING",
            task_queue=f"bench-{name}",
            state_store_url=broker_url if doorbell else "",
        )
        if gather is not None:
            settings = settings.with_overrides(delivery_gather_seconds=gather)
        task_cpu = logs / "task-cpu"
        task_cpu.mkdir()
        worker = start(
            "lag-worker",
            [str(Path(sys.executable).parent / "celery"), "-A", "benchmarks.task_cpu", "worker",
             "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            {**settings.as_env(), "CXA_BENCH_TASK_CPU": str(task_cpu)},
            logs,
        )  # fmt: skip
        services = Services.build(settings)
        try:
            app = create_app(services=services)
            wait_for_destinations(services, worker.process)
            # One delivered statement first, so the worker's first-task set-up (engine, LRS
            # session) is not counted as lag: a deployed worker is long-running.
            with app.app_context():
                record(db(), event(-1, f"hop-{name}"))
                commit()
            while pending(services.sessions):
                time.sleep(0.05)
            time.sleep(0.3)  # so the loop's figures written last include that first round
            measured_from = datetime.now(UTC)
            assert ralph.pid is not None
            worker_before, ralph_before = (
                cpu_seconds([worker.process.pid]),
                cpu_seconds([ralph.pid]),
            )
            tasks_before = read_totals(task_cpu)
            loop_before = loop_figures(task_cpu, doorbell)
            started = time.perf_counter()
            n = 0
            while time.perf_counter() - started < seconds:
                with app.app_context():
                    record(db(), event(n, f"hop-{name}"))
                    commit()  # the web side's commit: kicks the worker, coalesced
                n += 1
                time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            achieved = n / (time.perf_counter() - started)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and pending(services.sessions):
                time.sleep(0.05)
            worker_cpu = cpu_seconds([worker.process.pid]) - worker_before
            ralph_cpu = cpu_seconds([ralph.pid]) - ralph_before
            time.sleep(0.3)  # the loop's figures are written ten times a second
            loop_after = loop_figures(task_cpu, doorbell)
            tasks = {
                name: (
                    spent - tasks_before.get(name, (0.0, 0))[0],
                    n - tasks_before.get(name, (0.0, 0))[1],
                )
                for name, (spent, n) in read_totals(task_cpu).items()
            }
            flush_kicks(app)
            with services.sessions() as session:
                rows = session.execute(
                    select(OutboxRow.created_at, OutboxRow.sent_at).where(
                        OutboxRow.status == OutboxStatus.SENT,
                        OutboxRow.created_at >= measured_from,
                    )
                ).all()
        finally:
            services.close()
            worker.stop()
    lags = [(sent - created).total_seconds() for created, sent in rows if sent]
    figures = HopFigures(lags, len(lags), worker_cpu, ralph_cpu, tasks, achieved)
    if loop_before is not None and loop_after is not None:
        figures.loop_cpu = loop_after[0] - loop_before[0]
        figures.loop_rounds = loop_after[1] - loop_before[1]
        figures.loop_round_cpu = loop_after[2] - loop_before[2]
        figures.loop_goal_cpu = loop_after[3] - loop_before[3]
    return figures


def loop_figures(folder: Path, doorbell: bool) -> tuple[float, int, float, float] | None:
    """The doorbell loop thread's CPU seconds so far (from /proc), its rounds, the CPU it
    counted inside them and in its goal counts, or None without the doorbell; fails when
    the loop should run and does not."""
    if not doorbell:
        return None
    deadline = time.monotonic() + 10
    path = folder / "loop.json"
    while time.monotonic() < deadline:
        if path.exists():
            figures = json.loads(path.read_text())
            if figures["native_id"] is not None:
                stat = Path(f"/proc/{figures['pid']}/task/{figures['native_id']}/stat").read_text()
                # utime and stime, fields 14 and 15 of the thread's stat line.
                fields = stat[stat.rindex(")") + 2 :].split()
                thread = (int(fields[11]) + int(fields[12])) / TICKS
                return (
                    thread,
                    int(figures["rounds"]),
                    float(figures["cpu_seconds"]),
                    float(figures["goal_cpu_seconds"]),
                )
        time.sleep(0.1)
    raise SystemExit("the worker's delivery loop did not report (benchmarks/task_cpu.py)")


def start_worker(name: str, settings: Settings, logs: Path) -> Any:
    return start(
        name,
        [str(Path(sys.executable).parent / "celery"), "-A", "workers.app", "worker",
         "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h"],
        settings.as_env(),
        logs,
    )  # fmt: skip


@dataclass
class ScaleFigures:
    workers: int
    delivered: int
    seconds: float
    worker_cpu: float
    ralph_cpu: float


def scale_out(
    folder: Path,
    database_url: str,
    broker_url: str,
    workers: int,
    count: int,
    lanes: int,
    doorbell: bool = False,
) -> ScaleFigures:
    """``count`` statements of 64 learners queued, then ``workers`` workers drain them;
    woken by delivery tasks, or with ``doorbell`` by rings to their loops."""
    name = uuid.uuid4().hex[:6]
    logs = folder / f"logs-{name}"
    logs.mkdir()
    with fresh_ralph(folder) as ralph:
        settings = Settings(
            database_url=database_url,
            broker_url=broker_url,
            broker_dir=folder / f"broker-{name}",
            lrs_endpoint=ralph.config.endpoint,
            lrs_username=ralph.config.username,
            lrs_password=ralph.config.password,
            lrs_batch_size=BATCH,
            outbox_lanes=lanes,
            # No sweep within the run: only the kick and the tasks it spreads to deliver.
            outbox_sweep_seconds=3600,
            var_dir=folder / f"var-{name}",
            log_level="WARNING",
            task_queue=f"bench-{name}",
            state_store_url=broker_url if doorbell else "",
        )
        services = Services.build(settings)
        children = [start_worker(f"scale{n}-{name}", settings, logs) for n in range(workers)]
        try:
            with transaction(services.sessions) as session:
                for n in range(count):
                    record(session, event(n, f"scale-{name}"))
            deadline = time.monotonic() + 120
            while len(services.celery.control.ping(timeout=0.5)) < workers:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the Celery workers did not start (see {logs})")
                time.sleep(0.2)
            # One kick per worker, as a busy web side sends; each worker builds its engine and
            # syncs the lane count on its first task. Measured from half a second after the
            # first batch landed, on what is left, so start-up is not counted as delivery.
            for _ in range(workers):
                if doorbell:
                    # One ring wakes one loop; the lanes it leaves ring for the others.
                    bell = Doorbell.for_settings(settings)
                    bell.ring()
                    bell.close()
                else:
                    services.celery.send_task(TASK_DELIVER_OUTBOX)
            while pending_count(services.sessions) == count:
                time.sleep(0.02)
            time.sleep(0.5)
            pids = [child.process.pid for child in children]
            assert ralph.pid is not None
            worker_before, ralph_before = cpu_seconds(pids), cpu_seconds([ralph.pid])
            left_before = pending_count(services.sessions)
            started = time.perf_counter()
            while pending(services.sessions):
                if time.perf_counter() - started > 300:
                    raise SystemExit("the backlog did not drain within 5 minutes")
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            worker_cpu = cpu_seconds(pids) - worker_before
            ralph_cpu = cpu_seconds([ralph.pid]) - ralph_before
        finally:
            services.close()
            for child in children:
                child.stop()
    return ScaleFigures(workers, left_before, elapsed, worker_cpu, ralph_cpu)


def read_totals(folder: Path) -> dict[str, tuple[float, int]]:
    """CPU seconds and tasks run per task name so far, summed over the worker processes that
    wrote there (benchmarks/task_cpu.py)."""
    totals: dict[str, tuple[float, int]] = {}
    for path in folder.glob("[0-9]*.json"):
        for name, (seconds, count) in json.loads(path.read_text()).items():
            before = totals.get(name, (0.0, 0))
            totals[name] = (before[0] + seconds, before[1] + count)
    return totals


def pending_count(sessions: Any) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status == OutboxStatus.PENDING)
            )
            or 0
        )


def wait_for_destinations(services: Services, worker: Any) -> None:
    # The worker registers the configured destinations at start-up; events recorded before
    # that would have nowhere to go.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and worker.poll() is None:
        with services.sessions() as session:
            if session.scalar(select(func.count()).select_from(DestinationState)):
                time.sleep(1.0)  # and give it a moment to start consuming
                return
        time.sleep(0.2)
    raise SystemExit("the Celery worker did not start (see its log)")


def report_hop(label: str, figures: HopFigures) -> None:
    def per_statement(seconds: float) -> float:
        return seconds / figures.delivered * 1000

    delivery, deliveries = figures.task_cpu.get(TASK_DELIVER_OUTBOX, (0.0, 0))
    goals, _ = figures.task_cpu.get(TASK_COUNT_GOAL_PROGRESS, (0.0, 0))
    celery = figures.worker_cpu - sum(spent for spent, _ in figures.task_cpu.values())
    # The emitter: the delivery tasks and their share (by count) of Celery's own work, plus
    # the doorbell loop's thread when it runs (then outside Celery's own).
    tasks = sum(n for _, n in figures.task_cpu.values())
    loop = figures.loop_cpu or 0.0
    celery -= loop
    goals += figures.loop_goal_cpu
    emitter = loop - figures.loop_goal_cpu + delivery + celery * deliveries / max(tasks, 1)
    ralph = per_statement(figures.ralph_cpu)
    rounds = (
        f"; doorbell loop: {figures.loop_rounds} rounds, "
        f"{figures.delivered / max(figures.loop_rounds, 1):.1f} statements each, "
        f"its thread {per_statement(loop):.2f} ms (goal counts "
        f"{per_statement(figures.loop_goal_cpu):.2f}), "
        f"{figures.loop_round_cpu / max(figures.loop_rounds, 1) * 1000:.2f} ms per round inside"
        if figures.loop_cpu is not None
        else ""
    )
    print(
        f"{label}: p50 {figures.ms(0.5):.0f} ms, p99 {figures.ms(0.99):.0f} ms, "
        f"max {max(figures.lags) * 1000:.0f} ms (n={figures.delivered}, "
        f"{figures.achieved_rate:.0f} events/s achieved; "
        f"{deliveries} delivery tasks, {figures.delivered / max(deliveries, 1):.1f} statements "
        f"each{rounds})\n"
        f"  CPU ms per delivered statement: worker {per_statement(figures.worker_cpu):.2f} "
        f"(delivery tasks {per_statement(delivery):.2f}, goal counts {per_statement(goals):.2f}, "
        f"Celery's own {per_statement(celery):.2f}), Ralph {ralph:.2f} per stored; "
        f"ratio to Ralph: worker {figures.worker_cpu / figures.ralph_cpu:.2f}, "
        f"emitter (loop thread but its goal counts, delivery tasks and their share of "
        f"Celery's own, "
        f"{per_statement(emitter):.2f} ms) {emitter / figures.ralph_cpu:.2f}"
    )


def pending(sessions: Any) -> bool:
    with sessions() as session:
        return (
            session.scalars(
                select(OutboxRow.id).where(OutboxRow.status == OutboxStatus.PENDING).limit(1)
            ).first()
            is not None
        )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def fresh_database(folder: Path, url: str | None, name: str) -> str:
    """An empty, migrated database: a SQLite file, or a new schema in the PostgreSQL at url."""
    if url is None:
        database_url = f"sqlite:///{folder / f'{name}.db'}"
    else:
        schema = f"cxa_bench_{name}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        _SCHEMAS.append((url, schema))
        database_url = (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return database_url


_SCHEMAS: list[tuple[str, str]] = []


def drop_schemas() -> None:
    for url, schema in _SCHEMAS:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="A PostgreSQL URL to run in throwaway schemas (default: SQLite)."
    )
    parser.add_argument("--statements", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50.0, help="Events per second for lag.")
    parser.add_argument("--seconds", type=float, default=15.0, help="Length of the lag run.")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="Redis for the Celery hop (item 5); 'none' skips it.",
    )
    parser.add_argument("--backlog", type=int, default=6000, help="Statements for scale-out.")
    parser.add_argument("--lanes", type=int, default=8, help="Lanes for scale-out.")
    parser.add_argument(
        "--only-scale", action="store_true", help="Run only the scale-out figures (item 6)."
    )
    parser.add_argument(
        "--only-hop", action="store_true", help="Run only the Celery hop on Redis (item 5)."
    )
    parser.add_argument(
        "--no-doorbell",
        action="store_true",
        help="Items 5 and 6 with the Celery-task kick instead of the doorbell (before/after).",
    )
    parser.add_argument(
        "--gather",
        type=float,
        help="What-if for item 5: the doorbell loop's gather window in seconds.",
    )
    parser.add_argument(
        "--kick-interval",
        type=float,
        help="What-if for item 5: the web side's kick interval in seconds "
        f"(deployed: {kicks.KICK_INTERVAL_SECONDS}).",
    )
    args = parser.parse_args()
    url = args.database_url
    try:
        run(args, url)
    finally:
        drop_schemas()


def run(args: argparse.Namespace, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kind = "PostgreSQL" if url else "SQLite (embedded default)"
        print(f"database: {kind}; batch size {BATCH}; Ralph (FS backend) on loopback")
        if args.only_scale:
            run_scale(args, url, folder)
            return
        if args.only_hop:
            run_hop(args, url, folder, kind)
            return
        with fresh_ralph(folder) as ralph:
            raw = raw_ingest(ralph, args.statements)
        with fresh_ralph(folder) as ralph:
            ours = outbox_rate(ralph, fresh_database(folder, url, "rate"), args.statements)
        print(f"Ralph raw batch POST ingest:   {raw:8.0f} statements/s")
        print(f"outbox end-to-end delivery:    {ours:8.0f} statements/s  (ratio {ours / raw:.2f})")

        timings = request_path(fresh_database(folder, url, "request"), 2000)
        print(
            "record_event + commit:         "
            f"median {statistics.median(timings) * 1000:.2f} ms, "
            f"p99 {percentile(timings, 0.99) * 1000:.2f} ms (n={len(timings)})"
        )

        with fresh_ralph(folder) as ralph:
            lags = steady_lag(ralph, fresh_database(folder, url, "lag"), args.rate, args.seconds)
        print(
            f"delivery lag at {args.rate:.0f} events/s for {args.seconds:.0f}s: "
            f"median {statistics.median(lags) * 1000:.0f} ms, "
            f"p95 {percentile(lags, 0.95) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms "
            f"(n={len(lags)})"
        )

        if args.redis_url != "none":
            run_hop(args, url, folder, kind)
        demo = celery_hop_lag(
            folder, fresh_database(folder, None, "demo"), "filesystem://", args.rate, args.seconds
        )
        report_hop(f"embedded demo (filesystem broker, SQLite), {args.rate:.0f} events/s", demo)

        if url is not None and args.redis_url != "none":
            run_scale(args, url, folder)


def run_hop(args: argparse.Namespace, url: str | None, folder: Path, kind: str) -> None:
    hop_db = fresh_database(folder, url, "hop")
    doorbell = not args.no_doorbell
    hop = celery_hop_lag(
        folder,
        hop_db,
        args.redis_url,
        args.rate,
        args.seconds,
        args.kick_interval,
        doorbell=doorbell,
        gather=args.gather,
    )
    kick = "doorbell" if doorbell else "Celery task kicks"
    label = f"{kick} on Redis, {args.rate:.0f} events/s, {kind}"
    if doorbell and args.gather is not None:
        label += f", gather {args.gather:g}s"
    if args.kick_interval is not None:
        label += f", kicks every {args.kick_interval:g}s at most"
    report_hop(label, hop)


def run_scale(args: argparse.Namespace, url: str | None, folder: Path) -> None:
    if url is None or args.redis_url == "none":
        raise SystemExit("scale-out needs --database-url (PostgreSQL) and Redis")
    doorbell = not args.no_doorbell
    print(
        f"scale-out: a backlog of {args.backlog} statements from 64 learners, "
        f"{args.lanes} lanes, batch {BATCH}, one Celery process per worker, woken by "
        f"{'the doorbell' if doorbell else 'delivery tasks'}"
    )
    single = None
    for workers in (1, 2, 4):
        figures = scale_out(
            folder,
            fresh_database(folder, url, f"scale{workers}"),
            args.redis_url,
            workers,
            args.backlog,
            args.lanes,
            doorbell,
        )
        rate = figures.delivered / figures.seconds
        single = single or rate
        print(
            f"  {workers} worker(s): {rate:6.0f} statements/s (x{rate / single:.2f} of one; "
            f"{figures.delivered} in {figures.seconds:.1f}s); workers "
            f"{figures.worker_cpu / figures.delivered * 1000:.2f} ms CPU per statement, "
            f"Ralph {figures.ralph_cpu / figures.delivered * 1000:.2f} ms "
            f"(ratio {figures.worker_cpu / figures.ralph_cpu:.2f})"
        )


if __name__ == "__main__":
    main()
