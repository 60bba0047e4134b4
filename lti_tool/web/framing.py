"""Who may show the tool in a frame: the registered platforms (CSP frame-ancestors).

Read on every response, so it is kept per process and rebuilt when a registration changes
in this process, and at least once a minute for changes made elsewhere (``cxa platform``
runs in its own process).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.store.models import Platform
from lti_tool.store.platforms import list_platforms

log = logging.getLogger(__name__)

#: Seconds a process trusts its list before reading the registrations again.
REFRESH_SECONDS = 60.0

# Canvas Cloud's issuer (canvas[.beta|.test].instructure.com) is not where it frames tools:
# each institution has its own <name>.instructure.com host.
_CANVAS_CLOUD_SUFFIX = ".instructure.com"
_CANVAS_CLOUD_FRAMES = "https://*.instructure.com"

_generation = 0
_generation_lock = threading.Lock()


def _registrations_changed(*_: Any) -> None:
    global _generation
    with _generation_lock:
        _generation += 1


# Any insert, update or delete of a registration in this process makes every cache stale.
for _change in ("after_insert", "after_update", "after_delete"):
    event.listen(Platform, _change, _registrations_changed)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class Registrations:
    """What the web edge needs of the registrations on every request."""

    #: CSP sources allowed to frame the tool.
    frame_sources: tuple[str, ...]
    #: Issuers of registered platforms (the rate limiter's per-platform keys).
    issuers: frozenset[str]

    @property
    def frame_ancestors(self) -> str:
        return " ".join(("'self'", *self.frame_sources))


def registrations_of(platforms: list[Platform], extra: str) -> Registrations:
    sources: list[str] = []
    for platform in platforms:
        for url in (platform.issuer, platform.auth_login_url):
            origin = _origin(url)
            if origin and origin not in sources:
                sources.append(origin)
        host = urlsplit(platform.issuer).hostname or ""
        if host.endswith(_CANVAS_CLOUD_SUFFIX) and _CANVAS_CLOUD_FRAMES not in sources:
            sources.append(_CANVAS_CLOUD_FRAMES)
    for source in extra.split():
        if source not in sources:
            sources.append(source)
    return Registrations(tuple(sources), frozenset(p.issuer for p in platforms))


class RegistrationCache:
    """Registrations read at most once a minute per process, and again after a change."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        extra: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._extra = extra
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Registrations | None = None
        self._read_at = 0.0
        self._read_generation = -1

    def current(self) -> Registrations:
        with self._lock:
            stale = (
                self._value is None
                or self._read_generation != _generation
                or self._clock() - self._read_at >= REFRESH_SECONDS
            )
            if stale:
                self._refresh()
            assert self._value is not None
            return self._value

    def _refresh(self) -> None:
        generation = _generation
        try:
            with self._sessions() as session:
                value = registrations_of(list_platforms(session), self._extra)
        except SQLAlchemyError:
            # A database hiccup must not turn every response into a 500: keep what we had
            # (or allow no one else), and try again on the next request.
            log.warning("could not read platform registrations for frame-ancestors", exc_info=True)
            if self._value is None:
                self._value = registrations_of([], self._extra)
            return
        self._value = value
        self._read_at = self._clock()
        self._read_generation = generation
