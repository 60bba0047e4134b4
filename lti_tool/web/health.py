"""Liveness and readiness for load balancers and the demo runner."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from lti_tool.store.outbox import count_rows
from lti_tool.web.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    session = db()
    session.execute(text("SELECT 1"))
    counts = count_rows(session)
    lag = 0.0
    if counts.oldest_pending_at is not None:
        lag = (datetime.now(UTC) - counts.oldest_pending_at).total_seconds()
    return jsonify(
        status="ok",
        outbox={
            "pending": counts.pending,
            "sent": counts.sent,
            "dead": counts.dead,
            "lag_seconds": round(lag, 1),
        },
    ), 200
