"""Refusals of the learner pages, each a ToolError the web edge turns into a 4xx page."""

from __future__ import annotations

from flask_babel import lazy_gettext

from lti_tool.errors import ToolError


class PageNotFoundError(ToolError):
    """Raised when a course, lesson, attempt or run does not exist or is not the learner's.

    Another learner's attempt answers exactly like a missing one, so ids cannot be probed.
    """

    status = 404
    title = lazy_gettext("Page not found")


class FormTokenError(ToolError):
    """Raised when a form arrives without the session's CSRF token or with a wrong one."""

    status = 403
    title = lazy_gettext("This form could not be accepted")


class BadFormError(ToolError):
    """Raised when a form is malformed: unknown fields, options never offered, oversized values."""

    status = 400
    title = lazy_gettext("We could not read what you sent")


class AlreadyFinishedError(ToolError):
    """Raised when an attempt, run or step is submitted again after it was already recorded."""

    status = 409
    title = lazy_gettext("Already recorded")


class NoAttemptsLeftError(ToolError):
    """Raised when a learner starts a quiz attempt after using every attempt allowed."""

    status = 409
    title = lazy_gettext("No attempts left")
