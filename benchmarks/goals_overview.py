"""The L&D goals overview on a big organisation (prints numbers; never part of the tests).

``--goals`` goals (50 000 by default) over 2 000 learners, 40 LMS courses and every skill,
in every status, with practice-log entries and two self-assessments per learner, seeded
straight into a fresh database; then the overview page and its CSV are rendered through
the app (test client, no network). Printed: median wall and CPU time per page and the
peak memory the page allocated (tracemalloc, one extra render).

Run: ``.venv/bin/python -m benchmarks.goals_overview [--database-url URL]`` (SQLite in a
temporary folder by default; a PostgreSQL URL runs in a throwaway schema).
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from benchmarks.delivery import drop_schemas, fresh_database
from content import load_catalog
from lti_tool.app import create_app
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.goals import Goal, GoalStatus, GoalVisibility, PracticeEntry
from lti_tool.store.launches import add_launch
from lti_tool.store.learning import SelfAssessmentRecord
from lti_tool.store.models import utcnow
from lti_tool.store.platforms import PlatformSpec, add_platform
from lti_tool.store.sessions import add_session, session_id_of
from tests.conftest import embedded_settings

INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
LEARNERS = 2000
COURSES = 40


def _seed(session: object, platform_id: int, launch_id: uuid.UUID, goals: int) -> None:
    rng = random.Random(7)
    skills = [s.id for s in load_catalog().list_skills()] + [None]
    statuses = list(GoalStatus)
    visibilities = list(GoalVisibility)
    now = utcnow()
    rows = []
    for n in range(goals):
        status = rng.choice(statuses)
        starts = now - timedelta(days=rng.randint(30, 300))
        ended = (
            starts + timedelta(hours=rng.randint(1, 2000))
            if status in (GoalStatus.ACHIEVED, GoalStatus.MISSED, GoalStatus.ABANDONED)
            else None
        )
        rows.append(
            {
                "public_id": uuid.uuid4(),
                "platform_id": platform_id,
                "sub": f"learner-{n % LEARNERS}",
                "skill": rng.choice(skills),
                "title": "Benchmark goal",
                "metric_key": "self_reported",
                "metric_params": {},
                "target": 5.0,
                "status": status,
                "visibility": rng.choice(visibilities),
                "starts_at": starts,
                "due_at": starts + timedelta(days=60),
                "context_id": f"course-{n % COURSES}" if n % 10 else None,
                "created_at": starts,
                "updated_at": starts,
                "ended_at": ended,
            }
        )
    execute = session.execute  # type: ignore[attr-defined]
    execute(insert(Goal), rows)
    kinds = ["mentoring-given", "kb-article", "call-review", "shadowing"]
    execute(
        insert(PracticeEntry),
        [
            {
                "public_id": uuid.uuid4(),
                "platform_id": platform_id,
                "sub": f"learner-{n % LEARNERS}",
                "kind": rng.choice(kinds),
                "happened_on": now.date(),
                "created_at": now,
            }
            for n in range(goals // 5)
        ],
    )
    execute(
        insert(SelfAssessmentRecord),
        [
            {
                "platform_id": platform_id,
                "sub": f"learner-{n % LEARNERS}",
                "launch_id": launch_id,
                "assessment_id": "bench",
                "content_version": "1.0.0",
                "ratings": {},
                "modules": [],
                "averages": {s: rng.randint(1, 5) * 1.0 for s in skills if s},
                "created_at": now - timedelta(days=n // LEARNERS),
            }
            for n in range(2 * LEARNERS)
        ],
    )


def run(args: argparse.Namespace, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database_url = fresh_database(folder, url, "overview")
        services = Services.build(embedded_settings(folder, database_url=database_url))
        started = time.perf_counter()
        with transaction(services.sessions) as session:
            platform = add_platform(
                session,
                PlatformSpec(
                    name="Bench LMS",
                    issuer="https://lms.bench.test",
                    client_id="bench",
                    auth_login_url="https://lms.bench.test/auth",
                    auth_token_url="https://lms.bench.test/token",  # noqa: S106 - a URL
                    key_set_url="https://lms.bench.test/jwks",
                    deployment_ids=("deployment-1",),
                ),
            )
            launch = add_launch(
                session,
                platform,
                deployment_id="deployment-1",
                sub="bench-lnd",
                message_type="LtiResourceLinkRequest",
                roles=[INSTITUTION_ADMIN],
                claims={},
                name="Bench L&D",
            )
            session.flush()  # the seeded rows refer to the launch by id
            _seed(session, platform.id, launch.id, args.goals)
            token = secrets.token_urlsafe(32)
            add_session(
                session, launch, session_id_of(token), now=utcnow(), lifetime=timedelta(hours=8)
            )
        with services.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        kind = "PostgreSQL" if url else "SQLite (embedded default)"
        print(
            f"database: {kind}; {args.goals} goals seeded in {time.perf_counter() - started:.1f}s"
        )
        client = create_app(services=services).test_client()
        for name, path in (
            ("overview page", f"/s/{token}/insights/goals"),
            ("overview CSV", f"/s/{token}/insights/goals.csv"),
        ):
            assert client.get(path).status_code == 200
            walls, cpus = [], []
            for _ in range(args.repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                cpus.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
                assert response.status_code == 200
            tracemalloc.start()
            client.get(path)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(
                f"{name:14s} median {statistics.median(walls) * 1000:7.1f} ms wall, "
                f"{statistics.median(cpus) * 1000:7.1f} ms CPU (this process), "
                f"peak {peak / 2**20:5.1f} MiB allocated (n={args.repeat})"
            )
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="A PostgreSQL URL to run in a throwaway schema (default: SQLite)."
    )
    parser.add_argument("--goals", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    try:
        run(args, args.database_url)
    finally:
        drop_schemas()


if __name__ == "__main__":
    main()
