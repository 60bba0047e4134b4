"""The learner's session after a launch, carried in the URL rather than a cookie.

LMSs show tools in iframes where browsers increasingly block third-party cookies, so
each page URL carries a random token naming a server-side session row, which names the
launch (issuer, sub, context and roles live on the launch row). The row is what makes a
session revocable and lets it end when idle (decision 0005). Pages send
``Referrer-Policy: same-origin`` and ``Cache-Control: no-store`` so the token leaks neither
to other sites nor into caches, and log lines show a hash of it (web/redaction.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, g, request
from werkzeug.wrappers import Response

from lti_tool.errors import NotLaunchedError
from lti_tool.store.models import Launch
from lti_tool.store.sessions import add_session, get_session, session_id_of, touch_session
from lti_tool.web.db import db, services

# What secrets.token_urlsafe(32) makes: 32 random bytes. Anything else is refused before
# the database is asked.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")

_ENDED = "Your session has ended. Open CX Academy from your course again."


def issue_token(launch: Launch) -> str:
    """Start a session for ``launch`` (in the request's transaction); returns its URL token."""
    settings = services().settings
    token = secrets.token_urlsafe(32)
    add_session(
        db(),
        launch,
        session_id_of(token),
        now=datetime.now(UTC),
        lifetime=timedelta(seconds=settings.session_max_seconds),
    )
    return token


def require_launch(token: str) -> Launch:
    """The launch the token names; NotLaunchedError if it is forged, ended or unknown."""
    if not _TOKEN_SHAPE.match(token):
        raise NotLaunchedError("This link is not a valid CX Academy session.")
    session = db()
    record = get_session(session, session_id_of(token))
    if record is None:
        raise NotLaunchedError(
            "This session no longer exists. Open CX Academy from your course again."
        )
    now = datetime.now(UTC)
    idle = timedelta(seconds=services().settings.session_idle_seconds)
    if record.revoked_at is not None or now >= record.expires_at:
        raise NotLaunchedError(_ENDED)
    if now - record.last_seen_at >= idle:
        raise NotLaunchedError(_ENDED)
    if touch_session(session, record, now):
        # Its own small transaction, before the view's work: an ordinary page view (which
        # never commits) must still count as activity.
        session.commit()
    g.launch_token = token
    return record.launch


def csrf_token(token: str) -> str:
    """A per-session form token: forms must prove they were rendered by us for this session."""
    key = services().settings.secret_key.encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def check_csrf(token: str, submitted: str | None) -> bool:
    # Compare bytes: compare_digest raises TypeError on a str with non-ASCII characters, and
    # a stranger's junk must be refused like any wrong token, not crash the request.
    if submitted is None:
        return False
    return hmac.compare_digest(
        csrf_token(token).encode(), submitted.encode("utf-8", "surrogatepass")
    )


def _no_store(response: Response) -> Response:
    # The token is in every session URL: no shared or browser cache may keep these pages
    # (RFC 9111 5.2.2.5), whatever their status.
    if request.path.startswith("/s/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_no_store)
