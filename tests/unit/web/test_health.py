"""/healthz stays public and minimal; /healthz/delivery answers operators only (a direct
loopback request or the operator token), never a stranger or a forwarded request."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, update

from lti_tool.app import create_app
from lti_tool.config import LRSDestination, Settings
from lti_tool.errors import ConfigError
from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import make_session_factory, transaction
from lti_tool.store.models import DestinationState, OutboxRow
from lti_tool.web import health
from tests.conftest import embedded_settings

TOKEN = "operator-token-" + "x" * 32
STRANGER = {"REMOTE_ADDR": "203.0.113.7"}
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(
        tmp_path,
        operator_token=TOKEN,
        lrs_destinations=(LRSDestination(name="lake", endpoint="https://lake.example/xAPI/"),),
    )


def queue_statement(services: Services, waited: timedelta) -> None:
    with transaction(services.sessions) as session:
        outbox.add_statement(session, {"id": str(uuid.uuid4()), "verb": {"id": "x"}}, "lake")
        now = outbox.database_now(session)
        session.execute(update(OutboxRow).values(created_at=now - waited))


# --- the public check -------------------------------------------------------------------------


def test_healthz_answers_anyone_with_no_delivery_details(client: FlaskClient) -> None:
    response = client.get("/healthz", environ_base=STRANGER)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "lake" not in response.get_data(as_text=True)


def test_healthz_is_503_when_the_database_is_gone(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    gone = create_engine(f"sqlite:///{tmp_path / 'a-file' / 'cxa.db'}")  # cannot be opened
    monkeypatch.setattr(health, "db", make_session_factory(gone))
    response = client.get("/healthz")
    gone.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


# --- who may read the details -----------------------------------------------------------------


def test_details_answer_a_direct_loopback_request(client: FlaskClient, services: Services) -> None:
    queue_statement(services, waited=timedelta(minutes=2))

    response = client.get("/healthz/delivery", environ_base=LOOPBACK)

    assert response.status_code == 200
    details = response.get_json()
    assert details["outbox"]["pending"] == 1
    assert 120 <= details["outbox"]["lag_seconds"] < 180
    lake = details["outbox"]["destinations"]["lake"]
    assert (lake["configured"], lake["enabled"], lake["pending"]) == (True, True, 1)


@pytest.mark.parametrize("address", ["::1", "::ffff:127.0.0.1"])
def test_details_answer_ipv6_loopback(client: FlaskClient, address: str) -> None:
    assert client.get("/healthz/delivery", environ_base={"REMOTE_ADDR": address}).status_code == 200


def test_details_refuse_a_stranger_and_ask_for_the_token(client: FlaskClient) -> None:
    response = client.get("/healthz/delivery", environ_base=STRANGER)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "lake" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "127.0.0.1"},
        {"X-Forwarded-For": "203.0.113.7, 127.0.0.1"},
        {"Forwarded": "for=127.0.0.1"},
        {"X-Real-IP": "127.0.0.1"},
    ],
    ids=["xff-loopback", "xff-chain", "forwarded", "x-real-ip"],
)
def test_a_request_through_a_local_proxy_is_not_loopback_whatever_it_claims(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # nginx on the same host connects from 127.0.0.1 on behalf of anyone on the internet.
    response = client.get("/healthz/delivery", headers=headers, environ_base=LOOPBACK)
    assert response.status_code == 401


def test_details_answer_the_operator_token_from_anywhere(client: FlaskClient) -> None:
    response = client.get(
        "/healthz/delivery",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "198.51.100.4"},
        environ_base=STRANGER,
    )
    assert response.status_code == 200
    assert "lake" in response.get_json()["outbox"]["destinations"]


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", "Bearer ", "Bearer ünï"],
    ids=["longer", "shorter", "basic", "empty", "non-ascii"],
)
def test_a_wrong_token_is_refused_even_from_loopback(
    client: FlaskClient, authorization: str
) -> None:
    response = client.get(
        "/healthz/delivery", headers={"Authorization": authorization}, environ_base=LOOPBACK
    )
    assert response.status_code == 401


def test_without_a_configured_token_no_token_opens_the_details(
    tmp_path: Path, services: Services
) -> None:
    tokenless = Services.build(embedded_settings(tmp_path))  # the same (migrated) database
    client = create_app(services=tokenless).test_client()
    for authorization in ("Bearer ", "Bearer anything-at-all"):
        response = client.get(
            "/healthz/delivery", headers={"Authorization": authorization}, environ_base=STRANGER
        )
        assert response.status_code == 401
    assert client.get("/healthz/delivery", environ_base=STRANGER).status_code == 403
    tokenless.close()


def test_a_short_operator_token_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CXA_OPERATOR_TOKEN"):
        embedded_settings(tmp_path, operator_token="short")


# --- what the details say ------------------------------------------------------------------


def test_details_say_why_rows_wait_for_an_unconfigured_destination(
    client: FlaskClient, services: Services
) -> None:
    queue_statement(services, waited=timedelta(seconds=5))
    with transaction(services.sessions) as session:
        session.execute(update(DestinationState).values(enabled=False))

    details = client.get("/healthz/delivery").get_json()

    assert details["status"] == "degraded"
    assert any("'lake'" in p and "not configured" in p for p in details["problems"])


def test_details_show_an_open_breaker_with_its_error(
    client: FlaskClient, services: Services
) -> None:
    with transaction(services.sessions) as session:
        state = session.get(DestinationState, "lake")
        assert state is not None
        state.open_until = outbox.database_now(session) + timedelta(minutes=5)
        state.consecutive_failures = 1
        state.last_error = "LRS answered 301 redirecting to https://lake.example/xAPI/statements"

    details = client.get("/healthz/delivery").get_json()

    lake = details["outbox"]["destinations"]["lake"]
    assert lake["circuit"] == "open" and "301 redirecting" in lake["last_error"]
    assert details["status"] == "degraded"
