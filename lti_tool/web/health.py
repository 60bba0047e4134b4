"""Liveness and readiness for load balancers and the demo runner, with delivery health."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from lti_tool.store.models import utcnow
from lti_tool.store.outbox import list_destination_status
from lti_tool.web.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 while the database answers. Delivery trouble is reported, not failed on: an LRS
    outage must not take the tool out of its load balancer, learners keep working."""
    session = db()
    session.execute(text("SELECT 1"))
    now = utcnow()
    statuses = list_destination_status(session)
    destinations = {
        d.name: {
            "enabled": d.enabled,
            "pending": d.pending,
            "dead": d.dead,
            "lag_seconds": round(d.lag_seconds(now), 1),
            "circuit": "open" if d.circuit_open(now) else "closed",
            "consecutive_failures": d.consecutive_failures,
            "last_success_at": d.last_success_at.isoformat() if d.last_success_at else None,
        }
        for d in statuses
    }
    return jsonify(
        status="ok",
        outbox={
            "pending": sum(d.pending for d in statuses),
            "dead": sum(d.dead for d in statuses),
            "lag_seconds": round(max((d.lag_seconds(now) for d in statuses), default=0.0), 1),
            "destinations": destinations,
        },
    ), 200
