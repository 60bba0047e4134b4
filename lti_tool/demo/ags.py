"""The demo LMS's Assignment and Grade Services 2.0: line items, scores, results and a
gradebook page, checked the way a platform must check them.

lti1p3platform's own AGS handlers check a token for *any* of the service's scopes and
neither media types nor score rules, which would let through what Moodle refuses; so only
its token verification is used here, and the rules are written out against the spec:

- a bearer token the demo LMS issued, carrying the scope the call needs (AGS 2.0 3.1);
- the media type of each body and Accept header (3.2.1, 3.3.1, 3.4.1);
- scores: userId, activityProgress, gradingProgress and timestamp required, the progress
  values from the spec's lists, scoreMaximum with any scoreGiven, a learner of the course,
  and a timestamp later than the last one recorded for that learner and line item. Like
  Moodle 4.x, "later" is judged in whole seconds (409 otherwise), so what passes here
  passes there;
- paging with an RFC 8288 Link header, rel="next" (3.2.5).

The gradebook lives in memory (the demo LMS runs one process); it starts with one line
item per course link, and gains one for each placed link whose Deep Linking content item
asked for a ``lineItem`` (created by the platform and bound to the new link, as Moodle
and Canvas do; the tool then finds it in the launch's ``lineitem`` claim). A line item may
carry ``submissionReview`` (LTI Submission Review), which the gradebook page turns into a
"Review submission" button.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, render_template, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract

from lti_tool.lti.grades import (
    ENDPOINT_CLAIM,
    LINEITEM_CONTAINER_MEDIA_TYPE,
    LINEITEM_MEDIA_TYPE,
    RESULT_CONTAINER_MEDIA_TYPE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_MEDIA_TYPE,
)

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")
#: Scopes the demo LMS grants a tool on its links.
SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
DEFAULT_PAGE_SIZE = 10


@dataclass
class LineItemRecord:
    id: int
    label: str
    score_maximum: float
    resource_id: str | None = None
    resource_link_id: str | None = None
    tag: str | None = None
    submission_review: dict[str, Any] | None = None

    def reviewable(self, result: ResultRecord | None) -> bool:
        """Whether the gradebook offers the review of this result (its activityProgress is
        one the line item's submissionReview lists)."""
        if not self.submission_review or result is None:
            return False
        return result.activity_progress in self.submission_review.get("reviewableStatus", [])


def check_submission_review(value: Any) -> dict[str, Any] | None:
    """A line item's ``submissionReview`` as the platform keeps it; Refusal when malformed.
    ``reviewableStatus`` is required and lists activityProgress values."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Refusal(400, "submissionReview must be an object")
    statuses = value.get("reviewableStatus")
    if (
        not isinstance(statuses, list)
        or not statuses
        or not all(s in ACTIVITY_PROGRESS for s in statuses)
    ):
        raise Refusal(
            400, f"submissionReview.reviewableStatus must list values of {ACTIVITY_PROGRESS}"
        )
    for key in ("url", "label"):
        if key in value and not isinstance(value[key], str):
            raise Refusal(400, f"submissionReview.{key} must be a string")
    custom = value.get("custom", {})
    if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
        raise Refusal(400, "submissionReview.custom must map names to strings")
    return {k: value[k] for k in ("reviewableStatus", "url", "label", "custom") if k in value}


@dataclass
class ResultRecord:
    user_id: str
    score_given: float | None
    score_maximum: float | None
    comment: str | None
    timestamp: datetime
    activity_progress: str
    grading_progress: str
    #: Who set it: None for the tool's scores, an instructor's login for an override.
    scoring_user_id: str | None = None


@dataclass
class Gradebook:
    """One course's line items and each learner's latest result in them."""

    context_id: str
    learners: dict[str, str]
    items: dict[int, LineItemRecord] = field(default_factory=dict)
    results: dict[tuple[int, str], ResultRecord] = field(default_factory=dict)
    #: Every score accepted, in order (what the page's history shows).
    history: list[tuple[int, ResultRecord]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add_item(self, **values: Any) -> LineItemRecord:
        item = LineItemRecord(id=next(self._ids), **values)
        self.items[item.id] = item
        return item

    def item_for_link(self, link_id: str) -> LineItemRecord | None:
        return next((i for i in self.items.values() if i.resource_link_id == link_id), None)

    def add_item_from_content_item(self, link_id: str, line_item: Any) -> LineItemRecord:
        """The line item a Deep Linking content item's ``lineItem`` asks for (Deep Linking
        2.0 section 3.4.2.1), bound to the link just created; Refusal when malformed."""
        if not isinstance(line_item, dict):
            raise Refusal(400, "lineItem must be an object")
        maximum = line_item.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            raise Refusal(400, "lineItem.scoreMaximum must be a number above 0")
        review = check_submission_review(line_item.get("submissionReview"))
        with self.lock:
            return self.add_item(
                label=str(line_item.get("label") or "CX Academy activity"),
                score_maximum=float(maximum),
                resource_id=line_item.get("resourceId") or None,
                resource_link_id=link_id,
                tag=line_item.get("tag") or None,
                submission_review=review,
            )


class Refusal(Exception):
    """Raised when a request breaks a rule of the spec; the handler answers ``status``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _parse_timestamp(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise Refusal(400, "timestamp is required (ISO 8601 with a time zone)")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as err:
        raise Refusal(400, f"timestamp {raw!r} is not ISO 8601") from err
    if value.tzinfo is None:
        raise Refusal(400, f"timestamp {raw!r} has no time zone")
    return value.astimezone(UTC)


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refusal(400, f"{name} must be a number")
    if value < 0:
        raise Refusal(400, f"{name} must not be negative")
    return float(value)


def check_score(book: Gradebook, item: LineItemRecord, body: Any) -> ResultRecord:
    """The result a score body makes, or Refusal saying which rule it broke."""
    if not isinstance(body, dict):
        raise Refusal(400, "the score must be a JSON object")
    for required in ("userId", "activityProgress", "gradingProgress", "timestamp"):
        if required not in body:
            raise Refusal(400, f"{required} is required")
    user_id = body["userId"]
    if not isinstance(user_id, str) or user_id not in book.learners:
        raise Refusal(422, f"userId {user_id!r} is not a learner of course {book.context_id}")
    if body["activityProgress"] not in ACTIVITY_PROGRESS:
        raise Refusal(400, f"activityProgress must be one of {', '.join(ACTIVITY_PROGRESS)}")
    if body["gradingProgress"] not in GRADING_PROGRESS:
        raise Refusal(400, f"gradingProgress must be one of {', '.join(GRADING_PROGRESS)}")
    given = _number(body, "scoreGiven")
    maximum = _number(body, "scoreMaximum")
    if given is not None and not maximum:
        raise Refusal(400, "scoreMaximum (above 0) is required with scoreGiven")
    timestamp = _parse_timestamp(body["timestamp"])
    previous = book.results.get((item.id, user_id))
    if previous is not None and int(timestamp.timestamp()) <= int(previous.timestamp.timestamp()):
        raise Refusal(
            409,
            f"refusing score with an earlier timestamp for item {item.id} and user {user_id}",
        )
    comment = body.get("comment")
    # AGS 2.0 3.4.1: a score not FullyGraded carries progress, not a grade.
    graded = body["gradingProgress"] == "FullyGraded"
    return ResultRecord(
        user_id=user_id,
        score_given=given if graded else None,
        score_maximum=maximum if graded else None,
        comment=comment if isinstance(comment, str) else None,
        timestamp=timestamp,
        activity_progress=body["activityProgress"],
        grading_progress=body["gradingProgress"],
    )


def install(
    app: Flask,
    *,
    base_url: str,
    context_id: str,
    learners: dict[str, str],
    links: dict[str, str],
    platform_conf: Callable[[], LTI1P3PlatformConfAbstract],
    instructor: str = "instructor",
    knows_link: Callable[[str], bool] = lambda _link: False,
) -> Gradebook:
    """Add the AGS endpoints and the gradebook page to the demo LMS ``app``; ``knows_link``
    says whether a link id beyond ``links`` (a placed link) belongs to the course."""
    book = Gradebook(context_id=context_id, learners=dict(learners))
    for link_id, title in links.items():
        book.add_item(label=title, score_maximum=100.0, resource_link_id=link_id)
    root = f"{base_url}/ags/{context_id}"

    def item_url(item: LineItemRecord) -> str:
        return lineitem_url(book, base_url, item)

    def item_json(item: LineItemRecord) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": item_url(item),
            "label": item.label,
            "scoreMaximum": item.score_maximum,
        }
        for key, value in (
            ("resourceId", item.resource_id),
            ("resourceLinkId", item.resource_link_id),
            ("tag", item.tag),
            ("submissionReview", item.submission_review),
        ):
            if value:
                body[key] = value
        return body

    def require_token(allowed: Sequence[str]) -> None:
        auth = request.headers.get("Authorization", "").split()
        if len(auth) != 2 or auth[0].lower() != "bearer":
            raise Refusal(401, "a bearer token is required")
        conf = platform_conf()
        conf.get_registration()
        try:
            granted = conf.validate_token(auth[1], list(allowed))
        except Exception as err:  # any decode or claim failure means: not our token
            raise Refusal(401, f"invalid access token: {err}") from err
        if not granted:
            raise Refusal(403, f"the token lacks the scope this call needs ({allowed[0]})")

    def require_body(media_type: str) -> Any:
        given = (request.content_type or "").split(";")[0].strip()
        if given != media_type:
            raise Refusal(415, f"Content-Type must be {media_type}, got {given or 'none'}")
        body = request.get_json(force=True, silent=True)
        if body is None:
            raise Refusal(400, "the body is not JSON")
        return body

    def require_accept(media_type: str) -> None:
        accepted = request.headers.get("Accept", "*/*")
        if media_type not in accepted and "*/*" not in accepted:
            raise Refusal(406, f"this resource is served as {media_type}")

    def require_item(item_id: int) -> LineItemRecord:
        item = book.items.get(item_id)
        if item is None:
            raise Refusal(404, f"line item {item_id} does not exist")
        return item

    def page(rows: list[Any], url: str, query: dict[str, str]) -> tuple[list[Any], str | None]:
        try:
            limit = int(request.args.get("limit", DEFAULT_PAGE_SIZE))
            number = int(request.args.get("page", 1))
        except ValueError as err:
            raise Refusal(400, "limit and page must be whole numbers") from err
        limit = max(1, min(limit, 100))
        number = max(1, number)
        start = (number - 1) * limit
        chunk = rows[start : start + limit]
        link = None
        if start + limit < len(rows):
            link = f'<{url}?{urlencode({**query, "limit": limit, "page": number + 1})}>; rel="next"'
        return chunk, link

    def answer(body: Any, media_type: str, status: int = 200, link: str | None = None) -> Response:
        response = jsonify(body)
        response.status_code = status
        response.content_type = media_type
        if link:
            response.headers["Link"] = link
        return response

    @app.errorhandler(Refusal)
    def refused(err: Refusal) -> tuple[Response, int]:
        return jsonify(reason=err.reason), err.status

    def check_context(context: str) -> None:
        if context != context_id:
            raise Refusal(404, f"course {context} does not exist")

    @app.route("/ags/<context>/lineitems", methods=["GET", "POST"])
    def lineitems(context: str) -> Response:
        check_context(context)
        if request.method == "POST":
            require_token([SCOPE_LINEITEM])
            body = require_body(LINEITEM_MEDIA_TYPE)
            label = body.get("label") if isinstance(body, dict) else None
            maximum = body.get("scoreMaximum") if isinstance(body, dict) else None
            if not isinstance(label, str) or not label.strip():
                raise Refusal(400, "label is required")
            if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
                raise Refusal(400, "scoreMaximum must be a number above 0")
            link = body.get("resourceLinkId")
            if link is not None and link not in links and not knows_link(link):
                raise Refusal(400, f"resourceLinkId {link!r} is no link of this course")
            review = check_submission_review(body.get("submissionReview"))
            with book.lock:
                item = book.add_item(
                    label=label.strip(),
                    score_maximum=float(maximum),
                    resource_id=body.get("resourceId") or None,
                    resource_link_id=link,
                    tag=body.get("tag") or None,
                    submission_review=review,
                )
            return answer(item_json(item), LINEITEM_MEDIA_TYPE, 201)
        require_token([SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY])
        require_accept(LINEITEM_CONTAINER_MEDIA_TYPE)
        filters = {
            key: request.args[key]
            for key in ("resource_link_id", "resource_id", "tag")
            if request.args.get(key)
        }
        rows = [
            item
            for item in book.items.values()
            if (item.resource_link_id == filters.get("resource_link_id", item.resource_link_id))
            and (item.resource_id == filters.get("resource_id", item.resource_id))
            and (item.tag == filters.get("tag", item.tag))
        ]
        chunk, link_header = page(rows, f"{root}/lineitems", filters)
        return answer(
            [item_json(i) for i in chunk], LINEITEM_CONTAINER_MEDIA_TYPE, link=link_header
        )

    @app.get("/ags/<context>/lineitems/<int:item_id>/lineitem")
    def lineitem(context: str, item_id: int) -> Response:
        check_context(context)
        require_token([SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY])
        require_accept(LINEITEM_MEDIA_TYPE)
        return answer(item_json(require_item(item_id)), LINEITEM_MEDIA_TYPE)

    @app.post("/ags/<context>/lineitems/<int:item_id>/lineitem/scores")
    def scores(context: str, item_id: int) -> tuple[str, int]:
        check_context(context)
        require_token([SCOPE_SCORE])
        body = require_body(SCORE_MEDIA_TYPE)
        item = require_item(item_id)
        with book.lock:
            result = check_score(book, item, body)
            book.results[(item.id, result.user_id)] = result
            book.history.append((item.id, result))
        return "", 204

    @app.get("/ags/<context>/lineitems/<int:item_id>/lineitem/results")
    def results(context: str, item_id: int) -> Response:
        check_context(context)
        require_token([SCOPE_RESULT_READONLY])
        require_accept(RESULT_CONTAINER_MEDIA_TYPE)
        item = require_item(item_id)
        user = request.args.get("user_id")
        rows = [
            r
            for (iid, uid), r in sorted(book.results.items())
            if iid == item.id and (user is None or uid == user)
        ]
        chunk, link_header = page(
            rows, f"{item_url(item)}/results", {"user_id": user} if user else {}
        )
        return answer(
            [
                {
                    "id": f"{item_url(item)}/results/{r.user_id}",
                    "scoreOf": item_url(item),
                    "userId": r.user_id,
                    "resultScore": r.score_given,
                    "resultMaximum": r.score_maximum,
                    # As Moodle does: when the result last changed (seconds), and who set
                    # it when it was not the tool.
                    "timestamp": r.timestamp.replace(microsecond=0).isoformat(),
                    **({"comment": r.comment} if r.comment else {}),
                    **({"scoringUserId": r.scoring_user_id} if r.scoring_user_id else {}),
                }
                for r in chunk
            ],
            RESULT_CONTAINER_MEDIA_TYPE,
            link=link_header,
        )

    @app.post("/gradebook/override")
    def override() -> Response:
        """An instructor changes a grade by hand (or clears it), as in an LMS gradebook."""
        learner = request.form.get("learner", "")
        raw_item = request.form.get("item", "")
        raw_score = request.form.get("score", "").strip()
        if learner not in book.learners or not raw_item.isdigit():
            raise Refusal(400, "choose a learner and a line item of this course")
        item = require_item(int(raw_item))
        with book.lock:
            if not raw_score:
                book.results.pop((item.id, learner), None)
            else:
                try:
                    value = float(raw_score)
                except ValueError as err:
                    raise Refusal(400, "the grade must be a number") from err
                if not 0 <= value <= item.score_maximum:
                    raise Refusal(400, f"the grade must be 0 to {item.score_maximum:g}")
                book.results[(item.id, learner)] = ResultRecord(
                    user_id=learner,
                    score_given=value,
                    score_maximum=item.score_maximum,
                    comment="Changed by the instructor",
                    timestamp=datetime.now(UTC),
                    activity_progress="Completed",
                    grading_progress="FullyGraded",
                    scoring_user_id=instructor,
                )
        return redirect("/gradebook", code=303)  # type: ignore[return-value]

    @app.get("/gradebook")
    def gradebook() -> str:
        with book.lock:
            items = list(book.items.values())
            cells = dict(book.results)
            history = list(reversed(book.history))[:50]
        return render_template(
            "demo_lms_gradebook.html",
            context_id=context_id,
            items=items,
            learners=book.learners,
            cells=cells,
            history=history,
            item_labels={i.id: i.label for i in items},
        )

    return book


def lineitem_url(gradebook: Gradebook, base_url: str, item: LineItemRecord) -> str:
    """A line item's own URL (its ``id``)."""
    return f"{base_url}/ags/{gradebook.context_id}/lineitems/{item.id}/lineitem"


def launch_claim(gradebook: Gradebook, base_url: str, link_id: str) -> dict[str, Any]:
    """The AGS claim of a launch from ``link_id`` (AGS 2.0 3.1): the link's own line item
    and the course's container, with every scope the demo LMS grants."""
    root = f"{base_url}/ags/{gradebook.context_id}"
    claim: dict[str, Any] = {"scope": list(SCOPES), "lineitems": f"{root}/lineitems"}
    item = gradebook.item_for_link(link_id)
    if item is not None:
        claim["lineitem"] = lineitem_url(gradebook, base_url, item)
    return {ENDPOINT_CLAIM: claim}
