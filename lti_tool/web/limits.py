"""Rate limits on the LTI entry points, per client address and per platform (Flask-Limiter).

Counters live in Redis in production (the launch state store), in memory in the embedded
default. A refused request gets 429 with Retry-After and the usual error page.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter

from lti_tool.config import Settings
from lti_tool.lti.state import redis_identity

#: The endpoints a stranger can reach without a session.
LIMITED_ENDPOINTS = ("lti.login", "lti.launch", "lti.confirm")
UNREGISTERED = "unregistered"

log = logging.getLogger(__name__)


def client_address() -> str:
    # With CXA_PROXY_HOPS set, ProxyFix has already put the client's address here.
    return request.remote_addr or "unknown"


def unverified_token_body(token: str) -> dict[str, Any] | None:
    """The id_token's claims, unverified: only to pick a counter or describe a refusal,
    never to trust."""
    try:
        payload = token.split(".")[1]
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _issuer_of_token(token: str) -> str | None:
    body = unverified_token_body(token)
    issuer = body.get("iss") if body is not None else None
    return issuer if isinstance(issuer, str) else None


def platform_key(issuers: Callable[[], frozenset[str]]) -> Callable[[], str]:
    def key() -> str:
        if request.endpoint == "lti.login":
            issuer = request.values.get("iss")
        else:
            issuer = _issuer_of_token(request.form.get("id_token", ""))
        # Unknown issuers share one counter: made-up names cannot mint fresh budgets or
        # fill the store with keys.
        return "platform:" + (issuer if issuer in issuers() else UNREGISTERED)

    return key


def init_app(app: Flask, settings: Settings, issuers: Callable[[], frozenset[str]]) -> Limiter:
    # Bounded waits: a slow Redis must not hold launches (compare the state store).
    options: dict[str, Any] = (
        {"socket_timeout": 1, "socket_connect_timeout": 1, **redis_identity()}
        if settings.state_store_url
        else {}
    )
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri=settings.state_store_url or "memory://",
        storage_options=options,
        strategy="moving-window",
        # X-RateLimit-* on every answer would cost each LTI request one more round trip to
        # the counters; only a refusal says when to come back (Retry-After, below).
        headers_enabled=False,
        # Availability over strictness: if the counter store is down, launches still work.
        swallow_errors=True,
    )
    per_platform = platform_key(issuers)
    for endpoint in LIMITED_ENDPOINTS:
        view: Any = app.view_functions[endpoint]
        view = limiter.limit(settings.rate_limit_per_client, key_func=client_address)(view)
        view = limiter.limit(settings.rate_limit_per_platform, key_func=per_platform)(view)
        app.view_functions[endpoint] = view

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if response.status_code == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(_seconds_to_wait(limiter))
        return response

    return limiter


def _seconds_to_wait(limiter: Limiter) -> int:
    """When the limit this request broke lets the client in again (RFC 6585 section 4)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    try:
        return max(1, int(breached.reset_at - time.time()) + 1)
    except Exception as err:
        # The counters may be down (the limiter swallows that too): a full window is fair.
        log.warning("rate limit window unknown (%s); asking for a full window", err)
        return max(1, breached.limit.get_expiry())
