"""Names and Role Provisioning Services 2.0 client: a course's membership over HTTP.

A thin client over the spec (https://www.imsglobal.org/spec/lti-nrps/v2p0/). It shares
the AGS client's rules for everything a platform call needs: the service token (one
renewal on 401/403), the URL rule (a membership URL must belong to the registered
platform) and the RFC 8288 paging parser; every failure becomes one of its own errors.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from pylti1p3.exception import LtiServiceException

from lti_tool.errors import ToolError
from lti_tool.lti.grades import (
    TIMEOUT,
    OffPlatformURLError,
    TokenSource,
    _reason,
    next_page,
    require_platform_url,
)

log = logging.getLogger(__name__)

#: The launch claim announcing the service (NRPS 2.0 section 3.6.1).
CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
#: The one scope the membership service needs (NRPS 2.0 section 3.6.1.1).
SCOPE_MEMBERSHIP_READONLY = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)
#: The container's media type (NRPS 2.0 section 2.2).
MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

# Member status values (NRPS 2.0 section 2.3): a member without one is Active.
ACTIVE = "Active"
INACTIVE = "Inactive"
DELETED = "Deleted"
STATUSES = (ACTIVE, INACTIVE, DELETED)

# Pages followed at most, and members asked for per page (the ``limit`` parameter of
# NRPS 2.0 section 2.4.2): a course of 100 000 people, or a next link that loops, must not
# hold an instructor's page (or our memory) for ever.
MAX_PAGES = 50
PAGE_SIZE = 200
MAX_MEMBERS = MAX_PAGES * PAGE_SIZE
# Longest text kept from a member's fields; platforms send free text.
MAX_TEXT = 255


class RosterError(ToolError):
    """Raised when the course membership cannot be read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RosterRefusedError(RosterError):
    """Raised when the platform refuses the call (4xx, a dead token, a bad answer) or the
    URL is not the platform's: asking again as it is will not help."""


class RosterUnavailableError(RosterError):
    """Raised when the platform is down, slow or overloaded (5xx, 408, 429, timeouts)."""


@dataclass(frozen=True)
class NrpsEndpoint:
    """What the launch's NRPS claim grants: the context membership URL."""

    memberships_url: str
    service_versions: tuple[str, ...]

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> NrpsEndpoint | None:
        claim = claims.get(CLAIM)
        if not isinstance(claim, Mapping):
            return None
        url = claim.get("context_memberships_url")
        versions = claim.get("service_versions")
        if not isinstance(url, str) or not url:
            return None
        versions = [v for v in versions if isinstance(v, str)] if isinstance(versions, list) else []
        # NRPS 2.0 section 3.6.1: the platform lists the versions it serves; a claim naming
        # only others is a service this client does not speak.
        if versions and "2.0" not in versions:
            return None
        return cls(memberships_url=url, service_versions=tuple(versions))


@dataclass(frozen=True)
class Member:
    """One person in the course (NRPS 2.0 section 2.3), as much as the platform shared."""

    user_id: str
    status: str = ACTIVE
    roles: tuple[str, ...] = ()
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> Member | None:
        """The member, or None for an entry without a usable user_id (skipped, not fatal)."""
        if not isinstance(body, Mapping):
            return None
        user_id = body.get("user_id")
        if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_TEXT:
            return None
        status = body.get("status")
        roles = body.get("roles")
        return cls(
            user_id=user_id,
            status=status if status in STATUSES else ACTIVE,
            roles=tuple(r[:MAX_TEXT] for r in roles if isinstance(r, str))
            if isinstance(roles, list)
            else (),
            name=_text(body.get("name")),
            given_name=_text(body.get("given_name")),
            family_name=_text(body.get("family_name")),
            email=_text(body.get("email")),
        )

    @property
    def display_name(self) -> str | None:
        if self.name:
            return self.name
        joined = " ".join(p for p in (self.given_name, self.family_name) if p)
        return joined or None


def _text(value: Any) -> str | None:
    return value.strip()[:MAX_TEXT] or None if isinstance(value, str) else None


def memberships_url(url: str, *, rlid: str | None = None, limit: int = PAGE_SIZE) -> str:
    """The membership URL with our query parameters added to the platform's own."""
    parts = urlsplit(url)
    query = {"limit": str(limit)}
    if rlid:
        # NRPS 2.0 section 2.4.1: members of the context who can reach this resource link.
        query["rlid"] = rlid
    params = "&".join(p for p in (parts.query, urlencode(query)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, params, ""))


class RosterClient:
    """NRPS calls for one platform registration; every URL (each page's too) is checked
    with :func:`lti_tool.lti.grades.require_platform_url` before a token goes near it."""

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

    def list_members(self, endpoint: NrpsEndpoint, *, rlid: str | None = None) -> list[Member]:
        """Every member of the context (or of the link, with ``rlid``), following rel=next."""
        members: dict[str, Member] = {}
        seen: set[str] = set()
        next_url: str | None = memberships_url(endpoint.memberships_url, rlid=rlid)
        while next_url and next_url not in seen:
            if len(seen) >= MAX_PAGES:
                raise RosterRefusedError(
                    f"the membership has more than {MAX_PAGES} pages; only the first were read"
                )
            seen.add(next_url)
            response = self._get(next_url)
            body = _json(response)
            entries = body.get("members") if isinstance(body, Mapping) else None
            if not isinstance(entries, list):
                raise RosterRefusedError("the membership container has no members list")
            for entry in entries:
                member = Member.from_json(entry)
                if member is not None:
                    # A member repeated across pages (the roster changed while paging): the
                    # later page is the newer word.
                    members[member.user_id] = member
            if len(members) > MAX_MEMBERS:
                raise RosterRefusedError(f"the membership lists more than {MAX_MEMBERS} people")
            next_url = next_page(response.headers.get("Link"))
        return list(members.values())

    def _get(self, url: str) -> requests.Response:
        try:
            require_platform_url(url, self._owners, self._allowed_hosts)
        except OffPlatformURLError as err:
            log.warning("NRPS membership URL refused: %s", err)
            raise RosterRefusedError(f"refused: {err}") from err
        response = self._send(url, renew=False)
        if response.status_code in (401, 403):
            # One fresh token, then the platform's answer stands (a platform may revoke a
            # token before its expiry).
            response = self._send(url, renew=True)
            if response.status_code in (401, 403):
                raise RosterRefusedError(f"HTTP {response.status_code}: {_reason(response)}")
        if response.ok:
            return response
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise RosterUnavailableError(f"HTTP {response.status_code}: {_reason(response)}")
        raise RosterRefusedError(f"HTTP {response.status_code}: {_reason(response)}")

    def _send(self, url: str, *, renew: bool) -> requests.Response:
        try:
            token = self._token([SCOPE_MEMBERSHIP_READONLY], renew)
        except LtiServiceException as err:
            raise RosterRefusedError(f"token endpoint refused: {_reason(err.response)}") from err
        except requests.RequestException as err:
            raise RosterUnavailableError(f"token endpoint: {type(err).__name__}") from err
        try:
            return self._http.get(
                url,
                headers={"Accept": MEMBERSHIP_MEDIA_TYPE, "Authorization": f"Bearer {token}"},
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as err:
            raise RosterUnavailableError(f"{type(err).__name__}: {err}") from err


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise RosterRefusedError("the platform's membership answer was not JSON") from err
