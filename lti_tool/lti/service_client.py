"""One call to an LTI Advantage service of a registered platform: the rules AGS and NRPS share.

Both services ride on the Security Framework's bearer tokens and answer plain HTTP, so the
clients in grades.py (AGS) and roster.py (NRPS) make their calls the same way:
- every URL must belong to the registered platform before a token goes near it
  (:func:`require_platform_url`);
- a 401 or 403 is answered once with a renewed token, then the platform's answer stands;
- each answer is sorted into refused (4xx: sending it again will not help), unauthorized,
  or unavailable (5xx, 408, 429, timeouts: worth a retry), in the service's own errors;
- lists page with RFC 8288 ``rel="next"`` links, a bounded number of times.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

import requests
from pylti1p3.exception import LtiServiceException

from lti_tool.errors import ToolError

log = logging.getLogger(__name__)

# Connect and read timeouts for every call to a platform, token endpoint included.
TIMEOUT = (3.05, 15.0)
# How much of an LMS's refusal we keep: enough for a person to read why.
REASON_LENGTH = 500

#: Gives a bearer token for these scopes; ``renew`` forgets the cached one first.
TokenSource = Callable[[Sequence[str], bool], str]


class OffPlatformURLError(ToolError):
    """Raised when a service URL does not belong to the registered platform."""


def require_platform_url(url: str, owners: Sequence[str], allowed_hosts: Sequence[str]) -> str:
    """``url`` when it belongs to the platform, else OffPlatformURLError.

    A service URL comes from the launch (or from the platform's answers): if it pointed
    anywhere, a forged or misconfigured claim would make us send learners' data, with a
    bearer token, to a stranger. It must share scheme, host and port with one of
    ``owners`` (the registration's token URL and issuer) or be on an operator-allowed host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OffPlatformURLError(f"not an http(s) URL: {url[:200]!r}")
    origin = _origin(url)
    if any(_origin(owner) == origin for owner in owners if owner):
        return url
    if parts.hostname.lower() in {host.lower() for host in allowed_hosts}:
        return url
    raise OffPlatformURLError(
        f"{origin} is neither the platform's ({', '.join(_origin(o) for o in owners if o)}) "
        "nor an allowed host (CXA_SERVICE_ALLOWED_HOSTS)"
    )


def _origin(url: str) -> str:
    """scheme://host:port with the default port spelled out, so equal origins compare equal."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number: no origin matches it
        port = -1
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


_NEXT = re.compile(r"<([^>]*)>\s*;[^,]*?\brel\s*=\s*[\"'\u201c\u201d]?next\b", re.IGNORECASE)


def next_page(link_header: str | None) -> str | None:
    """The rel="next" URL of an RFC 8288 Link header (AGS 2.0 3.2.5, NRPS 2.0 2.4.3).

    Quotes are optional in RFC 8288 and Moodle 4.x writes typographic ones, so the
    parser accepts rel=next, rel="next" and rel=\u201cnext\u201d alike.
    """
    if not link_header:
        return None
    match = _NEXT.search(link_header.replace("\n", " "))
    return match.group(1).strip() if match else None


def response_reason(response: requests.Response) -> str:
    """The platform's own explanation: a JSON error field, else the body, else the status."""
    text = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        for key in ("reason", "error_description", "message", "error"):
            if isinstance(body.get(key), str) and body[key]:
                text = body[key]
                break
    if not text:
        text = (response.text or "").strip()
    return (text or response.reason or f"HTTP {response.status_code}")[:REASON_LENGTH]


def retry_after(response: requests.Response) -> float | None:
    """The platform's Retry-After in seconds (delta form only), or None."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _unavailable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


class ServiceErrors(Protocol):
    """How one service names its failures; the client raises what these return."""

    def refused(self, status: int | None, reason: str) -> Exception: ...

    def unauthorized(self, status: int, reason: str) -> Exception: ...

    def unavailable(self, reason: str, retry_after: float | None) -> Exception: ...

    def off_platform(self, err: OffPlatformURLError) -> Exception: ...


class ServiceClient:
    """Calls to one service of one platform registration; a service's client subclasses it
    and names its errors in ``errors``."""

    errors: ClassVar[ServiceErrors]
    #: For log lines: which service made the call.
    service: ClassVar[str] = "LTI service"

    def __init__(
        self,
        http: requests.Session,
        token: TokenSource,
        *,
        owners: Sequence[str],
        allowed_hosts: Sequence[str] = (),
    ) -> None:
        self._http = http
        self._token = token
        self._owners = tuple(owners)
        self._allowed_hosts = tuple(allowed_hosts)

    def close(self) -> None:
        self._http.close()

    def check_url(self, url: str) -> str:
        """``url`` when it is the platform's; the service's off-platform error otherwise."""
        try:
            return require_platform_url(url, self._owners, self._allowed_hosts)
        except OffPlatformURLError as err:
            log.warning("%s URL refused: %s", self.service, err)
            raise self.errors.off_platform(err) from err

    def call(
        self,
        method: str,
        url: str,
        scopes: Sequence[str],
        headers: Mapping[str, str],
        json: Any = None,
    ) -> requests.Response:
        """The platform's successful answer to one request, or the service's error."""
        url = self.check_url(url)
        response = self._send(method, url, scopes, headers, json, renew=False)
        if response.status_code in (401, 403):
            # One fresh token, then the platform's answer stands (a platform may revoke a
            # token before it expires).
            log.info(
                "%s %s %s answered %s: renewing the token once",
                self.service,
                method,
                url,
                response.status_code,
            )
            response = self._send(method, url, scopes, headers, json, renew=True)
            if response.status_code in (401, 403):
                raise self.errors.unauthorized(response.status_code, response_reason(response))
        if response.ok:
            return response
        if _unavailable_status(response.status_code):
            raise self.errors.unavailable(
                f"HTTP {response.status_code}: {response_reason(response)}", retry_after(response)
            )
        raise self.errors.refused(response.status_code, response_reason(response))

    def pages(
        self, url: str, scopes: Sequence[str], accept: str, *, max_pages: int, strict: bool
    ) -> Iterator[requests.Response]:
        """Each page of a list, following rel=next, at most ``max_pages`` of them; a loop
        ends the list. With ``strict`` a list longer than that is refused rather than cut
        short (a cut roster would hide people; a cut line item list only costs a lookup)."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url and next_url not in seen:
            if len(seen) >= max_pages:
                if strict:
                    raise self.errors.refused(
                        None, f"the list has more than {max_pages} pages; only the first were read"
                    )
                return
            seen.add(next_url)
            response = self.call("GET", next_url, scopes, {"Accept": accept})
            yield response
            next_url = next_page(response.headers.get("Link"))

    def json(self, response: requests.Response, what: str = "answer") -> Any:
        """The answer's JSON body; a body that is not JSON is a refusal."""
        try:
            return response.json()
        except ValueError as err:
            # No status in the message: "HTTP 200: not JSON" would read as a success.
            raise self.errors.refused(None, f"the platform's {what} was not JSON") from err

    def _send(
        self,
        method: str,
        url: str,
        scopes: Sequence[str],
        headers: Mapping[str, str],
        json: Any,
        *,
        renew: bool,
    ) -> requests.Response:
        token = self._bearer(scopes, renew)
        try:
            return self._http.request(
                method,
                url,
                headers={**headers, "Authorization": f"Bearer {token}"},
                json=json,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as err:
            raise self.errors.unavailable(f"{type(err).__name__}: {err}", None) from err

    def _bearer(self, scopes: Sequence[str], renew: bool) -> str:
        try:
            return self._token(scopes, renew)
        except LtiServiceException as err:
            response = err.response
            if _unavailable_status(response.status_code):
                raise self.errors.unavailable(
                    f"token endpoint HTTP {response.status_code}: {response_reason(response)}",
                    retry_after(response),
                ) from err
            raise self.errors.refused(
                response.status_code, f"token endpoint refused: {response_reason(response)}"
            ) from err
        except requests.RequestException as err:
            raise self.errors.unavailable(
                f"token endpoint: {type(err).__name__}: {err}", None
            ) from err
