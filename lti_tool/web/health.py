"""Health endpoints: a public liveness/readiness check, and delivery details for operators.

``/healthz`` is for load balancers and anyone: alive, database reachable, nothing more.
``/healthz/delivery`` names the LRS destinations with their backlog, breaker and last error,
which outsiders have no business reading: it answers a direct loopback request or one
carrying the operator token (CXA_OPERATOR_TOKEN), nothing else.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lti_tool.store.outbox import database_now, list_destination_status
from lti_tool.web.db import db, services

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

#: Headers a reverse proxy adds. A proxy on the same host connects from loopback, so a
#: request that carries any of them came from somewhere else and is not a local operator,
#: whatever address the headers claim (they are the client's to forge).
_FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 while the database answers, 503 when it does not. Delivery trouble is not
    reported here: an LRS outage must not take the tool out of its load balancer."""
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        log.warning("health check: database unreachable: %s", err)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/healthz/delivery")
def delivery_details() -> tuple[Response, int]:
    """Per-destination backlog, lag, breaker and last error, for operators only."""
    refusal = _operator_refusal()
    if refusal is not None:
        return refusal
    session = db()
    now = database_now(session)  # the clock created_at was stamped with
    statuses = list_destination_status(session)
    configured = {d.name for d in services().settings.destinations}
    problems = []
    destinations = {}
    for d in statuses:
        circuit_open = d.circuit_open(now)
        destinations[d.name] = {
            # None: this web process has no LRS settings (the workers may still have them).
            "configured": (d.name in configured) if configured else None,
            "enabled": d.enabled,
            "pending": d.pending,
            "dead": d.dead,
            "conflicts": d.conflicts,
            "lag_seconds": round(d.lag_seconds(now), 1),
            "circuit": "open" if circuit_open else "closed",
            "open_until": d.open_until.isoformat() if circuit_open and d.open_until else None,
            "consecutive_failures": d.consecutive_failures,
            "last_success_at": d.last_success_at.isoformat() if d.last_success_at else None,
            "last_error": d.last_error,
        }
        if d.pending and not d.enabled:
            problems.append(
                f"{d.pending} statements wait for {d.name!r}, which is not configured: a "
                "worker re-routes them to the configured destinations at its next sweep; "
                "if this persists, no worker is running (docs/decisions/0004)"
            )
        if circuit_open:
            problems.append(f"{d.name!r} is paused after a failure: {d.last_error}")
    body = {
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "outbox": {
            "pending": sum(d.pending for d in statuses),
            "dead": sum(d.dead for d in statuses),
            "conflicts": sum(d.conflicts for d in statuses),
            "lag_seconds": round(max((d.lag_seconds(now) for d in statuses), default=0.0), 1),
            "destinations": destinations,
        },
    }
    return jsonify(body), 200


def _operator_refusal() -> tuple[Response, int] | None:
    """None when the request may read operator details; otherwise the answer to give."""
    token = services().settings.operator_token
    presented = request.headers.get("Authorization", "")
    if presented:
        scheme, _, credential = presented.partition(" ")
        if (
            token
            and scheme.lower() == "bearer"
            and hmac.compare_digest(credential.strip().encode(), token.encode())
        ):
            return None
        return _refuse(401, "the operator token is wrong", token)
    if _direct_loopback():
        return None
    return _refuse(
        401 if token else 403,
        "operator details answer loopback requests"
        + (" or the operator token" if token else "; set CXA_OPERATOR_TOKEN for remote access"),
        token,
    )


def _direct_loopback() -> bool:
    if any(header in request.headers for header in _FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _refuse(status: int, reason: str, token: str) -> tuple[Response, int]:
    response = jsonify(error=reason)
    if status == 401 and token:
        # RFC 6750 3: tell the client which scheme would work.
        response.headers["WWW-Authenticate"] = 'Bearer realm="cx-academy-operator"'
    return response, status
