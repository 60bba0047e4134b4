"""The instructor's class view on a big course (prints numbers; never part of the tests).

500 learners with 30 submitted quiz attempts each (15 000 attempts), a role-play run and a
grade row apiece, seeded straight into a fresh database; then the class page, its CSV and
the quiz's item analysis are rendered through the app (test client, no network) and the
median and p95 render times printed with the number of SQL statements per page. The
target is a median under 300 ms for the class page.

Run: ``.venv/bin/python -m benchmarks.instructor [--database-url URL]`` (SQLite in a
temporary folder by default; a PostgreSQL URL runs in a throwaway schema).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, text

from benchmarks.delivery import drop_schemas, fresh_database
from content import load_catalog
from lti_tool.app import create_app
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.launches import add_launch
from lti_tool.store.models import utcnow
from lti_tool.store.platforms import PlatformSpec, add_platform
from lti_tool.store.sessions import add_session, session_id_of
from tests.conftest import embedded_settings
from tests.fixtures.classroom import seed_class

CONTEXT = "bench-course"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def run(args: argparse.Namespace, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database_url = fresh_database(folder, url, "instructor")
        settings = embedded_settings(folder, database_url=database_url)
        services = Services.build(settings)
        catalog = load_catalog()
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
            seed_class(
                session,
                catalog,
                platform_id=platform.id,
                context_id=CONTEXT,
                learners=args.learners,
                attempts_each=args.attempts,
            )
            launch = add_launch(
                session,
                platform,
                deployment_id="deployment-1",
                sub="bench-teacher",
                message_type="LtiResourceLinkRequest",
                roles=[INSTRUCTOR],
                claims={},
                name="Bench Teacher",
                context_id=CONTEXT,
                context_title="Bench course",
            )
            token = secrets.token_urlsafe(32)
            add_session(
                session,
                launch,
                session_id_of(token),
                now=utcnow(),
                lifetime=timedelta(hours=8),
            )
        # A live database has its planner statistics kept up by autovacuum; fresh bulk
        # inserts have none, and PostgreSQL would then plan a 500 x 15 000 nested loop.
        with services.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        kind = "PostgreSQL" if url else "SQLite (embedded default)"
        print(
            f"database: {kind}; {args.learners} learners x {args.attempts} attempts seeded "
            f"in {time.perf_counter() - started:.1f}s"
        )
        app = create_app(services=services)
        client = app.test_client()
        quiz = catalog.require_quiz("service-foundations-quiz")
        pages = {
            "class page": f"/s/{token}/instructor/class",
            "class CSV": f"/s/{token}/instructor/class.csv",
            "item analysis": f"/s/{token}/instructor/class/quizzes/{quiz.id}",
        }
        for name, path in pages.items():
            statements: list[str] = []

            def count(*params: object, into: list[str] = statements) -> None:
                into.append(str(params[2]))

            event.listen(services.engine, "before_cursor_execute", count)
            response = client.get(path)
            event.remove(services.engine, "before_cursor_execute", count)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            timings = []
            for _ in range(args.repeat):
                begin = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - begin)
                assert response.status_code == 200
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            print(
                f"{name:14s} median {statistics.median(timings) * 1000:7.1f} ms, "
                f"p95 {p95 * 1000:7.1f} ms, {len(statements)} SQL statements (n={args.repeat})"
            )
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="A PostgreSQL URL to run in a throwaway schema (default: SQLite)."
    )
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--attempts", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    try:
        run(args, args.database_url)
    finally:
        drop_schemas()


if __name__ == "__main__":
    main()
