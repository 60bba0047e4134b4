"""Names and Role Provisioning Services 2.0 client: a course's membership over HTTP.

A thin client over the spec (https://www.imsglobal.org/spec/lti-nrps/v2p0/). Everything a
platform call needs (the service token with one renewal on 401/403, the URL rule, RFC 8288
paging) is lti_tool.lti.service_client's, shared with the AGS client; every failure
becomes one of this module's errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from lti_tool.errors import ToolError
from lti_tool.lti.service_client import OffPlatformURLError, ServiceClient

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


class _RosterErrors:
    """NRPS failures are refused or unavailable; a dead token is a refusal like any 4xx."""

    @staticmethod
    def refused(status: int | None, reason: str) -> Exception:
        return RosterRefusedError(f"HTTP {status}: {reason}" if status else reason)

    @staticmethod
    def unauthorized(status: int, reason: str) -> Exception:
        return RosterRefusedError(f"HTTP {status}: {reason}")

    @staticmethod
    def unavailable(reason: str, retry_after: float | None) -> Exception:
        return RosterUnavailableError(reason)

    @staticmethod
    def off_platform(err: OffPlatformURLError) -> Exception:
        return RosterRefusedError(f"refused: {err}")


class RosterClient(ServiceClient):
    """NRPS calls for one platform registration; every URL (each page's too) is checked
    against the registered platform before a token goes near it (service_client)."""

    errors = _RosterErrors()
    service = "NRPS"

    def list_members(self, endpoint: NrpsEndpoint, *, rlid: str | None = None) -> list[Member]:
        """Every member of the context (or of the link, with ``rlid``), following rel=next."""
        members: dict[str, Member] = {}
        for response in self.pages(
            memberships_url(endpoint.memberships_url, rlid=rlid),
            [SCOPE_MEMBERSHIP_READONLY],
            MEMBERSHIP_MEDIA_TYPE,
            max_pages=MAX_PAGES,
            strict=True,
        ):
            body = self.json(response, "membership answer")
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
        return list(members.values())
