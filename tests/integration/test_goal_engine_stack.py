"""The goal engine against real services: Ralph as an external LRS goal source, and the
outbox cursor on PostgreSQL with transactions committing out of id order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from lti_tool.demo.ralph import RalphServer
from lti_tool.services import Services
from lti_tool.store import goal_ledger, outbox
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.goals import GoalSourceCursor
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import OutboxRow
from tests.conftest import embedded_settings
from tests.fixtures.ralph import ralph_auth
from tests.fixtures.stack import isolated_database
from tests.integration.test_ralph_lrs import post_statements
from tests.unit.workers.goal_world import CATALOG, EXTERNAL_TYPE, EXTERNAL_VERB, GoalWorld
from workers.goal_engine import EnginePolicy, GoalEngine
from xapi.lrs import LRSClient

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with isolated_database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        built = Services.build(embedded_settings(tmp_path, database_url=url))
        try:
            yield built
        finally:
            built.close()


@pytest.fixture
def world(services: Services) -> GoalWorld:
    found = GoalWorld(services)
    # Ralph keeps every statement of the session: a fresh issuer keeps this test's learner
    # apart from anything an earlier test stored there.
    found.add_platform(issuer=f"https://lms-{uuid.uuid4().hex[:8]}.example")
    found.add_learner("ana")
    found.add_learner("ben")
    return found


def now_stamp(offset_minutes: int = 0) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=offset_minutes)


def test_ralph_as_a_goal_source_counts_pages_voids_and_survives_an_outage(
    ralph: RalphServer, world: GoalWorld
) -> None:
    params = {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}
    started = now_stamp(-60)
    goal_id = world.add_goal(
        "ana", "external_statements", params, 10, starts_at=started, due_at=now_stamp(600)
    )
    ana = [world.external(world.account("ana"), at=now_stamp(-5 + i)) for i in range(5)]
    ben = world.external(world.account("ben"), at=now_stamp(-1))
    assert post_statements(ralph, [*ana, ben]).status_code == 200

    engine = GoalEngine(CATALOG, policy=EnginePolicy(page_size=2))
    client = LRSClient(
        ralph.config.endpoint,
        username=ralph_auth(ralph)[0],
        password=ralph_auth(ralph)[1],
        timeout=(3.05, 15.0),
    )
    pages = 0
    while True:
        with transaction(world.services.sessions) as session:
            report = engine.process_lrs_page(session, "ralph", client)
        pages += 1
        assert report.error is None
        if not report.busy:
            break
    assert world.goal(goal_id).progress == 5.0
    assert pages >= 3  # two statements a page: "more" was followed

    # An outage: the cursor stays, nothing is lost, the error is kept for the operator.
    down = LRSClient("http://127.0.0.1:9/xAPI", username="x", password="y", timeout=(0.5, 0.5))
    with transaction(world.services.sessions) as session:
        before = session.get(GoalSourceCursor, "lrs:ralph")
        assert before is not None
        position = before.position
    with transaction(world.services.sessions) as session:
        report = engine.process_lrs_page(session, "ralph", down)
    assert report.error
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "lrs:ralph")
        assert cursor is not None and cursor.position == position and cursor.last_error

    # Voiding one in Ralph uncounts it; a new one counts; the re-read overlap counts nothing twice.
    voiding = {
        "id": str(uuid.uuid4()),
        "actor": world.account("ana"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": ana[0]["id"]},
        "timestamp": now_stamp().isoformat(),
    }
    assert post_statements(ralph, [voiding]).status_code == 200
    assert post_statements(ralph, [world.external(world.account("ana"), at=now_stamp())]).ok
    while True:
        with transaction(world.services.sessions) as session:
            report = engine.process_lrs_page(session, "ralph", client)
        assert report.error is None
        if not report.busy:
            break
    assert world.goal(goal_id).progress == 5.0  # 5 - 1 voided + 1 new
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "lrs:ralph")
        assert cursor is not None and cursor.last_error is None and cursor.malformed == 0
    client.close()


def test_a_row_committed_after_a_higher_id_is_still_counted_on_postgresql(
    world: GoalWorld,
) -> None:
    if world.services.engine.dialect.name != "postgresql":
        pytest.fail("CXA_TEST_DATABASE_URL must name PostgreSQL for this test", pytrace=False)
    params = {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}
    goal_id = world.add_goal(
        "ana", "external_statements", params, 10, starts_at=now_stamp(-60), due_at=now_stamp(600)
    )
    engine = GoalEngine(CATALOG)
    key = world.key("ana")

    def row(statement: dict) -> OutboxRow:
        return OutboxRow(
            destination="default",
            statement_id=statement["id"],
            statement=statement,
            platform_id=key.platform_id,
            sub=key.sub,
        )

    slow = world.services.sessions()
    slow.begin()
    late = row(world.external(world.account("ana"), at=now_stamp()))
    slow.add(late)
    slow.flush()  # takes its id now, commits later
    with transaction(world.services.sessions) as fast:
        early = row(world.external(world.account("ana"), at=now_stamp()))
        fast.add(early)
        fast.flush()
        assert early.id > late.id

    with transaction(world.services.sessions) as session:
        engine.process_outbox(session)
    assert world.goal(goal_id).progress == 1.0

    slow.commit()
    slow.close()
    with transaction(world.services.sessions) as session:
        engine.process_outbox(session)
    assert world.goal(goal_id).progress == 2.0
    with world.services.sessions() as session:
        assert session.scalar(text("select gaps from goal_source_cursor")) is None


def test_summaries_rows_without_them_and_early_voids_on_postgresql(world: GoalWorld) -> None:
    if world.services.engine.dialect.name != "postgresql":
        pytest.fail("CXA_TEST_DATABASE_URL must name PostgreSQL for this test", pytrace=False)
    params = {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}
    goal_id = world.add_goal(
        "ana", "external_statements", params, 10, starts_at=now_stamp(-60), due_at=now_stamp(600)
    )
    key = world.key("ana")
    queued = world.external(world.account("ana"), at=now_stamp())
    with transaction(world.services.sessions) as session:
        outbox.add_statement(session, queued, owner=(key.platform_id, key.sub))  # a summary
    older = world.external(world.account("ana"), at=now_stamp())
    world.add_raw(older, sub="ana", destination="default")  # no summary (before 0021)
    world.add_raw(older, sub="ana", destination="warehouse")
    world.add_raw(world.external(world.account("ben"), at=now_stamp()), sub="ben")
    late = world.external(world.account("ana"), at=now_stamp())
    world.void("ana", late["id"])
    world.add_raw(late, sub="ana")  # read after the statement that voids it

    with world.services.sessions() as session:
        rows = goal_ledger.read_outbox(session, after=0)
        summary = session.scalar(select(OutboxRow.summary).where(OutboxRow.id == rows[0].id))
    assert [row.statement for row in rows[:4]] == [summary, older, None, None]
    assert summary is not None and "display" not in summary["verb"]

    engine = GoalEngine(CATALOG, policy=EnginePolicy(batch_size=2))
    while True:
        with transaction(world.services.sessions) as session:
            if not engine.process_outbox(session).busy:
                break
    assert world.goal(goal_id).progress == 2.0
