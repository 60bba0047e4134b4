"""What learners see of a deployment's branding, the accent stylesheet and the favicon."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lti_tool.store.branding import set_branding
from lti_tool.store.models import Launch
from tests.unit.web.conftest import LearnerBrowser


def test_pages_show_the_deployments_organisation_and_accent(
    learner: LearnerBrowser, session: Session
) -> None:
    plain = learner.get("").get_data(as_text=True)
    assert "/brand/accent/" not in plain and 'class="org"' not in plain
    launch = session.scalars(select(Launch)).first()
    assert launch is not None
    set_branding(session, launch.platform_id, organisation="Acme Support", accent="#1e6b3a")
    # Another deployment's override must not leak into this one.
    set_branding(session, launch.platform_id, "elsewhere", accent="#6b1e5a")
    session.commit()
    page = learner.get("").get_data(as_text=True)
    assert "Acme Support" in page
    assert "/brand/accent/1e6b3a.css" in page and "6b1e5a" not in page
    set_branding(session, launch.platform_id, launch.deployment_id, accent="#6b1e5a")
    session.commit()
    assert "/brand/accent/6b1e5a.css" in learner.get("").get_data(as_text=True)


def test_the_accent_stylesheet_serves_only_readable_colours(client: FlaskClient) -> None:
    response = client.get("/brand/accent/1e6b3a.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "--accent: #1e6b3a" in response.get_data(as_text=True)
    for bad in ("ffff00", "zzzzzz", "1e6b3a;}body{display:none"):
        assert client.get(f"/brand/accent/{bad}.css").status_code == 404


def test_the_favicon_is_served_not_a_404(client: FlaskClient, learner: LearnerBrowser) -> None:
    with client.get("/favicon.ico", follow_redirects=True) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert b"<svg" in response.data
    page = learner.get("").get_data(as_text=True)
    assert 'rel="icon"' in page and "favicon.svg" in page


def test_a_failing_branding_lookup_falls_back_to_the_default_look(
    learner: LearnerBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise OperationalError("SELECT branding", {}, Exception("database went away"))

    monkeypatch.setattr("lti_tool.web.branding.get_brand", broken)
    response = learner.get("")
    assert response.status_code == 200
    assert "/brand/accent/" not in response.get_data(as_text=True)
