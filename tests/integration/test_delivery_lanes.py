"""Lanes: three real Celery workers share one outbox on PostgreSQL and deliver to a real Ralph
at the same time, and still every statement arrives once and each learner's in order."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import select

from lti_tool.demo.ralph import RalphServer, free_port
from lti_tool.recording import record_event
from lti_tool.store.db import transaction
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import DestinationState, OutboxRow, OutboxStatus
from tests.fixtures.ralph import ralph_statements
from tests.fixtures.servers import serve
from tests.fixtures.stack import Worker
from tests.integration.delivery_support import DeliveryStack, delivery_stack
from tests.integration.test_delivery import assert_exactly_once
from tests.unit.xapi.catalogue import STATEMENT_KINDS
from xapi.events import Learner

pytestmark = pytest.mark.integration

LEARNERS = 24
ROUNDS = 15


@dataclass
class WatchingProxy:
    """Forwards to Ralph, holding each POST's answer a little so batches overlap, and notes
    every statement id POSTed (in order) and the most POSTs ever in flight at once."""

    target: str
    delay: float = 0.15
    posted: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        query = environ.get("QUERY_STRING", "")
        if method == "POST":
            with self.lock:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            answer = requests.request(
                method,
                self.target + environ["PATH_INFO"] + (f"?{query}" if query else ""),
                data=body,
                headers={
                    name: environ[key]
                    for key, name in (
                        ("HTTP_AUTHORIZATION", "Authorization"),
                        ("CONTENT_TYPE", "Content-Type"),
                        ("HTTP_X_EXPERIENCE_API_VERSION", "X-Experience-API-Version"),
                    )
                    if key in environ
                },
                timeout=30,
            )
            if method == "POST":
                if answer.ok:
                    with self.lock:
                        self.posted.extend(answer.json())
                time.sleep(self.delay)
        finally:
            if method == "POST":
                with self.lock:
                    self.in_flight -= 1
        start_response(
            f"{answer.status_code} {answer.reason}",
            [("Content-Type", answer.headers.get("Content-Type", "application/json"))],
        )
        return [answer.content]


def _record_round(
    stack: DeliveryStack, learners: list[Learner], order: dict[str, list[str]]
) -> None:
    template = STATEMENT_KINDS["launched"]
    for learner in learners:
        event = replace(
            template,
            source_id=f"lanes:{uuid.uuid4()}",
            learner=learner,
            timestamp=datetime.now(UTC),
        )
        with transaction(stack.services.sessions) as session:
            record_event(session, event, owner=LearnerKey(1, learner.sub))
            statement_id = session.scalars(
                select(OutboxRow.statement_id).order_by(OutboxRow.id.desc())
            ).first()
        assert statement_id is not None
        order[learner.sub].append(statement_id)
        stack.recorded.append(statement_id)


def test_three_workers_deliver_lanes_at_once_without_duplicates_losses_or_reordering(
    tmp_path: Any, ralph: RalphServer
) -> None:
    proxy = WatchingProxy(ralph.config.base_url)
    with serve(proxy, port=free_port()) as proxy_url:
        endpoint = proxy_url + ralph.config.endpoint.removeprefix(ralph.config.base_url)
        with delivery_stack(tmp_path, endpoint, ralph) as stack:
            if not stack.settings.database_url.startswith("postgresql"):
                pytest.fail("lanes need PostgreSQL: set CXA_TEST_DATABASE_URL", pytrace=False)
            issuer = f"https://lms-{uuid.uuid4().hex[:8]}.example"
            learners = [Learner(issuer=issuer, sub=f"learner-{n}") for n in range(LEARNERS)]
            order: dict[str, list[str]] = defaultdict(list)
            # A backlog first, interleaved across learners as a busy class records it.
            for _ in range(ROUNDS - 5):
                _record_round(stack, learners, order)
            env = {
                **stack.worker_env,
                "CXA_OUTBOX_LANES": "6",
                "CXA_LRS_BATCH_SIZE": "10",
                # Only kicks and the tasks they spread to deliver: no sweep within the test.
                "CXA_OUTBOX_SWEEP_SECONDS": "3600",
            }
            for n in range(3):
                stack.workers.append(
                    Worker(env, tmp_path, f"lane-worker{n}", beat=False, concurrency=1)
                )
            stack.kick()
            # More learning while the backlog drains, each commit kicked as the web does.
            for _ in range(5):
                _record_round(stack, learners, order)
                stack.kick()
            stack.wait_settled(timeout=120)

            assert stack.counts() == {OutboxStatus.SENT: LEARNERS * ROUNDS}
            with stack.services.sessions() as session:
                assert session.scalar(select(DestinationState.lanes)) == 6
            stored = [
                s for s in ralph_statements(ralph) if s["actor"]["account"]["homePage"] == issuer
            ]

    # Zero duplicates and zero losses, in Ralph and in what we sent.
    assert_exactly_once([s["id"] for s in stored], stack.recorded)
    sends = Counter(proxy.posted)
    assert [i for i, n in sends.items() if n > 1] == [], "a statement was POSTed twice"
    assert set(sends) == set(stack.recorded)
    # The workers really did deliver side by side: lanes, not one stream taking turns.
    assert proxy.most_in_flight >= 2, proxy.most_in_flight
    # Each learner's statements went out, and were stored, in the order they were recorded.
    position = {statement_id: n for n, statement_id in enumerate(proxy.posted)}
    stored_at = {s["id"]: s["stored"] for s in stored}
    for sub, ids in order.items():
        assert sorted(ids, key=position.__getitem__) == ids, f"{sub}'s statements overtook"
        times = [datetime.fromisoformat(stored_at[i]) for i in ids]
        assert times == sorted(times), f"{sub}'s statements were stored out of order"
