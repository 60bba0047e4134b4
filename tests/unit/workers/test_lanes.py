"""Lanes on the embedded database: a learner's rows share one lane under any lane count, a
batch takes whole lanes oldest first, and delivery across lanes keeps each learner's order.
(Workers in parallel need PostgreSQL: tests/integration/test_delivery_lanes.py.)"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.config import ConfigError, Settings
from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import DestinationState, OutboxRow
from tests.unit.workers.conftest import FakeLRS, statement
from workers.delivery import DeliveryPolicy, deliver_outbox
from xapi.lrs import LRSClient


def record(services: Services, learners: int, each: int, *, lanes: int) -> dict[str, list[str]]:
    """``each`` statements per learner, interleaved across learners; ids per learner in order."""
    order: dict[str, list[str]] = defaultdict(list)
    with transaction(services.sessions) as session:
        outbox.sync_destinations(session, ["default"], lanes=lanes)
        for n in range(each):
            for learner in range(learners):
                body = statement(n, learner=f"learner-{learner}")
                outbox.add_statement(session, body, owner=(1, f"learner-{learner}"))
                order[f"learner-{learner}"].append(body["id"])
    return order


def lane_of(services: Services, statement_id: str, lanes: int) -> int:
    with services.sessions() as session:
        key = session.scalar(
            select(OutboxRow.lane_key).where(OutboxRow.statement_id == statement_id)
        )
    assert key is not None
    return key % lanes


# --- the lane key ----------------------------------------------------------------------------


def test_a_learner_keeps_one_key_whatever_the_statement() -> None:
    assert outbox.lane_key((1, "sam"), statement(1, learner="sam")) == outbox.lane_key(
        (1, "sam"), statement(2, learner="someone-else")
    )
    assert outbox.lane_key((1, "sam"), statement(1)) != outbox.lane_key((2, "sam"), statement(1))
    assert 0 <= outbox.lane_key((1, "sam"), statement(1)) < 2**31


def test_a_statement_about_nobody_follows_its_actor() -> None:
    assert outbox.lane_key(None, statement(1, learner="ana")) == outbox.lane_key(
        None, statement(7, learner="ana")
    )
    assert outbox.lane_key(None, statement(1, learner="ana")) != outbox.lane_key(
        None, statement(1, learner="bo")
    )


def test_learners_spread_over_every_lane(services: Services) -> None:
    order = record(services, learners=64, each=1, lanes=8)
    assert {lane_of(services, ids[0], 8) for ids in order.values()} == set(range(8))


# --- claiming --------------------------------------------------------------------------------


def test_under_a_backlog_a_batch_is_the_oldest_lane_alone_and_leaves_room_for_another_worker(
    services: Services,
) -> None:
    order = record(services, learners=6, each=10, lanes=4)
    first = order["learner-0"][0]
    with transaction(services.sessions) as session:
        claim = outbox.claim_lanes(session, "default", 4, 5)
        lanes = {row.lane_key % 4 for row in claim.rows}
        ids = [row.id for row in claim.rows]
        statement_ids = [row.statement_id for row in claim.rows]
    assert lanes == {lane_of(services, first, 4)}
    assert statement_ids[0] == first
    assert ids == sorted(ids) and len(ids) == 5
    assert claim.spare and not claim.busy


def test_under_a_trickle_one_batch_gathers_every_lane(services: Services) -> None:
    order = record(services, learners=5, each=1, lanes=8)
    with transaction(services.sessions) as session:
        claim = outbox.claim_lanes(session, "default", 8, 50)
        got = [row.statement_id for row in claim.rows]
    assert got == [ids[0] for ids in order.values()]  # recording order across lanes
    assert not claim.spare


# --- delivery --------------------------------------------------------------------------------


def test_delivery_across_lanes_keeps_each_learners_order_and_asks_for_help_once(
    services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    order = record(services, learners=7, each=9, lanes=4)
    helpers: list[int] = []

    report = deliver_outbox(
        services.sessions,
        client,
        policy=DeliveryPolicy(batch_size=6),
        on_spare_lanes=lambda: helpers.append(1),
    )

    assert report.sent == 63
    assert helpers == [1]
    sent = [statement_id for post in fake.posts for statement_id in post]
    assert sorted(sent) == sorted(fake.stored) and len(sent) == 63
    for learner, ids in order.items():
        assert [i for i in sent if i in set(ids)] == ids, learner
    # Gathering lanes never overfills a batch.
    assert all(len(post) <= 6 for post in fake.posts)


def test_a_failed_lane_pauses_the_whole_destination(
    services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    record(services, learners=4, each=5, lanes=4)
    fake.fail_next((503, {}))

    report = deliver_outbox(services.sessions, client, policy=DeliveryPolicy(batch_size=5))

    assert report.sent == 0 and report.retry_in is not None
    assert len(fake.posts) == 1  # the other lanes wait for the breaker too


# --- the lane count --------------------------------------------------------------------------


def test_the_workers_set_the_lane_count_and_a_learner_stays_in_one_lane(services: Services) -> None:
    order = record(services, learners=10, each=3, lanes=3)
    with services.sessions() as session:
        assert session.scalar(select(DestinationState.lanes)) == 3
    with transaction(services.sessions) as session:
        outbox.sync_destinations(session, ["default"], lanes=5)
    with services.sessions() as session:
        assert session.scalar(select(DestinationState.lanes)) == 5
    for ids in order.values():
        assert len({lane_of(services, i, 5) for i in ids}) == 1


def test_a_lane_count_below_one_is_refused(services: Services, settings: Settings) -> None:
    with transaction(services.sessions) as session, pytest.raises(ValueError, match="one lane"):
        outbox.sync_destinations(session, ["default"], lanes=0)
    with pytest.raises(ConfigError, match="CXA_OUTBOX_LANES"):
        Settings.from_env({**settings.as_env(), "CXA_OUTBOX_LANES": "0"})


def test_rerouted_rows_keep_their_learners_lane(services: Services) -> None:
    order = record(services, learners=3, each=2, lanes=4)
    with transaction(services.sessions) as session:
        outbox.sync_destinations(session, ["north"], lanes=4)
    with services.sessions() as session:
        keys = dict(
            session.execute(
                select(OutboxRow.statement_id, OutboxRow.lane_key).where(
                    OutboxRow.destination == "north"
                )
            ).all()
        )
    for ids in order.values():
        assert len({keys[i] for i in ids}) == 1


def test_migration_0020_keys_the_pending_backlog_like_new_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lanes.db'}")
    try:
        upgrade(engine, "0014")
        table = sa.table(
            "outbox",
            *(sa.column(name) for name in ("destination", "statement_id", "status", "attempts")),
            sa.column("statement", sa.JSON()),
            sa.column("platform_id"),
            sa.column("sub"),
            sa.column("next_attempt_at"),
            sa.column("created_at"),
        )
        rows: list[dict[str, Any]] = [
            {"owner": (1, "sam"), "body": statement(1, learner="sam"), "status": "pending"},
            {"owner": None, "body": statement(2, learner="ana"), "status": "pending"},
            {"owner": (1, "bo"), "body": statement(3, learner="bo"), "status": "sent"},
        ]
        with engine.begin() as connection:
            for row in rows:
                platform_id, sub = row["owner"] or (None, None)
                connection.execute(
                    table.insert().values(
                        destination="default",
                        statement_id=row["body"]["id"],
                        statement=row["body"],
                        status=row["status"],
                        attempts=0,
                        platform_id=platform_id,
                        sub=sub,
                        next_attempt_at="2026-01-01 00:00:00",
                        created_at="2026-01-01 00:00:00",
                    )
                )
        upgrade(engine)
        with engine.connect() as connection:
            keys = dict(
                connection.execute(sa.text("SELECT statement_id, lane_key FROM outbox")).all()
            )
            lanes = connection.execute(sa.text("SELECT lanes FROM lrs_destination")).scalars().all()
        assert keys[rows[0]["body"]["id"]] == outbox.lane_key((1, "sam"), rows[0]["body"])
        assert keys[rows[1]["body"]["id"]] == outbox.lane_key(None, rows[1]["body"])
        assert keys[rows[2]["body"]["id"]] == 0  # never claimed again
        assert set(lanes) <= {1}
    finally:
        engine.dispose()


def test_rows_dead_since_before_migration_0020_are_replayed_into_their_learners_lanes(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'replay.db'}")
    try:
        upgrade(engine, "0019")
        table = sa.table(
            "outbox",
            *(sa.column(name) for name in ("destination", "statement_id", "status", "attempts")),
            sa.column("statement", sa.JSON()),
            sa.column("platform_id"),
            sa.column("sub"),
            sa.column("next_attempt_at"),
            sa.column("created_at"),
        )
        learners = [f"learner-{n}" for n in range(16)]
        bodies = {learner: statement(1, learner=learner) for learner in learners}
        with engine.begin() as connection:
            for learner, body in bodies.items():
                connection.execute(
                    table.insert().values(
                        destination="default",
                        statement_id=body["id"],
                        statement=body,
                        status="dead",
                        attempts=20,
                        platform_id=1,
                        sub=learner,
                        next_attempt_at="2026-01-01 00:00:00",
                        created_at="2026-01-01 00:00:00",
                    )
                )
        upgrade(engine)  # leaves them keyed 0: they were not pending

        with Session(engine) as session, session.begin():
            assert outbox.replay_dead(session) == 16
        with engine.connect() as connection:
            keys = dict(
                connection.execute(sa.text("SELECT statement_id, lane_key FROM outbox")).all()
            )
        for learner, body in bodies.items():
            assert keys[body["id"]] == outbox.lane_key((1, learner), body), learner
        assert len({key % 8 for key in keys.values()}) > 1  # spread, not all in lane 0
    finally:
        engine.dispose()


def test_a_row_rerouted_away_before_migration_0020_comes_back_with_its_learners_key(
    services: Services,
) -> None:
    body = statement(1, learner="ana")
    with transaction(services.sessions) as session:
        outbox.sync_destinations(session, ["north"], lanes=8)
        outbox.add_statement(session, body, owner=(1, "ana"))
    with transaction(services.sessions) as session:
        outbox.sync_destinations(session, ["south"], lanes=8)  # north's row goes south
        # As migration 0020 left a row that was no longer pending.
        session.execute(
            sa.update(OutboxRow).where(OutboxRow.destination == "north").values(lane_key=0)
        )
    with transaction(services.sessions) as session:
        outbox.sync_destinations(session, ["north"], lanes=8)  # and comes back

    with services.sessions() as session:
        status, key = session.execute(
            select(OutboxRow.status, OutboxRow.lane_key).where(OutboxRow.destination == "north")
        ).one()
    assert status == "pending"
    assert key == outbox.lane_key((1, "ana"), body)
