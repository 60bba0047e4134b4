"""Reliability of statement delivery against a real Ralph and a real Celery worker: the LRS
going away, the worker dying mid-batch, the broker missing, a malformed statement. Each test
ends by comparing what the LRS holds with what learners did: every id, exactly once."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lti_tool.demo.ralph import RalphServer, free_port
from lti_tool.store.db import transaction
from lti_tool.store.models import DestinationState, OutboxRow, OutboxStatus
from tests.integration.delivery_support import delivery_stack, slow_lrs

pytestmark = pytest.mark.integration


def assert_exactly_once(stored: list[str], recorded: list[str]) -> None:
    duplicates = [i for i, n in Counter(stored).items() if n > 1]
    assert duplicates == [], f"{len(duplicates)} statements stored more than once"
    missing = set(recorded) - set(stored)
    assert not missing, f"{len(missing)} of {len(recorded)} statements never arrived"
    assert len(stored) == len(recorded)


def test_lrs_down_while_learners_work_then_back_every_statement_arrives_once(
    tmp_path: Path, ralph: RalphServer
) -> None:
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph) as stack:
        stack.start_worker()
        stack.record(20)
        stack.wait_settled()

        ralph.stop()
        try:
            stack.record(30)
            with stack.services.sessions() as session:
                stack.wait_until(
                    lambda: (
                        (session.expire_all() or True)
                        and (session.get(DestinationState, "default").consecutive_failures > 0)
                    ),
                    "the worker to notice the LRS is down",
                )
            assert stack.counts()[OutboxStatus.PENDING] > 0
        finally:
            ralph.start()
        stack.record(10)
        stack.wait_settled()

        assert stack.counts() == {OutboxStatus.SENT: 60}
        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)


def test_worker_killed_mid_batch_no_loss_no_duplicate(tmp_path: Path, ralph: RalphServer) -> None:
    with (
        slow_lrs(ralph, delay=5.0) as (proxy, endpoint),
        delivery_stack(tmp_path, endpoint, ralph) as stack,
    ):
        stack.record(40, kick=False)
        worker = stack.start_worker(CXA_LRS_BATCH_SIZE="25")
        stack.kick()
        # Ralph has stored the first batch; the worker is still waiting for the answer.
        assert proxy.forwarded.wait(60), worker.log()
        worker.kill()
        assert stack.counts() == {OutboxStatus.PENDING: 40}
        stored_before_restart = stack.lrs_ids(ralph)
        assert len(stored_before_restart) == 25

        proxy.delay = 0.0
        stack.start_worker(CXA_LRS_BATCH_SIZE="25")
        stack.wait_settled()

        assert stack.counts() == {OutboxStatus.SENT: 40}
        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)


def test_broker_unreachable_while_recording_nothing_is_lost(
    tmp_path: Path, ralph: RalphServer
) -> None:
    # The producer's kicks go to a broker nobody listens on (a dead Redis port; with the
    # embedded broker, a folder no worker reads): the sweep must find the rows anyway.
    embedded = os.environ.get("CXA_TEST_REDIS_URL") == "embedded"
    dead_broker = None if embedded else f"redis://127.0.0.1:{free_port()}/0"
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph, broker_url=dead_broker) as stack:
        stack.record(10)
        assert stack.counts() == {OutboxStatus.PENDING: 10}

        stack.start_worker()
        stack.wait_settled()

        assert stack.counts() == {OutboxStatus.SENT: 10}
        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)


def test_one_malformed_statement_in_a_batch_of_100(tmp_path: Path, ralph: RalphServer) -> None:
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph) as stack:
        stack.record(100, kick=False)
        bad_id = stack.recorded[49]
        with transaction(stack.services.sessions) as session:
            row = session.scalars(select(OutboxRow).where(OutboxRow.statement_id == bad_id)).one()
            # Ralph is lax about most of xAPI, but not about a statement without an actor.
            broken = {k: v for k, v in row.statement.items() if k != "actor"}
            session.execute(
                update(OutboxRow).where(OutboxRow.id == row.id).values(statement=broken)
            )

        stack.start_worker(CXA_LRS_BATCH_SIZE="100")
        stack.kick()
        stack.wait_settled()

        assert stack.counts() == {OutboxStatus.SENT: 99, OutboxStatus.DEAD: 1}
        with stack.services.sessions() as session:
            dead = session.scalars(
                select(OutboxRow).where(OutboxRow.status == OutboxStatus.DEAD)
            ).one()
        assert dead.statement_id == bad_id
        assert "rejected" in dead.last_error and "actor" in dead.last_error
        good = [i for i in stack.recorded if i != bad_id]
        assert_exactly_once(stack.lrs_ids(ralph), good)
