"""Errors of the badges package."""

from __future__ import annotations

from lti_tool.errors import ToolError


class BadgeError(ToolError):
    """Raised when a badge cannot be issued, signed, read or revoked as asked."""


class CredentialInvalidError(BadgeError):
    """Raised when a credential's signature or its VC-JWT claims do not check out."""


class BakingError(BadgeError):
    """Raised when an image cannot carry (or does not carry) a credential."""
