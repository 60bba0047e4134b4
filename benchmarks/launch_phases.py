"""Where a launch's CPU goes, in-process (prints numbers; never part of the tests).

Full launches through the Flask test client against the tests' signing platform
(tests/fixtures/platform.py), on PostgreSQL (a throwaway schema) and Redis as the state
store: login initiation, the id_token form_post, the landing page it redirects to. Each
request's CPU is this thread's (time.thread_time), so the harness's own signing and the
platform's key-set server stay out; medians per phase over the measured launches, after a
few unmeasured ones that pay first-use costs (compiled statements, templates, the key set).

Run: ``.venv/bin/python -m benchmarks.launch_phases [--launches 300]``; the database and
Redis come from CXA_BENCH_DATABASE_URL and CXA_BENCH_REDIS_URL (defaults below).
Compare before/after only within interleaved runs on the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from flask.testing import FlaskClient

from benchmarks.delivery import drop_schemas, fresh_database
from lti_tool.app import create_app
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.platforms import add_platform
from tests.conftest import embedded_settings
from tests.fixtures.platform import TestPlatform, served_platform

DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/11"
PHASES = ("login", "id_token POST", "landing")


def one_launch(client: FlaskClient, platform: TestPlatform, sub: str) -> tuple[float, ...]:
    started = time.thread_time()
    redirect = platform.login(client)
    logged_in = time.thread_time()
    token = platform.sign(platform.claims(redirect.nonce, sub=sub))
    signed = time.thread_time()
    posted = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})
    launched = time.thread_time()
    assert posted.status_code == 303, posted.get_data(as_text=True)[:500]
    landing = client.get(posted.headers["Location"])
    landed = time.thread_time()
    assert landing.status_code == 200, landing.get_data(as_text=True)[:500]
    return logged_in - started, launched - signed, landed - launched


def run(launches: int, warmup: int, database_url: str, redis_url: str) -> list[list[float]]:
    with tempfile.TemporaryDirectory() as tmp, served_platform() as platform:
        settings = embedded_settings(
            Path(tmp),
            database_url=fresh_database(Path(tmp), database_url, "phases"),
            state_store_url=redis_url,
            log_level="WARNING",
            # Every launch comes from one client: the limits still run, but never refuse.
            rate_limit_per_client="1000000/minute",
            rate_limit_per_platform="1000000/minute",
        )
        services = Services.build(settings)
        try:
            with transaction(services.sessions) as session:
                add_platform(session, platform.spec())
            app = create_app(services=services)
            samples: list[list[float]] = [[] for _ in PHASES]
            for n in range(warmup + launches):
                # A fresh browser each time, as the state cookie of one login would otherwise
                # pile up; a few learners, so progress reads find rows of earlier launches.
                times = one_launch(app.test_client(), platform, f"learner-{n % 7}")
                if n >= warmup:
                    for phase, seconds in zip(samples, times, strict=True):
                        phase.append(seconds)
            return samples
        finally:
            services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    database_url = os.environ.get("CXA_BENCH_DATABASE_URL", DATABASE_URL)
    redis_url = os.environ.get("CXA_BENCH_REDIS_URL", REDIS_URL)
    try:
        samples = run(args.launches, args.warmup, database_url, redis_url)
    finally:
        drop_schemas()
    medians = [statistics.median(phase) * 1000 for phase in samples]
    figures = ", ".join(f"{name} {ms:.2f}" for name, ms in zip(PHASES, medians, strict=True))
    print(f"launch phases ({args.launches} launches, CPU ms medians): {figures}, "
          f"sum {sum(medians):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
