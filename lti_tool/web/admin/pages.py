"""The console's pages: registrations (with invitations and pending deployments), tool keys,
LRS destinations and their dead letters, grade sync, refused launches and the audit log.

Thin views: every change goes through lti_tool.administration, the same functions `cxa`
calls, which also write the audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool import administration
from lti_tool.errors import ToolError
from lti_tool.store import grades, keys, operators, outbox, platforms, refusals, registrations
from lti_tool.store.grades import GradeStatus
from lti_tool.store.models import PlatformState
from lti_tool.web.admin import actor, bp, current_operator
from lti_tool.web.db import commit, db, services

#: Invitation lifetimes offered in the console (the CLI takes any up to 30 days).
LIFETIMES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
SHOWN_DEAD = 100


def _render(template: str, status: int = 200, **values: object) -> tuple[str, int]:
    return render_template(template, operator=current_operator(), **values), status


def _problem(err: ToolError, page: str, **page_args: Any) -> Response:
    """A refused change: a 4xx page saying why; nothing of it is kept."""
    db().rollback()
    body, status = _render(
        "admin/problem.html",
        err.status if 400 <= err.status < 500 else 400,
        message=str(err),
        back=url_for(page, **page_args),
    )
    return Response(body, status=status, mimetype="text/html")


def _act(change: Callable[[], object], page: str, done: str, **page_args: Any) -> Response:
    """Run one change in the request's transaction, then back to the page (303, so a
    reload never repeats it)."""
    try:
        change()
    except ToolError as err:
        return _problem(err, page, **page_args)
    commit()
    return Response(status=303, headers={"Location": url_for(page, done=done, **page_args)})


def _int(name: str) -> int:
    value = request.form.get(name, "")
    if not value.isdigit():
        raise administration.AdministrationError(f"{name} must be a whole number")
    return int(value)


# --- overview ---------------------------------------------------------------------------


@bp.get("/")
def overview() -> tuple[str, int]:
    session = db()
    since = datetime.now(UTC) - timedelta(days=1)
    return _render(
        "admin/overview.html",
        platform_count=len(platforms.list_platforms(session)),
        pending=len(registrations.list_pending_deployments(session)),
        dead_statements=sum(d.dead for d in outbox.list_destination_status(session)),
        dead_grades=sum(
            c.count for c in grades.count_by_status(session) if c.status is GradeStatus.DEAD
        ),
        refused_today=refusals.count_refusals_since(session, since),
    )


# --- registrations ----------------------------------------------------------------------


@bp.get("/registrations")
def registrations_page() -> tuple[str, int]:
    session = db()
    return _render(
        "admin/registrations.html",
        platforms=platforms.list_platforms(session),
        pending=registrations.list_pending_deployments(session),
        invitations=registrations.list_invitations(session),
        lifetimes=list(LIFETIMES),
        actor_formats=platforms.ACTOR_FORMATS,
        actor_names=platforms.ACTOR_NAME_CHOICES,
        done=request.args.get("done"),
        now=datetime.now(UTC),
    )


@bp.post("/registrations")
def add_platform() -> Response:
    form = request.form

    def change() -> None:
        deployments = tuple(d.strip() for d in form.get("deployment_ids", "").split() if d.strip())
        spec = platforms.PlatformSpec(
            name=form.get("name", ""),
            issuer=form.get("issuer", "").strip(),
            client_id=form.get("client_id", "").strip(),
            auth_login_url=form.get("auth_login_url", "").strip(),
            auth_token_url=form.get("auth_token_url", "").strip(),
            key_set_url=form.get("key_set_url", "").strip(),
            deployment_ids=deployments,
            auth_audience=form.get("auth_audience", "").strip() or None,
            actor_format=form.get("actor_format", "account"),
            actor_name=form.get("actor_name", "omit"),
        )
        administration.add_platform(db(), services().settings, spec, actor=actor())

    return _act(change, "admin.registrations_page", "added")


@bp.post("/registrations/invitations")
def invite() -> tuple[str, int] | Response:
    try:
        lifetime = LIFETIMES.get(request.form.get("expires", ""))
        if lifetime is None:
            raise administration.AdministrationError("choose how long the invitation lasts")
        created = administration.invite(
            db(),
            lifetime=lifetime,
            name=request.form.get("name") or None,
            auto_approve_deployments=request.form.get("auto_approve") == "on",
            actor=actor(),
        )
    except ToolError as err:
        return _problem(err, "admin.registrations_page")
    commit()
    # Shown once, on this answer only (no-store): only the token's hash is kept.
    return _render(
        "admin/invitation.html",
        url=f"{services().settings.base_url}/lti/register/{created.token}",
        invitation=created.invitation,
    )


@bp.post("/registrations/pending")
def approve_deployment() -> Response:
    return _act(
        lambda: administration.approve_deployment(
            db(), _int("platform_id"), request.form.get("deployment_id", ""), actor=actor()
        ),
        "admin.registrations_page",
        "approved",
    )


@bp.get("/registrations/<int:platform_id>")
def platform_page(platform_id: int) -> tuple[str, int]:
    found = platforms.require_platform_by_id(db(), platform_id)
    return _render(
        "admin/platform.html",
        platform=found,
        actor_formats=platforms.ACTOR_FORMATS,
        actor_names=platforms.ACTOR_NAME_CHOICES,
        done=request.args.get("done"),
    )


def _platform_change(platform_id: int, change: Callable[[], object], done: str) -> Response:
    return _act(change, "admin.platform_page", done, platform_id=platform_id)


@bp.post("/registrations/<int:platform_id>/privacy")
def set_privacy(platform_id: int) -> Response:
    def change() -> None:
        session = db()
        administration.set_actor_format(
            session, platform_id, request.form.get("actor_format", ""), actor=actor()
        )
        administration.set_actor_name(
            session, platform_id, request.form.get("actor_name", ""), actor=actor()
        )

    return _platform_change(platform_id, change, "saved")


@bp.post("/registrations/<int:platform_id>/deployments")
def add_deployment(platform_id: int) -> Response:
    return _platform_change(
        platform_id,
        lambda: administration.add_deployment(
            db(), platform_id, request.form.get("deployment_id", "").strip(), actor=actor()
        ),
        "deployment",
    )


@bp.post("/registrations/<int:platform_id>/state")
def set_state(platform_id: int) -> Response:
    def change() -> None:
        try:
            state = PlatformState(request.form.get("state", ""))
        except ValueError as err:
            raise administration.AdministrationError("state must be active or pending") from err
        administration.set_platform_state(db(), platform_id, state, actor=actor())

    return _platform_change(platform_id, change, "state")


@bp.post("/registrations/<int:platform_id>/remove")
def remove_platform(platform_id: int) -> Response:
    def change() -> None:
        if request.form.get("confirm") != "remove":
            raise administration.AdministrationError(
                "tick the box to confirm: removing a registration cannot be undone"
            )
        administration.remove_platform(db(), platform_id, actor=actor())

    return _act(change, "admin.registrations_page", "removed")


# --- keys -------------------------------------------------------------------------------


@bp.get("/keys")
def keys_page() -> tuple[str, int]:
    session = db()
    published = {key["kid"] for key in keys.public_jwks(session)["keys"]}
    return _render(
        "admin/keys.html",
        keys=keys.list_keys(session),
        published=published,
        done=request.args.get("done"),
    )


@bp.post("/keys/rotate")
def rotate_keys() -> Response:
    return _act(
        lambda: administration.rotate_keys(
            db(),
            services().settings,
            publish_lead=timedelta(hours=24),
            force=request.form.get("force") == "on",
            actor=actor(),
        ),
        "admin.keys_page",
        "rotated",
    )


# --- LRS destinations -------------------------------------------------------------------


@bp.get("/lrs")
def lrs_page() -> tuple[str, int]:
    session = db()
    statuses = outbox.list_destination_status(session)
    return _render(
        "admin/lrs.html",
        statuses=statuses,
        now=outbox.database_now(session),
        dead=outbox.list_dead(session, limit=SHOWN_DEAD),
        shown=SHOWN_DEAD,
        done=request.args.get("done"),
        count=request.args.get("count"),
    )


@bp.post("/lrs/replay")
def replay_statements() -> Response:
    destination = request.form.get("destination") or None
    error = request.form.get("error", "").strip() or None
    counted: list[int] = []

    def change() -> None:
        counted.append(
            administration.replay_statements(
                db(), destination=destination, error_contains=error, actor=actor()
            )
        )

    response = _act(change, "admin.lrs_page", "replayed")
    if counted and response.status_code == 303:
        response.headers["Location"] = url_for("admin.lrs_page", done="replayed", count=counted[0])
    return response


# --- grade sync -------------------------------------------------------------------------


@bp.get("/grades")
def grades_page() -> tuple[str, int]:
    session = db()
    by_platform: dict[int, dict[str, object]] = {}
    for count in grades.count_by_status(session):
        entry = by_platform.setdefault(
            count.platform_id,
            {"id": count.platform_id, "name": count.platform_name}
            | {status.value: 0 for status in GradeStatus},
        )
        entry[count.status.value] = count.count
    return _render(
        "admin/grades.html",
        platforms=list(by_platform.values()),
        statuses=[status.value for status in GradeStatus],
        overridden=grades.count_overridden(session),
        dead=grades.list_dead(session, SHOWN_DEAD),
        done=request.args.get("done"),
        count=request.args.get("count"),
    )


@bp.post("/grades/replay")
def replay_grades() -> Response:
    raw = request.form.get("platform_id", "")
    counted: list[int] = []

    def change() -> None:
        platform_id = _int("platform_id") if raw else None
        row_id = request.form.get("row_id", "")
        counted.append(
            administration.replay_grades(
                db(),
                platform_id=platform_id,
                row_ids=[int(row_id)] if row_id.isdigit() else None,
                actor=actor(),
            )
        )

    response = _act(change, "admin.grades_page", "replayed")
    if counted and response.status_code == 303:
        response.headers["Location"] = url_for(
            "admin.grades_page", done="replayed", count=counted[0]
        )
    return response


# --- refused launches and the audit log --------------------------------------------------


@bp.get("/refused")
def refused_page() -> tuple[str, int]:
    session = db()
    reference = request.args.get("reference", "").strip()[:64]
    found = refusals.find_refusal(session, reference) if reference else None
    return _render(
        "admin/refused.html",
        404 if reference and found is None else 200,
        reference=reference,
        found=found,
        recent=refusals.list_refusals(session, 50),
        retention_days=refusals.RETENTION.days,
    )


@bp.get("/audit")
def audit_page() -> tuple[str, int]:
    return _render("admin/audit.html", entries=operators.list_audit(db(), 200))
