"""Every error becomes a plain-words page with a reference id and one log line with the reason."""

from __future__ import annotations

import logging
import uuid

import redis
from flask import Flask, render_template, request
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from lti_tool.errors import ToolError
from lti_tool.web.redaction import add_redaction
from lti_tool.web.refusals import remember_refusal

log = logging.getLogger("lti_tool.errors")
# Refusals and crashes name the request path, which may hold a session token.
add_redaction(log)

HINTS = {
    405: "This address does not accept that kind of request. If you came from your LMS, "
    "please open the activity from your course again.",
    404: "There is nothing at this address.",
    413: "What you sent is too large.",
    429: "Too many requests came from here in a short time. Please wait a minute and open "
    "the activity again from your course.",
}


#: Seconds a client is asked to wait when a service we depend on is down (RFC 9110 10.2.3).
RETRY_AFTER_SECONDS = 30

# A service the request needs is down or silent: the database (connection refused or timed
# out, pool exhausted) or the Redis state store. Nothing is wrong with the request.
UNAVAILABLE = (OperationalError, PoolTimeoutError, redis.ConnectionError, redis.TimeoutError)


def _page(
    status: int, title: str | LazyString, message: str, reason: str, *, record: bool = True
) -> tuple[str, int]:
    reference = uuid.uuid4().hex[:12]
    log.warning(
        "refused %s %s: status=%s ref=%s reason=%s",
        request.method,
        request.path,
        status,
        reference,
        reason,
    )
    if record:
        remember_refusal(reference, status, reason)
    body = render_template(
        "error.html", status=status, title=title, message=message, reference=reference
    )
    return body, status


def init_app(app: Flask) -> None:
    @app.errorhandler(ToolError)
    def tool_error(err: ToolError) -> tuple[str, int]:
        return _page(err.status, err.title, str(err), f"{type(err).__name__}: {err}")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[str, int]:
        status = err.code or 500
        message = HINTS.get(status, err.description or "")
        return _page(status, err.name, message, err.description or err.name)

    def unavailable(err: Exception) -> tuple[str, int, dict[str, str]]:
        log.error("service unavailable on %s %s: %r", request.method, request.path, err)
        body, status = _page(
            503,
            "CX Academy is briefly unavailable",
            "A service we rely on is not answering. Nothing you did caused this; please try "
            "again in a moment.",
            repr(err),
            # The database is what is down: nothing could be recorded.
            record=False,
        )
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    for error in UNAVAILABLE:
        app.register_error_handler(error, unavailable)

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> tuple[str, int]:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _page(
            500,
            "Something went wrong on our side",
            "Nothing you did caused this. Please try again in a moment.",
            repr(err),
        )
