"""Invitations to register by LTI Dynamic Registration, and deployments awaiting approval.

Flush, never commit: the request or the command owns the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.errors import RegistrationError
from lti_tool.store.models import (
    Deployment,
    PendingDeployment,
    Platform,
    PlatformState,
    RegistrationInvitation,
    utcnow,
)


class InvitationError(RegistrationError):
    """Raised when a registration invitation is unknown, expired or already used."""

    status = 403
    title = "This registration link cannot be used"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewInvitation:
    invitation: RegistrationInvitation
    #: The secret part of the registration URL; only its hash is stored.
    token: str


def create_invitation(
    session: Session,
    *,
    lifetime: timedelta,
    name: str | None = None,
    auto_approve_deployments: bool = False,
    now: datetime | None = None,
) -> NewInvitation:
    if lifetime <= timedelta(0):
        raise RegistrationError("an invitation must last longer than zero seconds")
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    invitation = RegistrationInvitation(
        token_hash=_hash(token),
        name=(name or "").strip() or None,
        auto_approve_deployments=auto_approve_deployments,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(invitation)
    session.flush()
    return NewInvitation(invitation, token)


def require_usable_invitation(
    session: Session, token: str, *, now: datetime | None = None
) -> RegistrationInvitation:
    """The invitation ``token`` names, if it may still be used; InvitationError otherwise."""
    now = now or utcnow()
    found = session.scalar(
        select(RegistrationInvitation).where(RegistrationInvitation.token_hash == _hash(token))
    )
    if found is None:
        raise InvitationError("This registration link is not one CX Academy issued.")
    if found.used_at is not None:
        raise InvitationError(
            "This registration link was already used. Ask the CX Academy operator for a new "
            "one (`cxa platform invite`)."
        )
    if found.expires_at <= now:
        raise InvitationError(
            "This registration link has expired. Ask the CX Academy operator for a new one "
            "(`cxa platform invite`)."
        )
    return found


def spend_invitation(
    session: Session,
    invitation: RegistrationInvitation,
    platform: Platform,
    *,
    now: datetime | None = None,
) -> None:
    """Mark the invitation used by ``platform``; InvitationError if another use won the race."""
    now = now or utcnow()
    # A conditional update, so two registrations racing on one link cannot both succeed.
    result = session.execute(
        update(RegistrationInvitation)
        .where(RegistrationInvitation.id == invitation.id)
        .where(RegistrationInvitation.used_at.is_(None))
        .values(used_at=now, platform_id=platform.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InvitationError("This registration link was already used.")
    session.refresh(invitation)


def list_invitations(session: Session) -> list[RegistrationInvitation]:
    return list(session.scalars(select(RegistrationInvitation).order_by(RegistrationInvitation.id)))


def record_pending_deployment(
    session: Session,
    platform: Platform,
    deployment_id: str,
    *,
    context_id: str | None,
    context_title: str | None,
    platform_name: str | None,
    now: datetime | None = None,
) -> PendingDeployment:
    """Remember a launch's unknown deployment (once per deployment, counting launches)."""
    now = now or utcnow()
    found = session.scalar(
        select(PendingDeployment)
        .where(PendingDeployment.platform_id == platform.id)
        .where(PendingDeployment.deployment_id == deployment_id)
    )
    if found is None:
        found = PendingDeployment(
            platform_id=platform.id,
            deployment_id=deployment_id,
            context_id=(context_id or None) and context_id[:255],
            context_title=(context_title or None) and context_title[:500],
            platform_name=(platform_name or None) and platform_name[:500],
            launches=1,
            first_seen_at=now,
            last_seen_at=now,
        )
        session.add(found)
    else:
        found.launches += 1
        found.last_seen_at = now
    session.flush()
    return found


def list_pending_deployments(session: Session) -> list[PendingDeployment]:
    return list(session.scalars(select(PendingDeployment).order_by(PendingDeployment.id)))


def approve_deployment(session: Session, platform: Platform, deployment_id: str) -> Deployment:
    """Accept launches from this deployment from now on; its pending record goes."""
    if any(d.deployment_id == deployment_id for d in platform.deployments):
        raise RegistrationError(f"deployment id {deployment_id} is already approved")
    pending = session.scalar(
        select(PendingDeployment)
        .where(PendingDeployment.platform_id == platform.id)
        .where(PendingDeployment.deployment_id == deployment_id)
    )
    if pending is None:
        raise RegistrationError(
            f"platform {platform.id} has no pending deployment {deployment_id!r} "
            "(see `cxa platform pending`)"
        )
    session.delete(pending)
    deployment = Deployment(deployment_id=deployment_id)
    platform.deployments.append(deployment)
    session.flush()
    return deployment


def set_state(session: Session, platform: Platform, state: PlatformState) -> None:
    platform.state = state
    session.flush()
