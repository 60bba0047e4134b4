"""Every configured LRS receives what is recorded from the first second (issue 13, part 2).

The web process starts, a learner launches at once (before any worker has run a task),
and only then does a worker start: both LRSs of CXA_LRS_DESTINATIONS (two real Ralphs)
must end up holding the launch statement.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.app import create_app
from lti_tool.config import LRSDestination
from lti_tool.demo.ralph import RalphConfig, RalphError, RalphServer, free_port
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import OutboxRow
from lti_tool.store.platforms import add_platform
from tests.conftest import embedded_settings
from tests.fixtures.platform import TestPlatform
from tests.fixtures.stack import Worker, isolated_database, redis_url_or_embedded
from xapi import vocabulary
from xapi.lrs import LRSClient

pytestmark = pytest.mark.integration


@pytest.fixture
def second_ralph(tmp_path: Path) -> Iterator[RalphServer]:
    """A second, independent Ralph: its own port, data and credentials."""
    server = RalphServer(
        RalphConfig(
            port=free_port(),
            data_dir=tmp_path / "ralph-2",
            username=f"cxa-second-{secrets.token_hex(4)}",
            password=secrets.token_urlsafe(24),
        )
    )
    try:
        server.start()
    except RalphError as err:
        pytest.fail(f"the second Ralph did not start: {err}", pytrace=False)
    yield server
    server.stop()


def destination(name: str, server: RalphServer) -> LRSDestination:
    return LRSDestination(
        name=name,
        endpoint=server.config.endpoint,
        username=server.config.username,
        password=server.config.password,
    )


def holds(server: RalphServer, statement_id: str) -> bool:
    with LRSClient(
        server.config.endpoint, username=server.config.username, password=server.config.password
    ) as client:
        return client.get_statement(statement_id) is not None


def test_a_launch_right_after_start_reaches_every_configured_lrs(
    tmp_path: Path, ralph: RalphServer, second_ralph: RalphServer, platform: TestPlatform
) -> None:
    redis_url = redis_url_or_embedded()
    with isolated_database(tmp_path) as database_url:
        engine = make_engine(database_url)
        upgrade(engine)  # a fresh install: only the seeded "default" destination exists
        engine.dispose()
        settings = embedded_settings(
            tmp_path,
            database_url=database_url,
            broker_url=redis_url or "filesystem://localhost/",
            # Only the extra LRSs; no CXA_LRS_ENDPOINT, so "default" is not configured.
            lrs_destinations=(destination("north", ralph), destination("south", second_ralph)),
        )
        services = Services.build(settings)
        worker = None
        try:
            with transaction(services.sessions) as session:
                add_platform(session, platform.spec())
            client = create_app(services=services).test_client()

            assert platform.launch(client, sub=f"first-{secrets.token_hex(4)}").status_code == 303

            with services.sessions() as session:
                launched = [
                    row
                    for row in session.scalars(select(OutboxRow))
                    if row.statement["verb"]["id"] == vocabulary.LAUNCHED.iri
                ]
            # Queued for both configured LRSs in the learner's own transaction, before any
            # worker registered anything.
            assert {"north", "south"} <= {row.destination for row in launched}
            statement_id = launched[0].statement_id

            worker = Worker(
                {**settings.as_env(), "CXA_OUTBOX_SWEEP_SECONDS": "1"},
                tmp_path,
                "fanout-worker",
            )
            deadline = time.monotonic() + 90
            while not (holds(ralph, statement_id) and holds(second_ralph, statement_id)):
                if time.monotonic() > deadline:
                    pytest.fail(f"the launch statement did not reach both LRSs\n{worker.log()}")
                time.sleep(0.5)
        finally:
            if worker is not None:
                worker.stop()
            services.close()
