"""What a launch costs the database: the platform registration is read once per request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from lti_tool.services import Services
from tests.fixtures.platform import TestPlatform


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(services.engine, "before_cursor_execute", count)


def _reading(table: str, seen: list[str]) -> list[str]:
    pattern = re.compile(rf"\bfrom {table}\b", re.IGNORECASE)
    return [s for s in seen if s.lstrip().upper().startswith("SELECT") and pattern.search(s)]


def test_the_id_token_post_reads_the_platform_once(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce))
    with statements(services) as seen:
        response = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})
    assert response.status_code == 303, response.get_data(as_text=True)
    # Registration, deployment check and the launch row share one query (with deployments).
    # Registration, deployment check and the launch row share one query (a join).
    assert len(_reading("platform", seen)) == 1, _reading("platform", seen)
    assert _reading("deployment", seen) == []


def test_a_login_reads_the_platform_once_without_its_deployments(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    registered.login(client)  # the first request also reads the frame-ancestors list
    with statements(services) as seen:
        registered.login(client)
    # The login checks no deployment: one plain platform read, no join.
    assert len(_reading("platform", seen)) == 1, _reading("platform", seen)
    assert not [s for s in seen if re.search(r"\bdeployment\b", s, re.IGNORECASE)], seen


def test_an_unregistered_deployment_is_still_refused(
    client: FlaskClient, registered: TestPlatform
) -> None:
    # The deployments come with the cached row; the check itself must not have gone.
    redirect = registered.login(client)
    claims = registered.claims(redirect.nonce)
    claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = "someone-else"
    response = client.post(
        "/lti/launch", data={"id_token": registered.sign(claims), "state": redirect.state}
    )
    # Refused as a deployment waiting for the operator's approval (decision 0012).
    assert response.status_code == 403
    assert "has not been approved" in response.get_data(as_text=True)


class _CountingStore:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self.calls.append(("put", key))
        self.inner.put(key, value, ttl_seconds)

    def put_many(self, values: dict[str, str], ttl_seconds: int) -> None:
        self.calls.extend(("put_many", key) for key in values)
        self.inner.put_many(values, ttl_seconds)

    def get(self, key: str) -> str | None:
        self.calls.append(("get", key))
        return self.inner.get(key)  # type: ignore[no-any-return]

    def take(self, key: str) -> str | None:
        self.calls.append(("take", key))
        return self.inner.take(key)  # type: ignore[no-any-return]


def test_the_id_token_post_reads_its_state_once_and_still_spends_it(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce))
    counting = _CountingStore(services.state)
    services.state = counting
    response = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})
    assert response.status_code == 303, response.get_data(as_text=True)
    state_key = "oidc-state:" + redirect.state
    assert counting.calls.count(("get", state_key)) == 1
    assert ("take", state_key) in counting.calls
    # Single use still holds: the same POST again is refused.
    again = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})
    assert again.status_code == 400


def test_a_login_writes_its_state_and_nonces_in_one_go(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    counting = _CountingStore(services.state)
    services.state = counting
    redirect = registered.login(client)
    writes = [call for call in counting.calls if call[0].startswith("put")]
    # Our state and nonce, and pylti1p3's own nonce record: one put_many, no single puts.
    assert {kind for kind, _ in writes} == {"put_many"}
    assert {key for _, key in writes} >= {
        "oidc-state:" + redirect.state,
        "oidc-nonce:" + redirect.nonce,
    }
    assert len(writes) == 3
    token = registered.sign(registered.claims(redirect.nonce))
    response = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})
    assert response.status_code == 303, response.get_data(as_text=True)
