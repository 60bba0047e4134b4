"""Errors raised by the xapi package: one base class, one subclass per failure kind."""

from __future__ import annotations


class XapiError(Exception):
    """Raised when anything in the xapi package fails; catch this to catch them all."""


class StatementError(XapiError, ValueError):
    """Raised when a learning event cannot become a valid xAPI 1.0.3 statement."""


class LRSError(XapiError):
    """Raised when the LRS answers a read in a way we cannot use (not for posting, which
    returns an outcome instead so the caller can decide whether to retry)."""
