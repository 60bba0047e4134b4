"""Errors of the CX Academy tool, mapped to HTTP pages only at the web edge."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString


class ToolError(Exception):
    """Base class for every error the tool raises on purpose."""

    #: HTTP status the web edge answers with.
    status = 400
    #: Short title of the error page; the learner pages' are translated when rendered.
    title: str | LazyString = "Something went wrong"


class ConfigError(ToolError):
    """Raised when a setting is missing or invalid at start-up."""

    status = 500
    title = "The tool is misconfigured"


class LaunchError(ToolError):
    """Raised when an LTI message fails validation; the message says which check failed."""

    title = "This launch could not be accepted"


class RegistrationError(ToolError):
    """Raised when a platform registration is missing, duplicated or invalid."""

    title = "Unknown platform"


class NotLaunchedError(ToolError):
    """Raised when a page needs an LTI launch and the browser has none."""

    status = 401
    title = "Please open CX Academy from your course"


class ForbiddenError(ToolError):
    """Raised when the launched user's role does not allow the action."""

    status = 403
    title = "Not allowed"


class KeyStoreError(ToolError):
    """Raised when the tool's signing keys cannot be read, decrypted or rotated."""

    status = 500
    title = "Signing keys unavailable"


class AwaitingApprovalError(ToolError):
    """Raised when a launch comes from a registration or deployment an operator has not
    approved yet; the launch was genuine, so the page says to wait, not that it failed."""

    status = 403
    title = "Waiting for approval"


class BrandingError(ToolError):
    """Raised when a deployment's branding is invalid (a colour that fails contrast, a name
    too long) or names a registration that does not exist."""

    title = "Branding not accepted"
