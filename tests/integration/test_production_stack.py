"""A launch through the production-like stack: PostgreSQL, Redis (broker and launch
state), a real Celery worker and a real LRS, driven like a browser from the demo LMS."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lti_tool.app import create_app
from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms, register_with_tool
from lti_tool.demo.ralph import RalphServer, free_port
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import LaunchState, OutboxRow, OutboxStatus
from tests.conftest import embedded_settings
from tests.fixtures.browser import launch_from_demo_lms
from tests.fixtures.ralph import ralph_statements
from tests.fixtures.servers import serve
from tests.fixtures.stack import celery_worker, isolated_database, redis_url_or_embedded

pytestmark = pytest.mark.integration


def test_launch_statement_travels_through_the_production_stack(
    tmp_path: Path, ralph: RalphServer
) -> None:
    tool_port, lms_port = free_port(), free_port()
    redis_url = redis_url_or_embedded()
    with isolated_database(tmp_path) as database_url:
        settings = embedded_settings(
            tmp_path,
            base_url=f"http://127.0.0.1:{tool_port}",
            database_url=database_url,
            broker_url=redis_url or "filesystem://localhost/",
            state_store_url=redis_url or "",
            lrs_endpoint=ralph.config.endpoint,
            lrs_username=ralph.config.username,
            lrs_password=ralph.config.password,
        )
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        lms = DemoLMSConfig(f"http://127.0.0.1:{lms_port}", settings.base_url, tmp_path / "lms")
        services = Services.build(settings)
        try:
            with transaction(services.sessions) as session:
                register_with_tool(session, lms)
            worker_env = settings.as_env()
            with (
                celery_worker(worker_env, tmp_path),
                serve(create_app(services=services), port=tool_port),
                serve(create_demo_lms(lms), port=lms_port) as lms_url,
            ):
                landing = launch_from_demo_lms(lms_url, persona="sam")
                assert landing.status == 200, landing.text[:800]
                assert "Sam Lindqvist" in landing.text

                deadline = time.monotonic() + 60
                launched: list[dict] = []
                while time.monotonic() < deadline and not launched:
                    launched = [
                        s
                        for s in ralph_statements(ralph)
                        if s["actor"].get("account") == {"homePage": lms_url, "name": "sam"}
                    ]
                    time.sleep(0.3)
            assert len(launched) == 1, "the launched statement did not reach the LRS once"
            assert launched[0]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"
            with services.sessions() as session:
                row = session.scalars(select(OutboxRow)).one()
                assert row.status is OutboxStatus.SENT
                assert row.statement_id == launched[0]["id"]
                state_rows = session.scalar(select(func.count()).select_from(LaunchState))
            # With Redis configured, OIDC state and nonces never touch the database.
            assert state_rows == (0 if redis_url else state_rows)
        finally:
            services.close()
