"""The demo LMS's Names and Role Provisioning Services 2.0: the course's membership,
checked the way a platform must check a call to it.

- a bearer token the demo LMS issued, carrying the contextmembership.readonly scope
  (NRPS 2.0 section 3.6.1.1): any other token is 401, a token without the scope 403;
- the Accept header must allow the membership container's media type (section 2.2);
- paging with ``limit`` and an RFC 8288 Link header, rel="next" (section 2.4.2);
- ``rlid`` narrows to the members who can reach that link (section 2.4.1): every member
  reaches every link of the demo course, but an unknown link is a 400.

The roster holds the personas who can launch, plus one learner who never launches and one
whose enrolment was suspended (Inactive), so the tool's class view has both to show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract

from lti_tool.lti.roster import CLAIM, MEMBERSHIP_MEDIA_TYPE, SCOPE_MEMBERSHIP_READONLY

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class RosterEntry:
    user_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    status: str = "Active"

    def to_json(self) -> dict[str, Any]:
        given, _, family = self.name.partition(" ")
        return {
            "status": self.status,
            "user_id": self.user_id,
            "name": self.name,
            "given_name": given,
            "family_name": family,
            "email": self.email,
            "roles": list(self.roles),
        }


class _Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def memberships_url(base_url: str, context_id: str) -> str:
    return f"{base_url}/nrps/{context_id}/memberships"


def launch_claim(base_url: str, context_id: str) -> dict[str, Any]:
    """The NRPS claim of every launch from the demo course (NRPS 2.0 section 3.6.1)."""
    return {
        CLAIM: {
            "context_memberships_url": memberships_url(base_url, context_id),
            "service_versions": ["2.0"],
        }
    }


def install(
    app: Flask,
    *,
    base_url: str,
    context: Mapping[str, str],
    roster: list[RosterEntry],
    links: Mapping[str, str],
    platform_conf: Callable[[], LTI1P3PlatformConfAbstract],
) -> None:
    """Add the membership endpoint of the course ``context`` to the demo LMS ``app``."""
    context_id = context["id"]
    url = memberships_url(base_url, context_id)

    def require_token() -> None:
        auth = request.headers.get("Authorization", "").split()
        if len(auth) != 2 or auth[0].lower() != "bearer":
            raise _Refusal(401, "a bearer token is required")
        conf = platform_conf()
        conf.get_registration()
        try:
            granted = conf.validate_token(auth[1], [SCOPE_MEMBERSHIP_READONLY])
        except Exception as err:  # any decode or claim failure means: not our token
            raise _Refusal(401, f"invalid access token: {err}") from err
        if not granted:
            raise _Refusal(403, f"the token lacks the scope {SCOPE_MEMBERSHIP_READONLY}")

    @app.errorhandler(_Refusal)
    def refused(err: _Refusal) -> tuple[Response, int]:
        return jsonify(reason=err.reason), err.status

    @app.get(f"/nrps/{context_id}/memberships")
    def memberships() -> Response:
        require_token()
        accepted = request.headers.get("Accept", "*/*")
        if MEMBERSHIP_MEDIA_TYPE not in accepted and "*/*" not in accepted:
            raise _Refusal(406, f"the membership is served as {MEMBERSHIP_MEDIA_TYPE}")
        rlid = request.args.get("rlid")
        if rlid is not None and rlid not in links:
            raise _Refusal(400, f"rlid names no link of this course: {rlid[:80]}")
        try:
            limit = int(request.args.get("limit", DEFAULT_PAGE_SIZE))
            number = int(request.args.get("page", 1))
        except ValueError as err:
            raise _Refusal(400, "limit and page must be whole numbers") from err
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        number = max(1, number)
        start = (number - 1) * limit
        chunk = roster[start : start + limit]
        body = {
            "id": request.url,
            "context": {
                "id": context_id,
                "label": context.get("label"),
                "title": context.get("title"),
            },
            "members": [entry.to_json() for entry in chunk],
        }
        response = jsonify(body)
        response.content_type = MEMBERSHIP_MEDIA_TYPE
        if start + limit < len(roster):
            query = {"limit": str(limit), "page": str(number + 1)}
            if rlid is not None:
                query["rlid"] = rlid
            response.headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
        return response
