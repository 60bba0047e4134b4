"""Badges on the web: a learner's downloads, the public verification page and the JSON-LD a
verifier dereferences; every issued credential is checked with PyJWT and the OB 3.0 schema."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services import Services
from lti_tool.store.badges import IssuedBadge, issue_for_goal, revoke_badge
from lti_tool.store.db import transaction
from lti_tool.store.goals import Goal, GoalStatus
from lti_tool.store.models import Platform
from tests.fixtures.openbadges import (
    png_credential,
    schema_errors,
    status_bit,
    svg_credential,
    verify_vc_jwt,
)
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import LearnerBrowser

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def achieve_goal(
    services: Services, sub: str, *, template_id: str | None = "goal-name-the-impact"
) -> uuid.UUID:
    """An achieved goal of ``sub`` and its badge; returns the badge's public id."""
    with transaction(services.sessions) as session:
        platform = session.scalars(select(Platform)).one()
        goal = Goal(
            platform_id=platform.id,
            sub=sub,
            template_id=template_id,
            skill="empathy" if template_id else None,
            title="Name the impact" if template_id else "Coach two new colleagues",
            metric_key="self_reported",
            target=8,
            status=GoalStatus.ACHIEVED,
            due_at=NOW + timedelta(days=30),
            ended_at=NOW,
        )
        session.add(goal)
        session.flush()
        return issue_for_goal(session, goal, now=NOW).public_id


def badge_row(session: Session, public_id: uuid.UUID) -> IssuedBadge:
    session.expire_all()
    return session.scalars(select(IssuedBadge).where(IssuedBadge.public_id == public_id)).one()


def public_key(client: FlaskClient, compact: str) -> dict[str, object]:
    """Dereference the JWT's kid, as OB 3.0 8.2.6 tells a verifier to."""
    kid = jwt.get_unverified_header(compact)["kid"]
    response = client.get(kid.removeprefix("http://localhost"))
    assert response.status_code == 200
    return response.get_json(force=True)


def test_learner_downloads_a_verifiable_credential(
    learner: LearnerBrowser, services: Services, client: FlaskClient
) -> None:
    badge_id = achieve_goal(services, "learner-1")
    response = learner.get(f"badges/{badge_id}.jwt")
    assert response.status_code == 200
    compact = response.get_data(as_text=True)
    payload = verify_vc_jwt(compact, public_key(client, compact))
    assert payload["id"] == f"http://localhost/badges/{badge_id}"
    achievement = payload["credentialSubject"]["achievement"]
    assert achievement["name"] == "Name the impact on the customer"
    assert achievement["alignment"][0]["targetName"] == "Empathy"
    assert "learner-1" not in compact and "learner-1" not in json.dumps(payload)

    document = learner.get(f"badges/{badge_id}.json").get_json(force=True)
    assert schema_errors(document) == []
    assert document == {k: v for k, v in payload.items() if k not in {"iss", "jti", "nbf", "sub"}}

    png = learner.get(f"badges/{badge_id}.png")
    assert png.mimetype == "image/png"
    assert png_credential(png.data) == compact
    svg = learner.get(f"badges/{badge_id}.svg")
    assert svg.mimetype == "image/svg+xml"
    assert svg_credential(svg.get_data(as_text=True)) == compact

    mine = learner.get("badges/").get_data(as_text=True)
    assert "Name the impact" in mine and f"/badges/{badge_id}" in mine


def test_a_goal_from_scratch_gets_the_generic_achievement(
    learner: LearnerBrowser, services: Services, client: FlaskClient
) -> None:
    badge_id = achieve_goal(services, "learner-1", template_id=None)
    compact = learner.get(f"badges/{badge_id}.jwt").get_data(as_text=True)
    payload = verify_vc_jwt(compact, public_key(client, compact))
    achievement = payload["credentialSubject"]["achievement"]
    assert achievement["name"] == "Personal goal achieved: Coach two new colleagues"
    assert schema_errors({k: v for k, v in payload.items()}) == []
    # Its achievement is published too, so the id dereferences.
    published = client.get(achievement["id"].removeprefix("http://localhost"))
    assert published.status_code == 200
    assert published.get_json(force=True)["name"] == achievement["name"]


def test_another_learner_cannot_download_it(
    learner: LearnerBrowser, other_learner: LearnerBrowser, services: Services
) -> None:
    badge_id = achieve_goal(services, "learner-1")
    for suffix in ("jwt", "json", "png", "svg"):
        assert learner.get(f"badges/{badge_id}.{suffix}").status_code == 200
        assert other_learner.get(f"badges/{badge_id}.{suffix}").status_code == 404
    assert "Name the impact" not in other_learner.get("badges/").get_data(as_text=True)


def test_downloads_need_a_session(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    badge_id = achieve_goal(services, "learner-1")
    response = client.get(f"/s/{'x' * 43}/badges/{badge_id}.jwt")
    assert response.status_code in (401, 403)


def test_public_page_shows_verified_without_personal_data(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    badge_id = achieve_goal(services, "learner-1")
    response = client.get(f"/badges/{badge_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Verified" in page and "Revoked" not in page
    assert "Name the impact on the customer" in page
    assert "CX Academy" in page  # the issuer's name (default setting)
    assert "2026-05-04" in page
    assert "sha256$" in page
    assert "learner-1" not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_revoked_badge_shows_on_the_page_and_in_the_status_list(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    keep = achieve_goal(services, "learner-1")
    withdraw = achieve_goal(services, "learner-2")
    # Signed before the revocation, as a badge already in a wallet would be.
    assert "Verified" in client.get(f"/badges/{withdraw}").get_data(as_text=True)
    with transaction(services.sessions) as session:
        assert revoke_badge(
            session, badge_row(session, withdraw), reason="awarded in error", now=NOW
        )
        assert not revoke_badge(session, badge_row(session, withdraw), reason="again", now=NOW)
    page = client.get(f"/badges/{withdraw}").get_data(as_text=True)
    assert "Revoked" in page and "Verified" not in page
    assert "awarded in error" not in page  # the operator's reason is not published

    with services.sessions() as session:
        revoked_index = badge_row(session, withdraw).status_index
        kept_index = badge_row(session, keep).status_index
    listed = client.get("/badges/status/revocation")
    assert listed.status_code == 200
    assert listed.mimetype == "application/vc+jwt"
    status = verify_vc_jwt(
        listed.get_data(as_text=True), public_key(client, listed.get_data(as_text=True))
    )
    encoded = status["credentialSubject"]["encodedList"]
    assert status_bit(encoded, revoked_index)
    assert not status_bit(encoded, kept_index)


def test_the_credential_status_points_at_the_list(
    learner: LearnerBrowser, services: Services
) -> None:
    badge_id = achieve_goal(services, "learner-1")
    document = learner.get(f"badges/{badge_id}.json").get_json(force=True)
    entry = document["credentialStatus"]
    assert entry["statusListCredential"] == "http://localhost/badges/status/revocation"
    with services.sessions() as session:
        assert entry["statusListIndex"] == str(badge_row(session, badge_id).status_index)


@pytest.mark.parametrize("raw", ["0b6c3e1e-7a7e-4a55-9d4c-1d2b5c3a4f10", "not-a-uuid", "..%2f"])
def test_unknown_badge_is_a_404_page(client: FlaskClient, raw: str) -> None:
    response = client.get(f"/badges/{raw}")
    assert response.status_code == 404
    assert "text/html" in response.content_type


def test_issuer_achievement_skill_and_image_documents(client: FlaskClient) -> None:
    issuer = client.get("/badges/issuer")
    assert issuer.status_code == 200
    assert issuer.mimetype == "application/ld+json"
    profile = issuer.get_json(force=True)
    assert profile["id"] == "http://localhost/badges/issuer"
    assert profile["type"] == ["Profile"] and profile["name"] == "CX Academy"

    achievement = client.get("/badges/achievements/goal-name-the-impact").get_json(force=True)
    assert achievement["type"] == ["Achievement"]
    assert achievement["criteria"]["narrative"]
    assert client.get("/badges/achievements/no-such-thing").status_code == 404

    assert client.get("/badges/skills/empathy").get_json(force=True)["name"] == "Empathy"
    assert client.get("/badges/skills/juggling").status_code == 404
    image = client.get("/badges/images/empathy.svg")
    assert image.mimetype == "image/svg+xml" and b"<title" in image.data
    assert client.get("/badges/images/juggling.svg").status_code == 404
    assert client.get("/badges/keys/not-a-key").status_code == 404


def test_issue_for_goal_is_idempotent_and_only_for_achieved_goals(
    registered: TestPlatform, services: Services
) -> None:
    with transaction(services.sessions) as session:
        platform = session.scalars(select(Platform)).one()
        goal = Goal(
            platform_id=platform.id,
            sub="learner-1",
            title="Active goal",
            metric_key="self_reported",
            target=3,
            due_at=NOW + timedelta(days=7),
        )
        session.add(goal)
        session.flush()
        with pytest.raises(ValueError, match="not achieved"):
            issue_for_goal(session, goal, now=NOW)
        goal.status = GoalStatus.ACHIEVED
        first = issue_for_goal(session, goal, now=NOW)
        again = issue_for_goal(session, goal, now=NOW + timedelta(hours=1))
        assert again.id == first.id and again.issued_at == first.issued_at
        assert session.scalars(select(IssuedBadge)).all() == [first]
    second = achieve_goal(services, "learner-1")
    with services.sessions() as session:
        indices = [b.status_index for b in session.scalars(select(IssuedBadge))]
    assert sorted(indices) == [0, 1], second


def test_badges_signed_before_a_key_rotation_still_verify(
    learner: LearnerBrowser, services: Services, client: FlaskClient
) -> None:
    from lti_tool.store.badges import rotate_issuer_key

    old_id = achieve_goal(services, "learner-1")
    old = learner.get(f"badges/{old_id}.jwt").get_data(as_text=True)
    with transaction(services.sessions) as session:
        rotate_issuer_key(session, services.settings.key_encryption_secret, now=NOW)
    new_id = achieve_goal(services, "learner-1", template_id=None)
    new = learner.get(f"badges/{new_id}.jwt").get_data(as_text=True)
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    verify_vc_jwt(old, public_key(client, old))
    verify_vc_jwt(new, public_key(client, new))
    assert "Verified" in client.get(f"/badges/{old_id}").get_data(as_text=True)


def test_a_tampered_stored_credential_shows_not_verified(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    badge_id = achieve_goal(services, "learner-1")
    assert "Verified" in client.get(f"/badges/{badge_id}").get_data(as_text=True)
    with transaction(services.sessions) as session:
        row = badge_row(session, badge_id)
        header, payload, signature = (row.credential_jws or "").split(".")
        claims = json.loads(jwt.utils.base64url_decode(payload))
        claims["validFrom"] = "2020-01-01T00:00:00Z"
        forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
        row.credential_jws = f"{header}.{forged}.{signature}"
    page = client.get(f"/badges/{badge_id}").get_data(as_text=True)
    assert "Not verified" in page


def test_issuer_profile_comes_from_the_settings(tmp_path, platform: TestPlatform) -> None:  # type: ignore[no-untyped-def]
    from lti_tool.app import create_app
    from lti_tool.store.db import make_engine
    from lti_tool.store.migrate import upgrade
    from tests.conftest import embedded_settings

    settings = embedded_settings(
        tmp_path,
        badge_issuer_name="Acme Support Academy",
        badge_issuer_url="https://acme.example.org",
        badge_issuer_email="academy@acme.example.org",
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    built = Services.build(settings)
    try:
        profile = (
            create_app(services=built).test_client().get("/badges/issuer").get_json(force=True)
        )
    finally:
        built.close()
    assert profile["name"] == "Acme Support Academy"
    assert profile["url"] == "https://acme.example.org"
    assert profile["email"] == "academy@acme.example.org"


@pytest.mark.parametrize("stored", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_an_unreadable_stored_credential_is_not_verified_not_a_crash(
    client: FlaskClient, registered: TestPlatform, services: Services, stored: str
) -> None:
    badge_id = achieve_goal(services, "learner-1")
    with transaction(services.sessions) as session:
        badge_row(session, badge_id).credential_jws = stored
    response = client.get(f"/badges/{badge_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Not verified" in page and "Name the impact on the customer" in page
