"""What every response carries, error pages, the body size limit and the health check."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from lti_tool.app import MAX_CONTENT_LENGTH
from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.models import OutboxRow, utcnow

REFERENCE = re.compile(r"reference <code>([0-9a-f]{12})</code>")


def reference_of(response: TestResponse) -> str:
    found = REFERENCE.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


def csp_directives(policy: str) -> dict[str, str]:
    """'default-src 'self'; frame-ancestors *' as {'default-src': "'self'", ...}."""
    directives = {}
    for directive in filter(None, (d.strip() for d in policy.split(";"))):
        name, _, value = directive.partition(" ")
        directives[name] = value.strip()
    return directives


def queue_statement(services: Services, waited: timedelta) -> None:
    """A pending statement, recorded `waited` ago and not yet delivered."""
    with transaction(services.sessions) as session:
        outbox.add_statement(session, {"id": str(uuid.uuid4()), "verb": {"id": "x"}})
        session.execute(update(OutboxRow).values(created_at=utcnow() - waited))


# --- security headers --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/no-such-page", "/healthz", "/.well-known/jwks.json"])
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    directives = csp_directives(response.headers["Content-Security-Policy"])
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    # LMSs show the tool in an iframe: framing is allowed explicitly, not left to defaults.
    assert "frame-ancestors" in directives
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- error pages -------------------------------------------------------------------------


def test_an_unknown_address_gives_a_404_page_with_a_reference(client: FlaskClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "There is nothing at this address." in body
    assert "Error 404" in body
    reference_of(response)


def test_each_error_gets_its_own_reference(client: FlaskClient) -> None:
    first = reference_of(client.get("/no-such-page"))
    second = reference_of(client.get("/no-such-page"))

    assert first != second


def test_a_body_over_the_size_limit_is_refused_with_413(client: FlaskClient) -> None:
    assert MAX_CONTENT_LENGTH < 300 * 1024

    response = client.post("/lti/launch", data={"id_token": "x" * (300 * 1024)})

    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)
    reference_of(response)


def test_a_body_under_the_limit_reaches_the_launch_check(client: FlaskClient) -> None:
    response = client.post("/lti/launch", data={"padding": "x" * (200 * 1024)})

    assert response.status_code == 400
    assert "id_token" in response.get_data(as_text=True)


# --- health ------------------------------------------------------------------------------


def test_healthz_is_minimal_alive_and_database_reachable(
    client: FlaskClient, services: Services
) -> None:
    queue_statement(services, waited=timedelta(minutes=2))

    response = client.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.7"})

    assert response.status_code == 200
    # Public: nothing about the LRSs (names, counts, lag); those are /healthz/delivery's.
    assert response.get_json() == {"status": "ok", "database": "ok"}
