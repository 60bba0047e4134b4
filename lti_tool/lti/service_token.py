"""Access tokens for LTI Advantage services (AGS, NRPS), cached in the state store.

pylti1p3 signs the client assertion and asks the platform's token endpoint; we supply the
cache it leaves abstract, keyed per registration: its own key covers issuer and scopes
only, so two registrations of one LMS would share a token.
"""

from __future__ import annotations

from collections.abc import Iterable

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
