"""Access tokens for LTI Advantage services (AGS, NRPS), cached in the state store.

pylti1p3 signs the client assertion and asks the platform's token endpoint; we supply the
cache it leaves abstract, keyed per registration: its own key covers issuer and scopes
only, so two registrations of one LMS would share a token.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import requests
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from lti_tool.lti.state import StateStore

# Renew this long before the platform's expiry, so a token never runs out mid-call.
EXPIRY_MARGIN_SECONDS = 60


class CachedServiceConnector(ServiceConnector):
    def __init__(
        self,
        registration: Registration,
        store: StateStore,
        requests_session: requests.Session | None = None,
    ) -> None:
        super().__init__(registration, requests_session)
        self._store = store

    def _scope_key(self, scopes: Iterable[str]) -> str:
        return f"service-token:{self._registration.get_client_id()}:{super()._scope_key(scopes)}"

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return self._store.get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        ttl = int(expires_in) - EXPIRY_MARGIN_SECONDS
        if ttl > 0:
            self._store.put(scope_key, access_token, ttl)

    def get_token(self, scopes: Sequence[str], renew: bool = False) -> str:
        """A token for ``scopes``; ``renew`` drops the cached one first (the platform
        refused it before its expiry, e.g. after revoking it)."""
        if renew:
            self._store.take(self._scope_key(sorted(scopes)))
        return self.get_access_token(scopes)


class TimeoutSession(requests.Session):
    """A requests session that never waits forever: pylti1p3 posts to the token endpoint
    without a timeout, and a silent platform would otherwise hold a worker for good."""

    def __init__(self, timeout: tuple[float, float] = (3.05, 15.0)) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)
