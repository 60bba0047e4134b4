"""Remembers refused launches (reference id, reason, claimed issuer, client and deployment)
so the operator console can find one by the reference id the person saw. Never the id_token.
"""

from __future__ import annotations

import logging

from flask import g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from lti_tool.lti.launch import CLAIM
from lti_tool.store.db import transaction
from lti_tool.store.refusals import record_refusal
from lti_tool.web.db import services
from lti_tool.web.limits import LIMITED_ENDPOINTS, unverified_token_body

log = logging.getLogger(__name__)

#: A rate-limit refusal says nothing an operator can act on per launch, and recording each
#: would let a flood write as fast as it is refused.
_NOT_RECORDED = frozenset({429})


def _claimed() -> tuple[object, object, object]:
    """Issuer, client id and deployment the request claims; from the login's parameters or
    the id_token's unverified body (the refusal may be that it did not verify)."""
    if request.endpoint == "lti.login":
        values = request.values
        return values.get("iss"), values.get("client_id"), values.get("lti_deployment_id")
    body = unverified_token_body(request.form.get("id_token", ""))
    if body is None:
        return None, None, None
    audience = body.get("aud")
    if isinstance(audience, list):
        audience = body.get("azp") or (audience[0] if len(audience) == 1 else None)
    return body.get("iss"), audience, body.get(CLAIM + "deployment_id")


def remember_refusal(reference: str, status: int, reason: str) -> None:
    if request.endpoint not in LIMITED_ENDPOINTS or status in _NOT_RECORDED:
        return
    try:
        issuer, client_id, deployment_id = _claimed()
    except HTTPException:
        # The body itself was the problem (too large, malformed): record without claims.
        issuer = client_id = deployment_id = None
    request_session = g.get("db")
    if request_session is not None:
        # The refused request's own work is abandoned anyway; ending its transaction now
        # frees SQLite's write lock for the record below.
        request_session.rollback()
    try:
        # Its own transaction: the request's session may be the thing that failed.
        with transaction(services().sessions) as session:
            record_refusal(
                session,
                reference=reference,
                status=status,
                endpoint=request.endpoint or "",
                reason=reason,
                issuer=issuer,
                client_id=client_id,
                deployment_id=deployment_id,
            )
    except SQLAlchemyError as err:
        # The person still gets the error page; the log line keeps the reason.
        log.warning("refused launch %s not recorded: %r", reference, err)
