"""Queries for launch records. Never commit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from lti_tool.store.db import attach_inserted
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
    if platform.id is None:  # added in this transaction and not written yet
        session.flush()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "platform_id": platform.id,
        "created_at": utcnow(),
        "deployment_id": deployment_id,
        "sub": sub,
        "message_type": message_type,
        "roles": roles,
        "claims": claims,
        "name": name,
        "email": email,
        "context_id": context_id,
        "context_title": context_title,
        "resource_link_id": resource_link_id,
        "resource_link_title": resource_link_title,
        "locale": locale,
    }
    # A Core insert on the session's connection: the ORM's unit of work for the launch and
    # session rows cost the id_token POST about 0.8 ms more CPU (issue 12).
    session.connection().execute(_INSERT_LAUNCH, values)
    return attach_inserted(session, Launch(**values, platform=platform))


_INSERT_LAUNCH = insert(Launch)


def get_launch(session: Session, launch_id: uuid.UUID) -> Launch | None:
    return session.get(Launch, launch_id)
