"""Delivery fixtures: a scripted LRS behind `responses`, and the outbox on real SQLite.

The fake LRS behaves like Ralph where it matters (200 with ids, 409 for a known id, 400
for a malformed statement, a statementId GET answered with a StatementResult) and can be
told to fail the next POSTs or to be unreachable.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import responses
from sqlalchemy import select, update

from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.models import DestinationState, OutboxRow
from xapi.lrs import LRSClient

_EVENTS = uuid.UUID("0b6f5f38-8a1e-4d7b-a0c4-2f1f6d0e7a11")


def statement(n: int, *, learner: str = "sam", malformed: bool = False) -> dict[str, Any]:
    """The n-th learning event's statement; malformed ones lack the actor (xAPI 2.4.2)."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(_EVENTS, f"{learner}:{n}")),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example", "name": learner},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"https://cx.example/activities/{n}"},
        "timestamp": "2026-01-01T00:00:00Z",
    }
    if malformed:
        del body["actor"]
    return body


@dataclass
class FakeLRS:
    """One LRS endpoint: stores what it is sent and can be scripted to fail."""

    endpoint: str
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: list[list[str]] = field(default_factory=list)
    # Answers given to the next POSTs instead of storing: (status, headers) or an exception.
    failures: list[tuple[int, dict[str, str]] | BaseException] = field(default_factory=list)
    down: Exception | None = None

    @property
    def statements_url(self) -> str:
        return self.endpoint + "statements"

    def fail_next(self, *answers: tuple[int, dict[str, str]] | BaseException) -> None:
        self.failures.extend(answers)

    def stored_ids(self) -> list[str]:
        return list(self.stored)

    def handle(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        batch = json.loads(request.body or b"[]")
        self.posts.append([s["id"] for s in batch])
        if self.down is not None:
            raise self.down
        if self.failures:
            answer = self.failures.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            status, headers = answer
            return status, headers, json.dumps({"detail": f"scripted {status}"})
        bad = [s["id"] for s in batch if "actor" not in s]
        if bad:
            return 400, {}, json.dumps({"detail": f"statement {bad[0]}: actor is required"})
        if any(s["id"] in self.stored for s in batch):
            return 409, {}, json.dumps({"detail": "statement id already exists"})
        for s in batch:
            self.stored[s["id"]] = s
        return 200, {}, json.dumps([s["id"] for s in batch])

    def handle_get(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url or "").query)
        found = self.stored.get(query["statementId"][0])
        # Ralph 5.1 wraps a statementId answer in a StatementResult and adds "stored".
        listed = [{**found, "stored": "2026-01-01T00:00:01+00:00"}] if found else []
        return 200, {}, json.dumps({"statements": listed})


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def lrs_factory(http: responses.RequestsMock) -> Iterator[Any]:
    clients: list[LRSClient] = []

    def make(name: str) -> tuple[FakeLRS, LRSClient]:
        fake = FakeLRS(f"https://{name}.lrs.example/xAPI/")
        http.add_callback("POST", fake.statements_url, callback=fake.handle)
        http.add_callback("GET", fake.statements_url, callback=fake.handle_get)
        client = LRSClient(fake.endpoint, username="tool", password="secret")
        clients.append(client)
        return fake, client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def lrs(lrs_factory: Any) -> tuple[FakeLRS, LRSClient]:
    return lrs_factory("default")  # type: ignore[no-any-return]


class Outbox:
    """The story-level view of the outbox the tests act on."""

    def __init__(self, services: Services) -> None:
        self.sessions = services.sessions

    def use_destinations(self, *names: str) -> None:
        with transaction(self.sessions) as session:
            outbox.sync_destinations(session, names)

    def record(self, *statements: dict[str, Any]) -> None:
        with transaction(self.sessions) as session:
            for body in statements:
                outbox.add_statement(session, body)

    def rows(self, destination: str = outbox.DEFAULT_DESTINATION) -> list[OutboxRow]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.destination == destination)
                    .order_by(OutboxRow.id)
                )
            )

    def by_status(self, destination: str = outbox.DEFAULT_DESTINATION) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows(destination):
            counts[row.status.value] = counts.get(row.status.value, 0) + 1
        return counts

    def state(self, destination: str = outbox.DEFAULT_DESTINATION) -> DestinationState:
        with self.sessions() as session:
            found = session.get(DestinationState, destination)
            assert found is not None
            return found

    def let_time_pass(self, destination: str = outbox.DEFAULT_DESTINATION) -> None:
        """As if the breaker's wait were over (the clock itself is not ours to move)."""
        with transaction(self.sessions) as session:
            session.execute(
                update(DestinationState)
                .where(DestinationState.name == destination)
                .values(open_until=None)
            )


@pytest.fixture
def queue(services: Services) -> Outbox:
    return Outbox(services)
