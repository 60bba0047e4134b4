"""The demo LMS checks a Deep Linking response as a platform must (signature aside, which
the end-to-end test covers with the tool's real JWKS)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from lti_tool.demo.ags import Gradebook
from lti_tool.demo.deep_linking import Placements, ResponseRefusedError, check_response

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
ISSUER = "http://lms.test"
CLIENT = "cxa-demo-client"
TOOL = "http://tool.test"


@pytest.fixture
def placements(tmp_path: Path) -> Placements:
    return Placements(tmp_path / "placed.json")


def response(data: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": CLIENT,
        "aud": ISSUER,
        "iat": now,
        "exp": now + 300,
        "nonce": f"nonce-{data}",
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": "dep-1",
        DL + "data": data,
        DL + "content_items": [
            {
                "type": "ltiResourceLink",
                "url": TOOL + "/lti/activities/quiz/q",
                "custom": {"cxa_activity": "quiz:q"},
                "lineItem": {"scoreMaximum": 100, "label": "Q"},
            }
        ],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def check(claims: dict[str, Any], placements: Placements) -> tuple[str, list[dict[str, Any]]]:
    return check_response(
        claims,
        issuer=ISSUER,
        client_id=CLIENT,
        deployment_id="dep-1",
        tool_url=TOOL,
        placements=placements,
    )


def test_a_good_response_names_the_instructor_and_its_items(placements: Placements) -> None:
    data = placements.open_request("grace")

    login, items = check(response(data), placements)

    assert login == "grace"
    assert items[0]["custom"] == {"cxa_activity": "quiz:q"}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "someone-else"}, "iss"),
        ({"aud": "http://other-lms.test"}, "aud"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"iat": int(time.time()) + 3600}, "iat"),
        ({CLAIM + "message_type": "LtiResourceLinkRequest"}, "message_type"),
        ({CLAIM + "version": "1.1"}, "version"),
        ({CLAIM + "deployment_id": "dep-2"}, "deployment_id"),
        ({DL + "content_items": [{"type": "html", "html": "<b>x</b>"}]}, "type"),
        ({DL + "content_items": [{"type": "ltiResourceLink", "url": "http://evil.test/"}]}, "away"),
        (
            {DL + "content_items": [{"type": "ltiResourceLink", "lineItem": {"label": "x"}}]},
            "scoreMaximum",
        ),
        (
            {
                DL + "content_items": [
                    {
                        "type": "ltiResourceLink",
                        "lineItem": {"scoreMaximum": 1, "submissionReview": {"url": "x"}},
                    }
                ]
            },
            "reviewableStatus",
        ),
        ({"nonce": None}, "nonce"),
    ],
)
def test_a_response_failing_a_check_is_refused_and_leaves_the_request_open(
    placements: Placements, changes: dict[str, Any], reason: str
) -> None:
    data = placements.open_request("grace")

    with pytest.raises(ResponseRefusedError, match=reason):
        check(response(data, **changes), placements)
    # The refusal spent nothing: the genuine answer still goes through.
    assert check(response(data), placements)[0] == "grace"


def test_data_that_echoes_no_open_request_is_refused(placements: Placements) -> None:
    placements.open_request("grace")

    with pytest.raises(ResponseRefusedError, match="data"):
        check(response("made-up"), placements)


def test_a_response_is_accepted_once(placements: Placements) -> None:
    data = placements.open_request("grace")
    check(response(data), placements)

    with pytest.raises(ResponseRefusedError):
        check(response(data), placements)


def test_a_reused_nonce_is_refused_even_with_fresh_data(placements: Placements) -> None:
    first = placements.open_request("grace")
    check(response(first, nonce="same"), placements)
    second = placements.open_request("grace")

    with pytest.raises(ResponseRefusedError, match="nonce"):
        check(response(second, nonce="same"), placements)


def test_the_platform_creates_the_line_item_bound_to_the_new_link() -> None:
    book = Gradebook(context_id="c", learners={"ada": "Ada"})
    review = {"reviewableStatus": ["Completed"], "url": TOOL + "/lti/review/quiz/q"}
    item = book.add_item_from_content_item(
        "link-9",
        {"scoreMaximum": 100, "label": "Q", "resourceId": "quiz:q", "submissionReview": review},
    )
    assert book.item_for_link("link-9") is item
    assert (item.resource_id, item.score_maximum, item.submission_review) == ("quiz:q", 100, review)
