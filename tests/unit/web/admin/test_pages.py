"""Each console page and action: it shows what the store holds, changes it through the
same functions as `cxa`, writes an audit row naming the operator, and answers bad input
with a 4xx page that changed nothing."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from lti_tool.services import Services
from lti_tool.store import grades, keys, outbox, platforms, refusals, registrations
from lti_tool.store.db import transaction
from lti_tool.store.grades import GradeEntry, GradeRow, GradeStatus
from lti_tool.store.models import (
    KeyStatus,
    OutboxRow,
    OutboxStatus,
    Platform,
    PlatformState,
    RegistrationInvitation,
    ToolKey,
)
from lti_tool.store.operators import AuditEntry
from tests.unit.web.admin.conftest import Console


def _spec(n: int = 1, **changes: Any) -> platforms.PlatformSpec:
    values: dict[str, Any] = {
        "name": f"Moodle {n}",
        "issuer": f"https://lms{n}.example",
        "client_id": "client-a",
        "auth_login_url": f"https://lms{n}.example/auth",
        "auth_token_url": f"https://lms{n}.example/token",
        "key_set_url": f"https://lms{n}.example/jwks",
        "deployment_ids": ("1",),
    }
    values.update(changes)
    return platforms.PlatformSpec(**values)


def _platform(services: Services, n: int = 1) -> int:
    with transaction(services.sessions) as session:
        return platforms.add_platform(session, _spec(n)).id


def _audit(services: Services) -> list[tuple[str, str, str | None]]:
    with services.sessions() as session:
        return [
            (e.actor, e.action, e.target)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action not in ("operator.sign_in",)
        ]


def test_overview_and_every_page_render_for_an_operator(console: Console) -> None:
    for path in (
        "/admin/",
        "/admin/registrations",
        "/admin/keys",
        "/admin/lrs",
        "/admin/grades",
        "/admin/refused",
        "/admin/audit",
    ):
        response = console.client.get(path)
        assert response.status_code == 200, path
        assert "Sign out ops" in response.get_data(as_text=True)


# --- registrations ----------------------------------------------------------------------


def test_add_a_registration(console: Console, services: Services) -> None:
    response = console.post(
        "/admin/registrations",
        {
            "name": "Acme Moodle",
            "issuer": "https://moodle.acme.example",
            "client_id": "abc",
            "auth_login_url": "https://moodle.acme.example/auth",
            "auth_token_url": "https://moodle.acme.example/token",
            "key_set_url": "https://moodle.acme.example/jwks",
            "deployment_ids": "1 2",
            "actor_format": "account",
            "actor_name": "omit",
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/registrations?done=added"
    with services.sessions() as session:
        found = platforms.get_platform(session, "https://moodle.acme.example", "abc")
        assert found is not None
        assert [d.deployment_id for d in found.deployments] == ["1", "2"]
        created = found.id
    assert _audit(services) == [("console:ops", "platform.add", f"platform {created}")]
    page = console.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Acme Moodle" in page and "The registration was added." in page


def test_an_invalid_registration_is_a_400_page_and_stores_nothing(
    console: Console, services: Services
) -> None:
    response = console.post("/admin/registrations", {"name": "x", "issuer": "not a url"})

    assert response.status_code == 400
    assert "Nothing was changed" in response.get_data(as_text=True)
    with services.sessions() as session:
        assert session.scalars(select(Platform)).all() == []
    assert _audit(services) == []


def test_an_invitation_is_shown_once_and_its_token_never_stored_or_audited(
    console: Console, services: Services
) -> None:
    response = console.post("/admin/registrations/invitations", {"name": "Acme", "expires": "7d"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    url = page.split('id="invitation-url" readonly value="', 1)[1].split('"', 1)[0]
    assert url.startswith("http://localhost/lti/register/")
    token = url.rsplit("/", 1)[1]
    with services.sessions() as session:
        invitation = session.scalars(select(RegistrationInvitation)).one()
        assert invitation.name == "Acme"
        assert registrations.require_usable_invitation(session, token).id == invitation.id
        details = [str(e.detail) for e in session.scalars(select(AuditEntry))]
    assert not any(token in detail for detail in details)
    assert _audit(services) == [("console:ops", "invitation.create", f"invitation {invitation.id}")]


def test_an_invitation_with_an_unknown_lifetime_is_refused(
    console: Console, services: Services
) -> None:
    response = console.post("/admin/registrations/invitations", {"expires": "100y"})

    assert response.status_code == 400
    with services.sessions() as session:
        assert session.scalars(select(RegistrationInvitation)).all() == []


def test_approve_a_pending_deployment(console: Console, services: Services) -> None:
    platform_id = _platform(services)
    with transaction(services.sessions) as session:
        found = platforms.require_platform_by_id(session, platform_id)
        registrations.record_pending_deployment(
            session, found, "copy-9", context_id="c", context_title="Basics", platform_name=None
        )
    page = console.client.get("/admin/registrations").get_data(as_text=True)
    assert "copy-9" in page and "Basics" in page

    response = console.post(
        "/admin/registrations/pending",
        {"platform_id": str(platform_id), "deployment_id": "copy-9"},
    )

    assert response.status_code == 303
    with services.sessions() as session:
        found = platforms.require_platform_by_id(session, platform_id)
        assert [d.deployment_id for d in found.deployments] == ["1", "copy-9"]
        assert registrations.list_pending_deployments(session) == []
    assert _audit(services) == [("console:ops", "deployment.approve", f"platform {platform_id}")]


def test_approving_what_is_not_pending_is_refused(console: Console, services: Services) -> None:
    platform_id = _platform(services)

    unknown = console.post(
        "/admin/registrations/pending", {"platform_id": str(platform_id), "deployment_id": "x"}
    )
    garbage = console.post("/admin/registrations/pending", {"platform_id": "abc"})
    missing = console.post(
        "/admin/registrations/pending", {"platform_id": "999", "deployment_id": "x"}
    )

    assert (unknown.status_code, garbage.status_code, missing.status_code) == (400, 400, 400)
    assert _audit(services) == []


def test_edit_privacy_add_a_deployment_disable_and_activate(
    console: Console, services: Services
) -> None:
    platform_id = _platform(services)
    base = f"/admin/registrations/{platform_id}"
    assert "Moodle 1" in console.client.get(base).get_data(as_text=True)

    assert (
        console.post(
            base + "/privacy", {"actor_format": "mbox_sha1sum", "actor_name": "include"}
        ).status_code
        == 303
    )
    assert console.post(base + "/deployments", {"deployment_id": "2"}).status_code == 303
    assert console.post(base + "/state", {"state": "pending"}).status_code == 303

    with services.sessions() as session:
        found = platforms.require_platform_by_id(session, platform_id)
        assert (found.actor_format, found.actor_name) == ("mbox_sha1sum", "include")
        assert [d.deployment_id for d in found.deployments] == ["1", "2"]
        assert found.state is PlatformState.PENDING

    assert console.post(base + "/state", {"state": "active"}).status_code == 303
    with services.sessions() as session:
        assert platforms.require_platform_by_id(session, platform_id).state is PlatformState.ACTIVE
    actions = [action for _, action, _ in _audit(services)]
    assert actions == [
        "platform.actor_format",
        "platform.actor_name",
        "deployment.add",
        "platform.state",
        "platform.state",
    ]


def test_bad_edits_are_refused_and_leave_the_registration_alone(
    console: Console, services: Services
) -> None:
    platform_id = _platform(services)
    base = f"/admin/registrations/{platform_id}"

    assert console.post(base + "/privacy", {"actor_format": "name"}).status_code == 400
    assert console.post(base + "/deployments", {"deployment_id": "1"}).status_code == 400
    assert console.post(base + "/state", {"state": "gone"}).status_code == 400
    assert console.post(base + "/remove", {}).status_code == 400
    assert console.client.get("/admin/registrations/999").status_code == 400
    with services.sessions() as session:
        found = platforms.require_platform_by_id(session, platform_id)
        assert found.actor_format == "account"
    assert _audit(services) == []


def test_remove_a_registration(console: Console, services: Services) -> None:
    platform_id = _platform(services)

    response = console.post(f"/admin/registrations/{platform_id}/remove", {"confirm": "remove"})

    assert response.status_code == 303
    with services.sessions() as session:
        assert platforms.get_platform_by_id(session, platform_id) is None
    assert _audit(services) == [("console:ops", "platform.remove", f"platform {platform_id}")]


# --- keys -------------------------------------------------------------------------------


def test_keys_page_shows_what_is_published_and_rotation_advances(
    console: Console, services: Services
) -> None:
    with services.sessions() as session:
        active = session.scalars(select(ToolKey)).one().kid
    page = console.client.get("/admin/keys").get_data(as_text=True)
    assert active in page

    published = console.post("/admin/keys/rotate")
    forced = console.post("/admin/keys/rotate", {"force": "on"})

    assert (published.status_code, forced.status_code) == (303, 303)
    with services.sessions() as session:
        statuses = {k.kid: k.status for k in keys.list_keys(session)}
        jwks = {k["kid"] for k in keys.public_jwks(session)["keys"]}
    assert statuses[active] is KeyStatus.RETIRING
    assert active in jwks and len(jwks) == 2
    steps = [action for _, action, _ in _audit(services)]
    assert steps == ["keys.rotate", "keys.rotate"]


# --- deliveries -------------------------------------------------------------------------


def _dead_statement(services: Services, error: str) -> int:
    with transaction(services.sessions) as session:
        outbox.register_destinations(session, ["lrs-a"])
        outbox.add_statement(session, {"id": str(uuid.uuid4()), "verb": {"id": "x"}}, "lrs-a")
        row = session.scalars(select(OutboxRow).order_by(OutboxRow.id.desc())).first()
        assert row is not None
        row.status, row.last_error, row.attempts = OutboxStatus.DEAD, error, 5
        return row.id


def test_lrs_page_lists_destinations_and_dead_letters_and_replays_them(
    console: Console, services: Services
) -> None:
    row_id = _dead_statement(services, "HTTP 400: bad verb")
    page = console.client.get("/admin/lrs").get_data(as_text=True)
    assert "lrs-a" in page and "HTTP 400: bad verb" in page

    response = console.post("/admin/lrs/replay", {"destination": "lrs-a"})

    assert response.status_code == 303
    assert "count=1" in response.headers["Location"]
    with services.sessions() as session:
        assert session.get(OutboxRow, row_id).status is OutboxStatus.PENDING  # type: ignore[union-attr]
    assert _audit(services) == [("console:ops", "outbox.replay", "lrs-a")]


def test_replay_to_an_unknown_destination_is_refused(console: Console, services: Services) -> None:
    row_id = _dead_statement(services, "HTTP 400")

    response = console.post("/admin/lrs/replay", {"destination": "nowhere"})

    assert response.status_code == 400
    assert "no destination named" in response.get_data(as_text=True)
    with services.sessions() as session:
        assert session.get(OutboxRow, row_id).status is OutboxStatus.DEAD  # type: ignore[union-attr]


def _dead_grade(services: Services, platform_id: int) -> int:
    with transaction(services.sessions) as session:
        row = grades.add_grade(
            session,
            GradeEntry(
                source_id=f"quiz-attempt:{uuid.uuid4()}",
                platform_id=platform_id,
                deployment_id="1",
                sub="learner-7",
                context_id="7",
                resource_link_id="l",
                lineitem_url="https://lms1.example/li/1",
                lineitems_url=None,
                scopes=(),
                resource_id="quiz:q",
                label="Quiz",
                score_given=7.0,
                score_maximum=10.0,
                activity_progress="Completed",
                grading_progress="FullyGraded",
                comment=None,
                event_at=datetime.now(UTC),
            ),
        )
        assert row is not None
        row.status, row.last_error = GradeStatus.DEAD, "HTTP 422: not enrolled"
        return row.id


def test_grade_failures_are_listed_and_replayed_one_or_all(
    console: Console, services: Services
) -> None:
    platform_id = _platform(services)
    first, second = _dead_grade(services, platform_id), _dead_grade(services, platform_id)
    page = console.client.get("/admin/grades").get_data(as_text=True)
    assert "learner-7" in page and "HTTP 422: not enrolled" in page

    one = console.post("/admin/grades/replay", {"row_id": str(first)})
    with services.sessions() as session:
        assert session.get(GradeRow, first).status is GradeStatus.PENDING  # type: ignore[union-attr]
        assert session.get(GradeRow, second).status is GradeStatus.DEAD  # type: ignore[union-attr]
    every = console.post("/admin/grades/replay")

    assert (one.status_code, every.status_code) == (303, 303)
    with services.sessions() as session:
        assert session.get(GradeRow, second).status is GradeStatus.PENDING  # type: ignore[union-attr]
    assert [action for _, action, _ in _audit(services)] == ["grades.replay", "grades.replay"]


def test_grade_replay_for_an_unknown_platform_is_refused(console: Console) -> None:
    assert console.post("/admin/grades/replay", {"platform_id": "999"}).status_code == 400
    assert console.post("/admin/grades/replay", {"platform_id": "x"}).status_code == 400


# --- audit log --------------------------------------------------------------------------


def test_the_audit_page_shows_console_and_cli_changes(console: Console, services: Services) -> None:
    console.post("/admin/keys/rotate")
    with transaction(services.sessions) as session:
        session.execute(update(AuditEntry).values(detail={"note": "visible"}))

    page = console.client.get("/admin/audit").get_data(as_text=True)

    assert "console:ops" in page and "keys.rotate" in page and "visible" in page


def test_the_overview_counts_what_needs_attention(console: Console, services: Services) -> None:
    platform_id = _platform(services)
    _dead_statement(services, "HTTP 400")
    _dead_grade(services, platform_id)
    with transaction(services.sessions) as session:
        found = platforms.require_platform_by_id(session, platform_id)
        registrations.record_pending_deployment(
            session, found, "copy", context_id=None, context_title=None, platform_name=None
        )
        refusals.record_refusal(
            session, reference="r1", status=400, endpoint="lti.launch", reason="r"
        )
        refusals.record_refusal(
            session,
            reference="r0",
            status=400,
            endpoint="lti.launch",
            reason="r",
            now=refusals.utcnow() - timedelta(days=2),
        )

    page = console.client.get("/admin/").get_data(as_text=True)

    counts = re.findall(r"</dt><dd>(\d+)</dd>", page)
    # registrations, pending deployments, dead statements, dead grades, refused in 24 hours
    assert counts == ["1", "1", "1", "1", "1"]
