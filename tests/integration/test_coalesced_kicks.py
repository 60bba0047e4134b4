"""Coalesced kicks strand nothing: with the sweep out of reach, every statement committed by
the web path from many threads reaches a real Ralph through a real Celery worker, once."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.app import create_app
from lti_tool.demo.ralph import RalphServer
from lti_tool.recording import record_event
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import OutboxRow, OutboxStatus
from lti_tool.web import kicks
from lti_tool.web.db import commit, db
from tests.integration.delivery_support import delivery_stack
from tests.integration.test_delivery import assert_exactly_once
from tests.unit.xapi.catalogue import STATEMENT_KINDS
from xapi.events import Learner

pytestmark = pytest.mark.integration


def test_bursts_of_commits_share_kicks_yet_every_statement_arrives(
    tmp_path: Path, ralph: RalphServer
) -> None:
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph) as stack:
        # An hour between sweeps: only the kicks can deliver within this test.
        stack.start_worker(CXA_OUTBOX_SWEEP_SECONDS="3600")
        app = create_app(services=stack.services)
        sent: list[str] = []
        stack.services.celery.send_task = _counting(stack.services.celery.send_task, sent)

        def learner_requests(count: int) -> None:
            for _ in range(count):
                event = replace(
                    STATEMENT_KINDS["launched"],
                    source_id=f"it:{uuid.uuid4()}",
                    learner=stack.learner,
                    timestamp=datetime.now(UTC),
                )
                with app.app_context():
                    record_event(db(), event, owner=LearnerKey(1, event.learner.sub))
                    commit()  # the web side's commit, with its coalesced kick

        threads = [threading.Thread(target=learner_requests, args=(15,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with stack.services.sessions() as session:
            stack.recorded = list(session.scalars(select(OutboxRow.statement_id)))
        stack.wait_settled(timeout=60)

        assert stack.counts() == {OutboxStatus.SENT: 60}
        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)
        assert 1 <= len(sent) < 60  # coalesced: fewer messages than commits


def test_a_commit_just_after_a_delivered_kick_still_arrives(
    tmp_path: Path, ralph: RalphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worst case for coalescing: the kick for the first statement has been consumed and
    # its task has finished when the second commit comes, inside the same interval. Only the
    # trailing kick can deliver it (the sweep is an hour away).
    monkeypatch.setattr(kicks, "KICK_INTERVAL_SECONDS", 8.0)
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph) as stack:
        stack.start_worker(CXA_OUTBOX_SWEEP_SECONDS="3600")
        app = create_app(services=stack.services)
        started = time.monotonic()
        _commit_one(app, stack.learner)
        stack.wait_settled(timeout=60)
        if time.monotonic() - started > 6.0:
            pytest.fail("the first delivery took too long for this scenario; machine overloaded?")
        _commit_one(app, stack.learner)
        with stack.services.sessions() as session:
            stack.recorded = list(session.scalars(select(OutboxRow.statement_id)))
        stack.wait_settled(timeout=60)

        assert stack.counts() == {OutboxStatus.SENT: 2}
        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)


def _commit_one(app: Flask, learner: Learner) -> None:
    event = replace(
        STATEMENT_KINDS["launched"],
        source_id=f"it:{uuid.uuid4()}",
        learner=learner,
        timestamp=datetime.now(UTC),
    )
    with app.app_context():
        record_event(db(), event, owner=LearnerKey(1, event.learner.sub))
        commit()


def _counting(send_task, sent):  # type: ignore[no-untyped-def]
    def send(name, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(name)
        return send_task(name, **kwargs)

    return send
