"""Assignment and Grade Services 2.0 client: line items, scores and results over HTTP.

A thin client over the spec (https://www.imsglobal.org/spec/lti-ags/v2p0/). It knows the
claim, the scopes and the media types, speaks HTTP with a bearer token from the service
token client, and turns every answer into one of its own errors, so the grade worker
decides what to retry without reading status codes itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from lti_tool.errors import ToolError
from lti_tool.lti.service_client import (
    TIMEOUT,
    OffPlatformURLError,
    ServiceClient,
    TokenSource,
    next_page,
    require_platform_url,
)

__all__ = [
    "TIMEOUT",
    "OffPlatformURLError",
    "TokenSource",
    "next_page",
    "require_platform_url",
]

#: The launch claim announcing the service (AGS 2.0 section 3.1).
ENDPOINT_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

# Scopes (AGS 2.0 section 3.1): what the platform lets this link do.
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"

# Media types exactly as the spec names them (sections 3.2.1, 3.3.1, 3.4.1): note the
# score is v1 while the others are v2.
LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULT_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"

# Pages followed at most when listing line items or results, so a platform whose next link
# loops cannot hold a worker forever.
MAX_PAGES = 50


class GradeServiceError(ToolError):
    """Base class of every AGS failure."""


class GradeRefusedError(GradeServiceError):
    """Raised when the platform refuses the request itself (4xx): sending it again as it
    is will not help. ``reason`` is the platform's own words."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}" if status else reason)
        # Not ``status``: ToolError uses that for the HTTP status of our own error page.
        self.http_status = status
        self.reason = reason


class GradeUnauthorizedError(GradeRefusedError):
    """Raised when the platform answers 401 or 403 to the bearer token."""


class GradeUnavailableError(GradeServiceError):
    """Raised when the platform is down, slow or overloaded (5xx, 408, 429, timeouts):
    worth retrying later. ``retry_after`` is the platform's wish in seconds, if it said."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class AgsEndpoint:
    """What the launch's AGS claim grants: scopes, the context's line items container and
    the link's own line item (either URL may be absent)."""

    scopes: frozenset[str]
    lineitems: str | None = None
    lineitem: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> AgsEndpoint | None:
        """The claim of a launch, or None when the launch carries no usable one."""
        claim = claims.get(ENDPOINT_CLAIM)
        if not isinstance(claim, Mapping):
            return None
        scopes = claim.get("scope")
        if not isinstance(scopes, list):
            return None
        lineitems = claim.get("lineitems")
        lineitem = claim.get("lineitem")
        return cls(
            scopes=frozenset(s for s in scopes if isinstance(s, str)),
            lineitems=lineitems if isinstance(lineitems, str) and lineitems else None,
            lineitem=lineitem if isinstance(lineitem, str) and lineitem else None,
        )

    @property
    def can_score(self) -> bool:
        return SCOPE_SCORE in self.scopes

    @property
    def can_manage_lineitems(self) -> bool:
        """Find or create line items in the container (only without a link line item)."""
        return self.lineitems is not None and SCOPE_LINEITEM in self.scopes

    @property
    def can_read_lineitems(self) -> bool:
        return self.lineitems is not None and bool(
            {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY} & self.scopes
        )


@dataclass(frozen=True)
class Score:
    """One score publication (AGS 2.0 section 3.4.1)."""

    user_id: str
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    timestamp: datetime
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "userId": self.user_id,
            "scoreGiven": self.score_given,
            "scoreMaximum": self.score_maximum,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": format_timestamp(self.timestamp),
        }
        if self.comment:
            body["comment"] = self.comment
        return body


def format_timestamp(at: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as the spec's examples write it (section 3.4.1:
    "timestamp ... with sub-second precision")."""
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+00:00"


def next_timestamp(at: datetime, last_sent: datetime | None) -> datetime:
    """The timestamp for a score taking effect at ``at``, given the last one sent for the
    same user and line item.

    AGS 2.0 section 3.4.1: a platform must not update a result whose recorded timestamp is
    later than the incoming one. Moodle 4.x goes further and refuses (409) a score whose
    timestamp is not later *in whole seconds* than the grade it holds. So the result is
    strictly later than ``last_sent`` in whole seconds, and carries milliseconds only.
    """
    candidate = at.astimezone(UTC).replace(microsecond=(at.microsecond // 1000) * 1000)
    if last_sent is None:
        return candidate
    floor = last_sent.astimezone(UTC).replace(microsecond=0)
    if candidate.replace(microsecond=0) <= floor:
        return floor + timedelta(seconds=1)
    return candidate


@dataclass(frozen=True)
class LineItem:
    """A gradebook column (AGS 2.0 section 3.2)."""

    id: str
    label: str
    score_maximum: float
    resource_id: str | None = None
    resource_link_id: str | None = None
    tag: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> LineItem:
        if not isinstance(body, Mapping) or not isinstance(body.get("id"), str):
            raise GradeRefusedError(None, "the platform sent a line item without an id")
        return cls(
            id=body["id"],
            label=str(body.get("label") or ""),
            score_maximum=float(body.get("scoreMaximum") or 0),
            resource_id=body.get("resourceId") or None,
            resource_link_id=body.get("resourceLinkId") or None,
            tag=body.get("tag") or None,
        )


@dataclass(frozen=True)
class Result:
    """A learner's current grade in a line item, as the platform holds it (section 3.3)."""

    user_id: str
    result_score: float | None
    result_maximum: float | None
    comment: str | None = None
    # Who gave the result, when the platform says (AGS 2.0 3.3.4 scoringUserId).
    scoring_user_id: str | None = None
    # When the platform last changed it; not in the spec's schema, but Moodle and others
    # send it, and it is what tells an instructor's later override from a stale value.
    timestamp: datetime | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Result:
        score = body.get("resultScore")
        maximum = body.get("resultMaximum")
        scorer = body.get("scoringUserId")
        return cls(
            user_id=str(body.get("userId", "")),
            result_score=float(score) if isinstance(score, int | float) else None,
            # AGS 2.0 3.3.4: a missing resultMaximum means 1.
            result_maximum=float(maximum) if isinstance(maximum, int | float) else 1.0,
            comment=body.get("comment"),
            scoring_user_id=str(scorer) if scorer not in (None, "") else None,
            timestamp=_parse_time(body.get("timestamp")),
        )


def _parse_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def service_url(url: str, suffix: str, query: Mapping[str, str] | None = None) -> str:
    """A sub-resource of ``url``: the suffix goes on the path, before any query string.

    AGS 2.0 sections 3.3 and 3.4: the scores and results services are the line item URL
    "with the path appended"; Moodle's line item URLs carry ``?type_id=``, so naive string
    concatenation would post to the wrong place.
    """
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + suffix
    params = parts.query
    if query:
        params = "&".join(p for p in (params, urlencode(query)) if p)
    return urlunsplit((parts.scheme, parts.netloc, path, params, ""))


class _AgsErrors:
    """AGS names its failures so the grade worker can tell a retry from a dead letter."""

    @staticmethod
    def refused(status: int | None, reason: str) -> Exception:
        return GradeRefusedError(status, reason)

    @staticmethod
    def unauthorized(status: int, reason: str) -> Exception:
        return GradeUnauthorizedError(status, reason)

    @staticmethod
    def unavailable(reason: str, retry_after: float | None) -> Exception:
        return GradeUnavailableError(reason, retry_after)

    @staticmethod
    def off_platform(err: OffPlatformURLError) -> Exception:
        # Raised as it is: the worker marks it dead without a retry.
        return err


class AgsClient(ServiceClient):
    """AGS calls for one platform registration (lti_tool.lti.service_client: URL rule,
    one token renewal on 401/403, a second refusal is GradeUnauthorizedError)."""

    errors = _AgsErrors()
    service = "AGS"

    # --- scores -----------------------------------------------------------------------

    def post_score(self, lineitem_url: str, score: Score) -> None:
        """POST a score to the line item's scores service (section 3.4)."""
        self.call(
            "POST",
            service_url(self.check_url(lineitem_url), "/scores"),
            [SCOPE_SCORE],
            headers={"Content-Type": SCORE_MEDIA_TYPE},
            json=score.to_json(),
        )

    # --- line items -------------------------------------------------------------------

    def list_lineitems(
        self,
        lineitems_url: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        scopes: Sequence[str] = (SCOPE_LINEITEM,),
    ) -> list[LineItem]:
        """Every line item of the container matching the filters, following rel=next."""
        query = {
            k: v
            for k, v in (("resource_link_id", resource_link_id), ("resource_id", resource_id))
            if v
        }
        items: list[LineItem] = []
        for body in self._pages(
            service_url(self.check_url(lineitems_url), "", query),
            scopes,
            LINEITEM_CONTAINER_MEDIA_TYPE,
        ):
            if not isinstance(body, list):
                raise GradeRefusedError(None, "the line items container was not a JSON array")
            items.extend(LineItem.from_json(item) for item in body)
        return items

    def create_lineitem(
        self,
        lineitems_url: str,
        *,
        label: str,
        score_maximum: float,
        resource_id: str | None = None,
        resource_link_id: str | None = None,
        tag: str | None = None,
        submission_review: Mapping[str, Any] | None = None,
    ) -> LineItem:
        """POST a new line item to the container (section 3.2.3); ``submission_review`` is
        its ``submissionReview`` (lti_tool.lti.submission_review)."""
        body: dict[str, Any] = {"label": label, "scoreMaximum": score_maximum}
        if resource_id:
            body["resourceId"] = resource_id
        if resource_link_id:
            body["resourceLinkId"] = resource_link_id
        if tag:
            body["tag"] = tag
        if submission_review:
            body["submissionReview"] = dict(submission_review)
        response = self.call(
            "POST",
            self.check_url(lineitems_url),
            [SCOPE_LINEITEM],
            headers={"Content-Type": LINEITEM_MEDIA_TYPE, "Accept": LINEITEM_MEDIA_TYPE},
            json=body,
        )
        item = LineItem.from_json(self.json(response))
        self.check_url(item.id)
        return item

    def get_lineitem(
        self, lineitem_url: str, scopes: Sequence[str] = (SCOPE_LINEITEM,)
    ) -> LineItem:
        response = self.call(
            "GET", self.check_url(lineitem_url), scopes, headers={"Accept": LINEITEM_MEDIA_TYPE}
        )
        return LineItem.from_json(self.json(response))

    # --- results ----------------------------------------------------------------------

    def list_results(self, lineitem_url: str, *, user_id: str | None = None) -> list[Result]:
        """The line item's results (section 3.3), one learner's when ``user_id`` is given."""
        query = {"user_id": user_id} if user_id else None
        results: list[Result] = []
        for body in self._pages(
            service_url(self.check_url(lineitem_url), "/results", query),
            [SCOPE_RESULT_READONLY],
            RESULT_CONTAINER_MEDIA_TYPE,
        ):
            if not isinstance(body, list):
                raise GradeRefusedError(None, "the results container was not a JSON array")
            results.extend(Result.from_json(r) for r in body if isinstance(r, Mapping))
        return results

    def _pages(self, url: str, scopes: Sequence[str], accept: str) -> Iterator[Any]:
        for response in self.pages(url, scopes, accept, max_pages=MAX_PAGES, strict=False):
            yield self.json(response)
