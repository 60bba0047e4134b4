"""Platform key sets (JWK Sets): fetched with the bounded fetcher, cached in the state store.

The 1EdTech Security Framework ("Key Set URL") has the tool fetch a platform's public
keys from its key set URL, and fetch again when a token names a kid it does not know.
Launches are unauthenticated until the signature checks, so a stranger decides how often
we would fetch: each URL is fetched at most once per REFETCH_INTERVAL, and a failure is
remembered for as long, so a flood of forged launches, or launches while the platform is
down, cost the platform at most one request per interval.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from lti_tool.egress import EgressPolicy
from lti_tool.errors import LaunchError
from lti_tool.lti.platform_http import DEADLINE_SECONDS, PlatformFetchError, fetch_json
from lti_tool.lti.state import StateStore, shared

#: Seconds between two fetches of one key set URL, whatever asks for them.
REFETCH_INTERVAL = 10

_IN_FLIGHT = "fetching"
_FETCHED = "fetched"


def require_key_set(
    store: StateStore,
    url: str,
    kid: str,
    *,
    ttl: int,
    egress: EgressPolicy,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The platform's JWK Set, ideally one naming ``kid``; LaunchError if there is none.

    A cached set younger than ``ttl`` seconds that names ``kid`` is used as it is; otherwise
    the set is fetched again unless this URL was tried within REFETCH_INTERVAL, in which case
    the cached set (which may lack ``kid``: the caller then refuses the token) or the cached
    failure is the answer.
    """
    # The launch's store caches reads per request; every read here must see what other
    # requests' fetches have written by then (see _await_fetch).
    store = shared(store)
    now = clock()
    cached = _load(store.get(_set_key(url)))
    if cached is not None and now - cached["at"] < ttl and _names(cached["jwks"], kid):
        return dict(cached["jwks"])
    attempt = _load(store.get(_attempt_key(url))) if REFETCH_INTERVAL > 0 else None
    in_flight = attempt is not None and attempt.get("state") == _IN_FLIGHT
    if attempt is not None and in_flight and (cached is None or not _names(cached["jwks"], kid)):
        # Another request is fetching the set this launch needs (the first launches of a
        # class, or the first after a key rotation, arrive together): wait for it rather
        # than refuse a genuine launch. Bounded by the fetch's own deadline.
        attempt, cached = _await_fetch(store, url, attempt, cached, sleep)
    elif attempt is not None and (cached is None or not _names(cached["jwks"], kid)):
        # The set was read before the attempt: another request may have finished its fetch
        # in between (set stored, then attempt marked fetched). Read the set again, or a
        # genuine launch would be refused for a set that is already there.
        cached = _load(store.get(_set_key(url))) or cached
    if attempt is not None:
        if attempt.get("error"):
            if cached is not None and now - cached["at"] < ttl:
                return dict(cached["jwks"])
            raise LaunchError(_failure(attempt["error"]))
        if cached is not None:
            # Fetched within the interval (or being fetched by another process right now):
            # this set is at most seconds old.
            return dict(cached["jwks"])
        raise LaunchError(_failure(f"{url} is being fetched by another request"))
    _remember_attempt(store, url, {"state": _IN_FLIGHT})
    try:
        jwks = _fetch(url, egress)
    except PlatformFetchError as err:
        _remember_attempt(store, url, {"state": _FETCHED, "error": str(err)})
        raise LaunchError(_failure(str(err))) from err
    # Kept a little past its ttl, so launches racing a refetch still find the last good set.
    keep = max(ttl, 1) + REFETCH_INTERVAL + int(DEADLINE_SECONDS) + 1
    store.put(_set_key(url), json.dumps({"jwks": jwks, "at": now}), keep)
    _remember_attempt(store, url, {"state": _FETCHED})
    return jwks


#: How often a launch waiting for another request's fetch looks at the store again.
_AWAIT_STEP = 0.05


def _await_fetch(
    store: StateStore,
    url: str,
    attempt: dict[str, Any],
    cached: dict[str, Any] | None,
    sleep: Callable[[float], None],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The attempt and cached set once the fetch in flight has ended, or after its deadline.

    The number of steps, not the clock, bounds the wait, so a test's fake clock cannot make
    it endless. A fetch that never reports back (its process died) leaves the attempt "in
    flight" until the record expires; the caller then refuses as before.
    """
    for _ in range(int((DEADLINE_SECONDS + 1) / _AWAIT_STEP)):
        sleep(_AWAIT_STEP)
        latest = _load(store.get(_attempt_key(url)))
        if latest is None or latest.get("state") != _IN_FLIGHT:
            return latest, _load(store.get(_set_key(url)))
        attempt = latest
    return attempt, cached


def _fetch(url: str, egress: EgressPolicy) -> dict[str, Any]:
    jwks = fetch_json(url, egress=egress)
    # RFC 7517 section 5: a JWK Set is an object whose "keys" member is an array of JWKs.
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise PlatformFetchError(f"{url} did not answer with a JWK Set")
    return {"keys": [key for key in jwks["keys"] if isinstance(key, dict)]}


def _remember_attempt(store: StateStore, url: str, attempt: dict[str, Any]) -> None:
    if REFETCH_INTERVAL > 0:
        store.put(_attempt_key(url), json.dumps(attempt), REFETCH_INTERVAL)


def _failure(detail: str) -> str:
    return (
        f"The platform's key set could not be fetched: {detail}. It is tried again at most "
        f"every {REFETCH_INTERVAL} s."
    )


def _names(jwks: dict[str, Any], kid: str) -> bool:
    return any(isinstance(k, dict) and k.get("kid") == kid for k in jwks.get("keys", []))


def _load(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    value = json.loads(raw)
    return value if isinstance(value, dict) else None


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _set_key(url: str) -> str:
    return "jwks:" + _digest(url)


def _attempt_key(url: str) -> str:
    return "jwks-attempt:" + _digest(url)
