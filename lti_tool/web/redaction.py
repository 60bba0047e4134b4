"""Keeps learner session tokens out of every log line: ours and gunicorn's.

The token in ``/s/<token>/`` grants the session to whoever holds it (decision 0001), so a
log line must never carry it. Each occurrence becomes ``/s/~<ref>``, where ``<ref>`` is the
first 12 hex characters of the session id (the SHA-256 of the token): enough to correlate
lines, to find the session, and to revoke it (`cxa sessions revoke --session <ref>`), but
useless as a credential.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from lti_tool.store.sessions import MIN_REFERENCE_LENGTH, session_id_of

# Anything after /s/ up to the next path, query, fragment or field boundary (a colon ends
# the path in our refusal lines): in a request line, a path, a Referer URL or an exception
# message alike. Junk is hashed too: it may be a mangled real token.
_SESSION_PATH = re.compile(r"/s/([^/?#:\s\"'<>]+)")


# An unused registration invitation (decision 0012) is a credential too: it lets an LMS
# register. Logs keep the start of its SHA-256, which is what the database stores.
_INVITATION_PATH = re.compile(r"/lti/register/([^/?#:\s\"'<>]+)")


def session_reference(token: str) -> str:
    """What logs show for a token: the start of its session id."""
    return session_id_of(token)[:MIN_REFERENCE_LENGTH]


def redact(text: str) -> str:
    """``text`` with every session token (and invitation) replaced by its reference."""
    text = _SESSION_PATH.sub(lambda m: f"/s/~{session_reference(m.group(1))}", text)
    return _INVITATION_PATH.sub(
        lambda m: f"/lti/register/~{hashlib.sha256(m.group(1).encode()).hexdigest()[:12]}", text
    )


class RedactSessionTokens(logging.Filter):
    """A logging filter that rewrites the message (and traceback) of each record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def add_redaction(logger: logging.Logger) -> None:
    """Redact what ``logger`` itself logs (logger filters do not see records of its children)."""
    if not any(isinstance(f, RedactSessionTokens) for f in logger.filters):
        logger.addFilter(RedactSessionTokens())


class RedactingGunicornLogger(Logger):
    """gunicorn's logger with tokens redacted from its access and error logs.

    gunicorn logs the raw request line, path and Referer, and "Error handling request <uri>"
    on a crashed request; select it with ``logger_class`` (deploy/gunicorn.conf.py).
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # After super(): a logconfig_dict applied there must not drop the filter.
        add_redaction(self.error_log)
        add_redaction(self.access_log)
