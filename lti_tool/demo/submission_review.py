"""The demo LMS's side of LTI Submission Review: the gradebook's "Review submission" button
sends a real LtiSubmissionReviewRequest for one learner's result in a line item that
declares ``submissionReview``, launched by the course's instructor.

The message is the placed link's launch (its resource link and custom parameters, merged
with the review's own custom ones) with message_type LtiSubmissionReviewRequest, the AGS
claim naming the reviewed line item, and ``for_user`` naming the learner.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, redirect
from werkzeug.wrappers import Response

from lti_tool.demo.ags import SCOPES, Gradebook, LineItemRecord, lineitem_url
from lti_tool.demo.deep_linking import Placements, login_initiation_url
from lti_tool.lti.grades import ENDPOINT_CLAIM

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = "LtiSubmissionReviewRequest"
REVIEW_HINT = "review-"


def review_hint(item_id: int, learner: str) -> str:
    """The lti_message_hint of a review launch: which line item, whose result."""
    return f"{REVIEW_HINT}{item_id}-{learner}"


def _parse_hint(hint: str, book: Gradebook) -> tuple[LineItemRecord, str] | None:
    if not hint.startswith(REVIEW_HINT):
        return None
    raw_id, _sep, learner = hint[len(REVIEW_HINT) :].partition("-")
    item = book.items.get(int(raw_id)) if raw_id.isdigit() else None
    if item is None or not item.submission_review or learner not in book.learners:
        return None
    return item, learner


def knows_hint(hint: str, book: Gradebook) -> bool:
    return _parse_hint(hint, book) is not None


def _target(item: LineItemRecord, placements: Placements, tool_launch_url: str) -> str:
    """Where the review launches: the line item's review url, else its link's own url."""
    review = item.submission_review or {}
    link = placements.get_link(item.resource_link_id) if item.resource_link_id else None
    return str(review.get("url") or (link.url if link else "") or tool_launch_url)


def install(
    app: Flask,
    book: Gradebook,
    placements: Placements,
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    tool_login_url: str,
    tool_launch_url: str,
    instructor: str,
) -> None:
    """Add the gradebook's review route (a third-party initiated login, LTI 1.3 4.1)."""

    @app.get("/gradebook/review/<int:item_id>/<learner>")
    def review_submission(item_id: int, learner: str) -> Response:
        item = book.items.get(item_id)
        if item is None or learner not in book.learners:
            abort(404)
        # As a platform must: the review is offered only for a result whose progress the
        # line item's reviewableStatus lists.
        if not item.reviewable(book.results.get((item.id, learner))):
            abort(404)
        return redirect(
            login_initiation_url(
                tool_login_url,
                issuer=issuer,
                client_id=client_id,
                deployment_id=deployment_id,
                login=instructor,
                hint=review_hint(item.id, learner),
                target=_target(item, placements, tool_launch_url),
            )
        )


def prepare_message(
    message: Any,
    hint: str,
    book: Gradebook,
    placements: Placements,
    *,
    base_url: str,
    tool_launch_url: str,
) -> bool:
    """Turn the demo's standard launch into the review request the hint names; False when
    the hint names no review."""
    parsed = _parse_hint(hint, book)
    if parsed is None:
        return False
    item, learner = parsed
    review = item.submission_review or {}
    link = placements.get_link(item.resource_link_id) if item.resource_link_id else None
    if item.resource_link_id:
        message.set_resource_link_claim(
            item.resource_link_id, title=link.title if link else item.label
        )
    custom = {**(link.custom if link else {}), **review.get("custom", {})}
    if custom:
        message.set_custom_parameters_claim(custom)
    message.set_launch_url(_target(item, placements, tool_launch_url))
    message.set_extra_claims(
        {
            CLAIM + "message_type": MESSAGE_TYPE,
            CLAIM + "for_user": {"user_id": learner, "name": book.learners[learner]},
            ENDPOINT_CLAIM: {
                "scope": list(SCOPES),
                "lineitems": f"{base_url}/ags/{book.context_id}/lineitems",
                "lineitem": lineitem_url(book, base_url, item),
            },
        }
    )
    return True
