"""Refused launches are kept with the reference id the person saw, so the console (and
`cxa refused`) can say why; never the id_token; bounded retention."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.app import create_app
from lti_tool.services import Services
from lti_tool.store import refusals
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.refusals import RefusedLaunch
from tests.conftest import embedded_settings
from tests.fixtures.platform import TestPlatform
from tests.unit.web.admin.conftest import Console

_REFERENCE = re.compile(r"reference <code>([0-9a-f]{12})</code>")


def _reference(page: str) -> str:
    found = _REFERENCE.search(page)
    assert found, "error pages show a reference id"
    return found.group(1)


def test_a_forged_launch_is_found_by_its_reference_without_its_token(
    client: FlaskClient, services: Services, registered: TestPlatform, console: Console
) -> None:
    redirect = registered.login(client)
    forged = TestPlatform(base_url=registered.base_url, client_id=registered.client_id)
    token = forged.sign(forged.claims(redirect.nonce))
    refused = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})
    assert refused.status_code == 400
    reference = _reference(refused.get_data(as_text=True))

    page = console.client.get(
        "/admin/refused", query_string={"reference": f" {reference.upper()} "}
    )

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert registered.issuer in text and registered.client_id in text
    with services.sessions() as session:
        row = session.scalars(select(RefusedLaunch)).one()
        assert row.reference == reference
        assert (row.issuer, row.client_id, row.deployment_id) == (
            registered.issuer,
            registered.client_id,
            registered.deployment_id,
        )
        assert row.endpoint == "lti.launch" and row.status == 400
        stored = " ".join(str(v) for v in (row.reason, row.issuer, row.client_id))
        assert token not in stored and redirect.state not in stored


def test_a_login_from_an_unknown_issuer_is_recorded_with_what_it_claimed(
    client: FlaskClient, services: Services
) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": "https://stranger.example",
            "client_id": "who",
            "login_hint": "x",
            "target_link_uri": "http://localhost/lti/launch",
            "lti_deployment_id": "d-1",
        },
    )

    assert 400 <= response.status_code < 500
    with services.sessions() as session:
        row = session.scalars(select(RefusedLaunch)).one()
    assert row.reference == _reference(response.get_data(as_text=True))
    assert (row.issuer, row.client_id, row.deployment_id) == (
        "https://stranger.example",
        "who",
        "d-1",
    )


def test_an_unknown_reference_is_a_404_and_learner_page_errors_are_not_launches(
    client: FlaskClient, services: Services, console: Console
) -> None:
    client.get("/s/" + "a" * 43 + "/")

    page = console.client.get("/admin/refused", query_string={"reference": "0123456789ab"})

    assert page.status_code == 404
    assert "No refused launch has the reference" in page.get_data(as_text=True)
    with services.sessions() as session:
        assert session.scalars(select(RefusedLaunch)).all() == []


def test_retention_drops_old_rows_and_keeps_at_most_max_rows(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refusals, "MAX_ROWS", 3)
    with transaction(services.sessions) as session:
        now = refusals.utcnow()
        old = refusals.record_refusal(
            session,
            reference="old",
            status=400,
            endpoint="lti.launch",
            reason="r",
            now=now - refusals.RETENTION - timedelta(seconds=1),
        )
        old_id = old.id
        for n in range(4):
            refusals.record_refusal(
                session, reference=f"r{n}", status=400, endpoint="lti.launch", reason="r", now=now
            )
    with services.sessions() as session:
        kept = [
            r.reference for r in session.scalars(select(RefusedLaunch).order_by(RefusedLaunch.id))
        ]
    assert kept == ["r1", "r2", "r3"]
    assert old_id not in kept


def test_rate_limited_launches_are_not_recorded(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, rate_limit_per_client="1/minute")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    try:
        client = create_app(services=services).test_client()
        query = {"iss": "https://stranger.example", "client_id": "who", "login_hint": "x"}
        first = client.get("/lti/login", query_string=query)
        second = client.get("/lti/login", query_string=query)
        assert (first.status_code, second.status_code) == (400, 429)
        with services.sessions() as session:
            assert len(session.scalars(select(RefusedLaunch)).all()) == 1
    finally:
        services.close()


def test_an_oversized_launch_is_recorded_without_reading_its_body(
    client: FlaskClient, services: Services
) -> None:
    response = client.post("/lti/launch", data={"id_token": "x" * (300 * 1024), "state": "s"})

    assert response.status_code == 413
    with services.sessions() as session:
        row = session.scalars(select(RefusedLaunch)).one()
    assert (row.status, row.issuer) == (413, None)
