"""The goal engine's throughput, and whether it depends on history (prints numbers).

Seeds a fresh database with 10 000 learners holding one active goal each (a mix of every
automatic metric), 10 000 learners without goals, a launch apiece, an outbox history the
cursor has already passed (bulk-inserted on the server) and a ledger that grows with it
(up to 5 counted statements a goal). Then queues ``--statements`` new statements, a
realistic mix (answers, lessons, quizzes, role-plays, practice, launches), through
``outbox.add_statements`` as the app queues them (``--old-rows``: without the summaries
rows queued before migration 0021 lack), and times the
real engine code (``GoalEngine.process_outbox``, one transaction a batch, as the task runs
it) until it has caught up, progressed and achieved statements included.

It does this twice, behind a 10 000 and behind a 1 000 000 statement history, and the last
line reads ``goal engine: N statements/s, cost ratio R (1M vs 10k history), 10000 active
goals``, where N is the rate behind the big history and R the time per statement behind
1M over the time behind 10k (1.0: history costs nothing). The line before it gives the
rate per CPU second of this process plus the PostgreSQL backends that served it (utime +
stime from /proc), which holds still when other work shares the machine.

``--lag N`` instead measures the embedded demo's path (SQLite, filesystem broker, a real
Celery worker): N times, a quiz result committed by the web side's ``commit`` (which kicks
the engine) and the time until the learner's goal shows the new progress.

Run: ``.venv/bin/python -m benchmarks.goals [--database-url URL] [--history N]`` (the local
PostgreSQL by default, in throwaway schemas; ``--database-url sqlite`` for a SQLite file).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text, update

from benchmarks.delivery import drop_schemas, fresh_database, wait_for_destinations
from benchmarks.launch import cpu_seconds, start
from content import load_catalog
from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.goals import Goal, GoalCountedStatement, GoalSourceCursor, GoalStatus
from lti_tool.store.models import Launch, OutboxRow, OutboxStatus, Platform
from tests.conftest import embedded_settings
from workers.goal_engine import EnginePolicy, GoalEngine
from xapi import vocabulary

GOALS = 10_000
LEARNERS = 20_000
ISSUER = "https://lms.bench.test"
BASE = "http://localhost/xapi/"
NOW = datetime.now(UTC)
METRICS: list[tuple[str, dict[str, Any]]] = [
    ("lessons_experienced", {"skill": "self-directed-learning"}),
    ("quizzes_passed", {"min_score": 0.7}),
    ("roleplays_finished", {"skill": "empathy", "min_percent": 60}),
    ("practice_logged", {"kind": "kb-article"}),
    ("skill_rated", {"skill": "empathy", "min_rating": 4}),
    ("courses_completed", {}),
    ("external_statements", {"verb": "https://w3id.org/xapi/video/verbs/watched",
                             "activity_type": "https://w3id.org/xapi/video/activity-type/video"}),
]  # fmt: skip


def seed(services: Services, history: int, rng: random.Random) -> None:
    engine = services.engine
    with transaction(services.sessions) as session:
        platform = Platform(
            name="Bench LMS",
            issuer=ISSUER,
            client_id="bench",
            auth_login_url=ISSUER + "/auth",
            auth_token_url=ISSUER + "/token",
            key_set_url=ISSUER + "/jwks",
            actor_format="account",
        )
        session.add(platform)
        session.flush()
        platform_id = platform.id
    launches = [
        {
            "id": uuid.uuid4(),
            "platform_id": platform_id,
            "deployment_id": "d1",
            "sub": f"learner-{n}",
            "roles": [],
            "context_id": "course-1",
            "resource_link_id": "link-1",
            "message_type": "LtiResourceLinkRequest",
            "claims": {},
            "created_at": NOW - timedelta(days=1),
        }
        for n in range(LEARNERS)
    ]
    goals = [
        {
            "public_id": uuid.uuid4(),
            "platform_id": platform_id,
            "sub": f"learner-{n}",
            "title": "Bench goal",
            "specific": "",
            "relevance": "",
            "metric_key": METRICS[n % len(METRICS)][0],
            "metric_params": METRICS[n % len(METRICS)][1],
            # High enough that few goals finish during the run: progress is the common case.
            "target": 50.0,
            "unit": "",
            "progress": 0.0,
            "status": GoalStatus.ACTIVE,
            "visibility": "progress",
            "check_in_days": 7,
            "starts_at": NOW - timedelta(days=30),
            "due_at": NOW + timedelta(days=30),
            "created_at": NOW - timedelta(days=30),
            "updated_at": NOW - timedelta(days=30),
        }
        for n in range(GOALS)
    ]
    with engine.begin() as connection:
        for start in range(0, LEARNERS, 5000):
            connection.execute(insert(Launch), launches[start : start + 5000])
        for start in range(0, GOALS, 5000):
            connection.execute(insert(Goal), goals[start : start + 5000])
        # The history, built on the server: one small statement per row (the engine never
        # reads rows behind its cursor, so their size does not matter here).
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "INSERT INTO outbox (destination, statement_id, statement, status, attempts,"
                    " next_attempt_at, created_at, platform_id, sub)"
                    " SELECT 'default', md5(g::text)::uuid::text,"
                    " json_build_object('id', md5(g::text)::uuid::text),"
                    " 'sent', 1, now(), now(), :platform, 'learner-' || (g % :learners)"
                    " FROM generate_series(1, :history) AS g"
                ),
                {"platform": platform_id, "learners": LEARNERS, "history": history},
            )
        else:
            rows = [
                {
                    "destination": "default",
                    "statement_id": str(uuid.UUID(int=n)),
                    "statement": {"id": str(uuid.UUID(int=n))},
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": NOW,
                    "created_at": NOW,
                    "platform_id": platform_id,
                    "sub": f"learner-{n % LEARNERS}",
                }
                for n in range(1, history + 1)
            ]
            for start in range(0, len(rows), 5000):
                connection.execute(insert(OutboxRow), rows[start : start + 5000])
        high = connection.execute(text("SELECT max(id) FROM outbox")).scalar_one()
        goal_ids = [row[0] for row in connection.execute(text("SELECT id FROM goal"))]
        ledger_size = min(history // 20, GOALS * 5)
        ledger = [
            {
                "goal_id": goal_ids[n % len(goal_ids)],
                "statement_id": str(uuid.uuid4()),
                "counted_key": None,
                "amount": 1.0,
                "counted_at": NOW - timedelta(days=1),
            }
            for n in range(ledger_size)
        ]
        for start in range(0, len(ledger), 5000):
            connection.execute(insert(GoalCountedStatement), ledger[start : start + 5000])
        counts = connection.execute(
            text("SELECT goal_id, count(*) FROM goal_counted_statement GROUP BY goal_id")
        ).all()
        for goal_id, count in counts:
            connection.execute(
                text("UPDATE goal SET progress = :p WHERE id = :id"), {"p": count, "id": goal_id}
            )
        connection.execute(
            insert(GoalSourceCursor),
            [{"source": "outbox", "position": str(high), "processed": history, "malformed": 0,
              "updated_at": NOW}],
        )  # fmt: skip
        if engine.dialect.name == "postgresql":
            # As autovacuum would for a live database: plans need statistics.
            connection.execute(text("ANALYZE"))
    del rng


def new_statements(
    count: int, platform_id: int, rng: random.Random
) -> list[tuple[dict[str, Any], tuple[int, str]]]:
    """``count`` statements of a realistic mix, each with its learner (platform id, sub)."""
    catalog = load_catalog()
    lessons = [lesson.id for lesson in catalog.list_lessons()]
    found = []
    for n in range(count):
        sub = f"learner-{rng.randrange(LEARNERS)}"
        kind = rng.choices(
            ["answered", "lesson", "quiz", "scenario", "practice", "launched", "survey"],
            weights=[40, 20, 10, 8, 7, 10, 5],
        )[0]
        found.append((_statement(kind, sub, n, lessons, rng), (platform_id, sub)))
    return found


def _statement(
    kind: str, sub: str, n: int, lessons: list[str], rng: random.Random
) -> dict[str, Any]:
    verb, obj, result = vocabulary.ANSWERED.iri, {}, {}
    extensions: dict[str, Any] = {vocabulary.SESSION_ID: str(uuid.uuid4())}
    if kind == "answered":
        obj = {
            "id": BASE + f"activities/question/q-{n % 90}",
            "definition": {"type": vocabulary.INTERACTION, "name": {"en-US": "A question"}},
        }
        result = {"success": True, "response": "a", "score": {"scaled": 1.0}}
    elif kind == "lesson":
        verb = vocabulary.EXPERIENCED.iri
        obj = {
            "id": BASE + f"activities/lesson/{rng.choice(lessons)}",
            "definition": {"type": vocabulary.LESSON, "name": {"en-US": "A lesson"}},
        }
    elif kind == "quiz":
        verb = vocabulary.PASSED.iri
        obj = {
            "id": BASE + f"activities/quiz/quiz-{n % 8}",
            "definition": {"type": vocabulary.ASSESSMENT, "name": {"en-US": "A quiz"}},
        }
        result = {"score": {"scaled": rng.choice([0.6, 0.8, 1.0])}, "success": True}
    elif kind == "scenario":
        verb = vocabulary.COMPLETED.iri
        obj = {
            "id": BASE + "activities/scenario/double-charge",
            "definition": {"type": vocabulary.SIMULATION, "name": {"en-US": "A role-play"}},
        }
        result = {
            "extensions": {
                BASE + "extensions/skill-scores": {"empathy": {"raw": rng.randrange(7), "max": 6}}
            }
        }
    elif kind == "practice":
        verb = BASE + "verbs/logged"
        obj = {
            "id": BASE + "practice/kb-article",
            "definition": {"type": BASE + "activity-types/practice"},
        }
        extensions[BASE + "extensions/practice-date"] = NOW.date().isoformat()
    elif kind == "survey":
        verb = vocabulary.COMPLETED.iri
        obj = {
            "id": BASE + "activities/self-assessment/skills-self-assessment",
            "definition": {"type": vocabulary.SURVEY},
        }
        result = {"extensions": {BASE + "extensions/skill-ratings": {"empathy": 4.5}}}
    else:
        verb = vocabulary.LAUNCHED.iri
        obj = {"id": BASE + "activities/placement/1", "definition": {"type": vocabulary.LINK}}
    statement = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": ISSUER, "name": sub}},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", **obj},
        "context": {"platform": "CX Academy", "extensions": extensions},
        "timestamp": NOW.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    if result:
        statement["result"] = result
    return statement


@dataclass
class Run:
    """One timed catch-up: wall time, CPU of this process and of the PostgreSQL backends
    that served it (both from /proc, so other work on a shared machine does not count)."""

    elapsed: float
    engine_cpu: float
    database_cpu: float
    totals: dict[str, int]

    @property
    def cpu_rate(self) -> float:
        return self.totals["processed"] / max(self.engine_cpu + self.database_cpu, 1e-9)


def measure(
    url: str | None, history: int, count: int, batch: int, *, old_rows: bool = False
) -> Run:
    rng = random.Random(20261130)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database_url = fresh_database(folder, url, f"goals{history}")
        services = Services.build(embedded_settings(folder, database_url=database_url))
        backends: set[int] = set()
        if url is not None:
            # Every server process this run's pool opens (the engine's share of PostgreSQL).
            event.listen(
                services.engine, "connect", lambda dbapi, _: backends.add(dbapi.info.backend_pid)
            )
        try:
            started = time.perf_counter()
            seed(services, history, rng)
            print(f"  seeded {history:,} history rows in {time.perf_counter() - started:.0f} s")
            with transaction(services.sessions) as session:
                platform_id = session.execute(text("SELECT id FROM platform")).scalar_one()
                # Queued as the app queues them (summaries included), untimed.
                outbox.add_statements(session, new_statements(count, platform_id, rng))
                if old_rows:
                    session.execute(
                        update(OutboxRow)
                        .where(OutboxRow.status == OutboxStatus.PENDING)
                        .values(summary=None)
                    )
            if url is not None:
                # Statistics for the new rows, as autovacuum would gather them.
                with services.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.execute(text("VACUUM ANALYZE outbox"))
            engine = GoalEngine(load_catalog(), policy=EnginePolicy(batch_size=batch))
            totals = {"processed": 0, "counted": 0, "progressed": 0, "achieved": 0}
            own_before = cpu_seconds([os.getpid()])
            database_before = {pid: cpu_seconds([pid]) for pid in backends}
            started = time.perf_counter()
            while True:
                with transaction(services.sessions) as session:
                    report = engine.process_outbox(session)
                for name in totals:
                    totals[name] += getattr(report, name)
                if not report.busy:
                    break
            elapsed = time.perf_counter() - started
            own = cpu_seconds([os.getpid()]) - own_before
            # A connection opened during the run counts whole (it started at zero).
            database = sum(cpu_seconds([pid]) - database_before.get(pid, 0.0) for pid in backends)
        finally:
            services.close()
    return Run(elapsed, own, database, totals)


def quiz_lag(samples: int) -> list[float]:
    """Seconds from a committed quiz result to the goal's new progress, embedded demo."""
    import statistics
    import sys

    from content.scoring import QuizScore
    from lti_tool.app import create_app
    from lti_tool.config import Settings
    from lti_tool.recording import quiz_result_event, record_event
    from lti_tool.web.db import commit, db
    from tests.unit.workers.goal_world import GoalWorld

    catalog = load_catalog()
    courses = [c for c in catalog.list_courses() if c.quiz is not None]
    lags: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(
            database_url=fresh_database(folder, None, "goallag"),
            broker_url="filesystem://",
            broker_dir=folder / "broker",
            var_dir=folder / "var",
            log_level="WARNING",
            task_queue=f"bench-{uuid.uuid4().hex[:6]}",
        )
        (folder / "logs").mkdir()
        worker = start(
            "goal-lag-worker",
            [str(Path(sys.executable).parent / "celery"), "-A", "workers.app", "worker",
             "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            settings.as_env(),
            folder / "logs",
        )  # fmt: skip
        services = Services.build(settings)
        try:
            app = create_app(services=services)
            wait_for_destinations(services, worker.process)
            world = GoalWorld(services)
            world.add_platform()
            launch = world.add_learner("lag")
            for n in range(samples + 1):  # the first one warms the worker up, uncounted
                goal_id = world.add_goal(
                    "lag", "quizzes_passed", {"min_score": 0.5}, 10,
                    starts_at=datetime.now(UTC) - timedelta(seconds=1),
                )  # fmt: skip
                course = courses[n % len(courses)]
                assert course.quiz is not None
                score = QuizScore(9.0, 0.0, 10.0, 0.9, True, ())
                event = quiz_result_event(
                    launch, course, course.quiz, score, uuid.uuid4(), timedelta(minutes=3),
                    datetime.now(UTC),
                )  # fmt: skip
                started = time.perf_counter()
                with app.app_context():
                    record_event(db(), event, owner=world.key("lag"))
                    commit()  # the web side's commit: kicks delivery and the goal engine
                deadline = started + 60
                while world.goal(goal_id).progress < 1 and time.perf_counter() < deadline:
                    time.sleep(0.01)
                if n:
                    lags.append(time.perf_counter() - started)
        finally:
            services.close()
            worker.stop()
    print(
        f"quiz to goal progress, embedded demo: median {statistics.median(lags) * 1000:.0f} ms, "
        f"max {max(lags) * 1000:.0f} ms (n={len(lags)})"
    )
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="PostgreSQL URL (throwaway schemas), or 'sqlite'.",
    )
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--history", type=int, default=1_000_000, help="The big history.")
    parser.add_argument(
        "--batch",
        type=int,
        default=EnginePolicy().batch_size,
        help="Outbox rows per batch (default: the engine's).",
    )
    parser.add_argument("--lag", type=int, default=0, help="Measure the demo's lag N times.")
    parser.add_argument(
        "--old-rows",
        action="store_true",
        help="Queue the new statements without summaries, as rows from before migration 0021.",
    )
    args = parser.parse_args()
    if args.lag:
        quiz_lag(args.lag)
        return
    url = None if args.database_url == "sqlite" else args.database_url
    results: dict[int, float] = {}
    cpu: dict[int, float] = {}
    try:
        # Untimed warm-up: the first run in a process also pays for compiling every SQL
        # statement, which would make whichever history goes first look slower.
        measure(url, 1_000, 2_000, args.batch)
        for history in (10_000, args.history):
            print(f"history {history:,}: {args.statements:,} new statements")
            run = measure(url, history, args.statements, args.batch, old_rows=args.old_rows)
            totals = run.totals
            rate = totals["processed"] / run.elapsed
            results[history] = run.elapsed / max(totals["processed"], 1)
            cpu[history] = run.cpu_rate
            print(
                f"  {rate:,.0f} statements/s ({run.elapsed:.2f} s); {run.cpu_rate:,.0f} per CPU s"
                f" (engine {run.engine_cpu:.2f} s + PostgreSQL {run.database_cpu:.2f} s);"
                f" counted {totals['counted']:,}, progressed {totals['progressed']:,},"
                f" achieved {totals['achieved']:,}"
            )
    finally:
        drop_schemas()
    big = results[args.history]
    ratio = big / results[10_000]
    label = "1M" if args.history == 1_000_000 else f"{args.history:,}"
    # CPU time holds still when the machine is shared; the wall rate below does not.
    print(
        f"goal engine CPU: {cpu[args.history]:,.0f} statements per CPU second behind {label}"
        f" (engine process + its PostgreSQL backends), {cpu[10_000]:,.0f} behind 10k"
    )
    print(
        f"goal engine: {1 / big:,.0f} statements/s, cost ratio {ratio:.2f} "
        f"({label} vs 10k history), {GOALS} active goals"
    )


if __name__ == "__main__":
    main()
