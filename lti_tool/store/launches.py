"""Queries for launch records. Never commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.store.models import Launch, Platform, utcnow


def add_launch(
    session: Session,
    platform: Platform,
    *,
    deployment_id: str,
    sub: str,
    message_type: str,
    roles: list[str],
    claims: dict[str, Any],
    name: str | None = None,
    email: str | None = None,
    context_id: str | None = None,
    context_title: str | None = None,
    resource_link_id: str | None = None,
    resource_link_title: str | None = None,
    locale: str | None = None,
) -> Launch:
    # Id, owner and time are set here rather than at the flush, so the launch's session and
    # statement can refer to it and all of its rows go out in the request's one flush.
    launch = Launch(
        id=uuid.uuid4(),
        platform=platform,
        platform_id=platform.id,
        created_at=utcnow(),
        deployment_id=deployment_id,
        sub=sub,
        message_type=message_type,
        roles=roles,
        claims=claims,
        name=name,
        email=email,
        context_id=context_id,
        context_title=context_title,
        resource_link_id=resource_link_id,
        resource_link_title=resource_link_title,
        locale=locale,
    )
    session.add(launch)
    return launch


def get_launch(session: Session, launch_id: uuid.UUID) -> Launch | None:
    return session.get(Launch, launch_id)
