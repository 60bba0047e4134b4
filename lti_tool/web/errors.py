"""Every error becomes a plain-words page with a reference id and one log line with the reason."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from lti_tool.errors import ToolError

log = logging.getLogger("lti_tool.errors")

HINTS = {
    405: "This address does not accept that kind of request. If you came from your LMS, "
    "please open the activity from your course again.",
    404: "There is nothing at this address.",
    413: "What you sent is too large.",
    429: "Too many requests came from here in a short time. Please wait a minute and open "
    "the activity again from your course.",
}


def _page(status: int, title: str, message: str, reason: str) -> tuple[str, int]:
    reference = uuid.uuid4().hex[:12]
    log.warning(
        "refused %s %s: status=%s ref=%s reason=%s",
        request.method,
        request.path,
        status,
        reference,
        reason,
    )
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

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> tuple[str, int]:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _page(
            500,
            "Something went wrong on our side",
            "Nothing you did caused this. Please try again in a moment.",
            repr(err),
        )
