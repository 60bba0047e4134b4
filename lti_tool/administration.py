"""What an operator can change, shared by `cxa` and the console at /admin: each function
checks its input, calls the store, and writes the audit row (who, what, to what, when) in
the caller's transaction, so the two ways of doing a thing cannot drift apart.

``actor`` names who acted: "console:<operator>" or "cli:<system user>".
"""

from __future__ import annotations

import getpass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.egress import EgressPolicy
from lti_tool.errors import ToolError
from lti_tool.store import grades, keys, outbox, platforms, registrations
from lti_tool.store.models import Platform, PlatformState
from lti_tool.store.operators import audit


class AdministrationError(ToolError):
    """Raised when an operator's request names something that does not exist or cannot be
    done; nothing was changed."""

    title = "Not changed"


def cli_actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers with a bare uid)
        return "cli:unknown"


def console_actor(operator_name: str) -> str:
    return "console:" + operator_name


# --- registrations ----------------------------------------------------------------------


def add_platform(
    session: Session, settings: Settings, spec: platforms.PlatformSpec, *, actor: str
) -> Platform:
    created = platforms.add_platform(session, spec, egress=EgressPolicy.from_settings(settings))
    audit(
        session,
        actor,
        "platform.add",
        f"platform {created.id}",
        {"name": created.name, "issuer": created.issuer, "client_id": created.client_id},
    )
    return created


def set_actor_format(session: Session, platform_id: int, choice: str, *, actor: str) -> None:
    found = platforms.require_platform_by_id(session, platform_id)
    platforms.set_actor_format(session, found, choice)
    audit(session, actor, "platform.actor_format", f"platform {platform_id}", {"value": choice})


def set_actor_name(session: Session, platform_id: int, choice: str, *, actor: str) -> None:
    found = platforms.require_platform_by_id(session, platform_id)
    platforms.set_actor_name(session, found, choice)
    audit(session, actor, "platform.actor_name", f"platform {platform_id}", {"value": choice})


def add_deployment(session: Session, platform_id: int, deployment_id: str, *, actor: str) -> None:
    found = platforms.require_platform_by_id(session, platform_id)
    platforms.add_deployment(session, found, deployment_id)
    audit(
        session, actor, "deployment.add", f"platform {platform_id}", {"deployment": deployment_id}
    )


def approve_deployment(
    session: Session, platform_id: int, deployment_id: str, *, actor: str
) -> None:
    found = platforms.require_platform_by_id(session, platform_id)
    registrations.approve_deployment(session, found, deployment_id)
    audit(
        session,
        actor,
        "deployment.approve",
        f"platform {platform_id}",
        {"deployment": deployment_id},
    )


def set_platform_state(
    session: Session, platform_id: int, state: PlatformState, *, actor: str
) -> None:
    """Activate a registration, or disable it: a pending registration's launches wait
    with the "waiting for approval" page, and nothing of it is deleted."""
    found = platforms.require_platform_by_id(session, platform_id)
    registrations.set_state(session, found, state)
    audit(session, actor, "platform.state", f"platform {platform_id}", {"value": state.value})


def remove_platform(session: Session, platform_id: int, *, actor: str) -> None:
    found = platforms.require_platform_by_id(session, platform_id)
    detail = {"name": found.name, "issuer": found.issuer, "client_id": found.client_id}
    platforms.remove_platform(session, platform_id)
    audit(session, actor, "platform.remove", f"platform {platform_id}", detail)


def invite(
    session: Session,
    *,
    lifetime: timedelta,
    name: str | None,
    auto_approve_deployments: bool,
    actor: str,
) -> registrations.NewInvitation:
    created = registrations.create_invitation(
        session, lifetime=lifetime, name=name, auto_approve_deployments=auto_approve_deployments
    )
    # Never the token: the audit log must not hold a usable registration URL.
    audit(
        session,
        actor,
        "invitation.create",
        f"invitation {created.invitation.id}",
        {
            "name": created.invitation.name,
            "expires_at": created.invitation.expires_at.isoformat(timespec="minutes"),
            "auto_approve_deployments": auto_approve_deployments,
        },
    )
    return created


# --- keys -------------------------------------------------------------------------------


def rotate_keys(
    session: Session,
    settings: Settings,
    *,
    publish_lead: timedelta,
    force: bool,
    actor: str,
) -> keys.RotationStep:
    keys.ensure_active_key(session, settings.key_encryption_secret)
    step = keys.rotate_keys(
        session,
        settings.key_encryption_secret,
        publish_lead=publish_lead,
        overlap=timedelta(seconds=settings.key_overlap_seconds),
        force=force,
    )
    audit(
        session,
        actor,
        "keys.rotate",
        step.kid,
        {"step": step.action, "force": force, "retired": list(step.retired)},
    )
    return step


# --- deliveries -------------------------------------------------------------------------


def replay_statements(
    session: Session,
    *,
    destination: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    error_contains: str | None = None,
    actor: str,
) -> int:
    if since is not None and until is not None and since >= until:
        raise AdministrationError(f"'since' ({since:%Y-%m-%d %H:%M}) must be before 'until'")
    if destination is not None:
        known = {d.name for d in outbox.list_destination_status(session)}
        if destination not in known:
            raise AdministrationError(
                f"no destination named {destination!r} in the outbox "
                f"({', '.join(sorted(known)) or 'none'})"
            )
    count = outbox.replay_dead(
        session,
        destination=destination,
        since=since,
        until=until,
        error_contains=error_contains,
    )
    audit(
        session,
        actor,
        "outbox.replay",
        destination or "all destinations",
        {
            "count": count,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "error_contains": error_contains,
        },
    )
    return count


def replay_grades(
    session: Session,
    *,
    platform_id: int | None,
    error_contains: str | None = None,
    row_ids: list[int] | None = None,
    actor: str,
) -> int:
    if platform_id is not None and platforms.get_platform_by_id(session, platform_id) is None:
        raise AdministrationError(f"no platform with id {platform_id} (see `cxa platform list`)")
    count = grades.replay_dead(
        session, platform_id=platform_id, error_contains=error_contains, row_ids=row_ids
    )
    audit(
        session,
        actor,
        "grades.replay",
        f"platform {platform_id}" if platform_id is not None else "all platforms",
        {"count": count, "error_contains": error_contains, "ids": row_ids},
    )
    return count
