"""The AGS client against scripted platform answers: media types, URLs, paging, token
renewal, and how each kind of failure is sorted (refused, unavailable, off-platform)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
import requests
import responses

from lti_tool.lti.grades import (
    LINEITEM_CONTAINER_MEDIA_TYPE,
    LINEITEM_MEDIA_TYPE,
    RESULT_CONTAINER_MEDIA_TYPE,
    SCOPE_SCORE,
    SCORE_MEDIA_TYPE,
    AgsClient,
    AgsEndpoint,
    GradeRefusedError,
    GradeUnauthorizedError,
    GradeUnavailableError,
    OffPlatformURLError,
    Score,
    format_timestamp,
    next_page,
    next_timestamp,
    require_platform_url,
    service_url,
)

LMS = "https://lms.example"
LINEITEM = f"{LMS}/mod/lti/services.php/7/lineitems/12/lineitem?type_id=3"
SCORES = f"{LMS}/mod/lti/services.php/7/lineitems/12/lineitem/scores?type_id=3"
LINEITEMS = f"{LMS}/mod/lti/services.php/7/lineitems?type_id=3"


class Tokens:
    """The token seam: hands out numbered tokens and counts renewals."""

    def __init__(self) -> None:
        self.issued = 0
        self.renewals = 0

    def __call__(self, scopes: Sequence[str], renew: bool) -> str:
        if renew or self.issued == 0:
            self.issued += 1
            self.renewals += int(renew)
        return f"token-{self.issued}"


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def client(tokens: Tokens) -> Iterator[AgsClient]:
    session = requests.Session()
    yield AgsClient(session, tokens, owners=(f"{LMS}/mod/lti/token.php", LMS))
    session.close()


def score(**changes: object) -> Score:
    values: dict[str, object] = {
        "user_id": "42",
        "score_given": 9.0,
        "score_maximum": 10.0,
        "activity_progress": "Completed",
        "grading_progress": "FullyGraded",
        "timestamp": datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
        "comment": "Best of 2 attempts",
    }
    values.update(changes)
    return Score(**values)  # type: ignore[arg-type]


def test_a_score_goes_to_the_scores_path_before_the_query_with_the_v1_media_type(
    http: responses.RequestsMock, client: AgsClient
) -> None:
    http.post(SCORES, status=200)
    client.post_score(LINEITEM, score())
    sent = http.calls[0].request
    assert sent.headers["Content-Type"] == SCORE_MEDIA_TYPE
    assert sent.headers["Authorization"] == "Bearer token-1"
    assert json.loads(sent.body or b"{}") == {
        "userId": "42",
        "scoreGiven": 9.0,
        "scoreMaximum": 10.0,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-11-30T12:00:00.123+00:00",
        "comment": "Best of 2 attempts",
    }


def test_a_401_renews_the_token_once_and_the_retry_succeeds(
    http: responses.RequestsMock, client: AgsClient, tokens: Tokens
) -> None:
    http.post(SCORES, status=401, json={"reason": "token revoked"})
    http.post(SCORES, status=200)
    client.post_score(LINEITEM, score())
    assert tokens.renewals == 1
    assert [c.request.headers["Authorization"] for c in http.calls] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


@pytest.mark.parametrize("status", [401, 403])
def test_a_second_refusal_of_the_token_is_final_with_the_lms_reason(
    http: responses.RequestsMock, client: AgsClient, tokens: Tokens, status: int
) -> None:
    http.post(SCORES, status=status, json={"reason": "tool not allowed in this course"})
    http.post(SCORES, status=status, json={"reason": "tool not allowed in this course"})
    with pytest.raises(GradeUnauthorizedError) as caught:
        client.post_score(LINEITEM, score())
    assert tokens.renewals == 1
    assert len(http.calls) == 2
    assert caught.value.http_status == status
    assert "tool not allowed in this course" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_outages_are_unavailable_not_refused(
    http: responses.RequestsMock, client: AgsClient, status: int
) -> None:
    http.post(SCORES, status=status, headers={"Retry-After": "7"}, body="busy")
    with pytest.raises(GradeUnavailableError) as caught:
        client.post_score(LINEITEM, score())
    assert caught.value.retry_after == 7.0


def test_a_timeout_is_unavailable(http: responses.RequestsMock, client: AgsClient) -> None:
    http.post(SCORES, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(GradeUnavailableError, match="ReadTimeout"):
        client.post_score(LINEITEM, score())


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"reason": "Not Found: user 42 is not enrolled"}),
        (422, {"reason": "userId 42 is not a learner of course 7"}),
        (400, "Incorrect score received"),
    ],
)
def test_refusals_carry_the_lms_reason(
    http: responses.RequestsMock, client: AgsClient, status: int, body: object
) -> None:
    if isinstance(body, dict):
        http.post(SCORES, status=status, json=body)
    else:
        http.post(SCORES, status=status, body=str(body))
    with pytest.raises(GradeRefusedError) as caught:
        client.post_score(LINEITEM, score())
    assert not isinstance(caught.value, GradeUnauthorizedError)
    assert caught.value.http_status == status
    expected = body["reason"] if isinstance(body, dict) else body
    assert caught.value.reason == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://attacker.example/lineitems/1/lineitem",
        "http://lms.example/lineitems/1/lineitem",  # same host, other scheme
        "https://lms.example:8443/lineitems/1/lineitem",  # same host, other port
        "https://lms.example.attacker.example/lineitems/1",
        "file:///etc/passwd",
    ],
)
def test_an_off_platform_line_item_is_refused_before_any_request(
    http: responses.RequestsMock, client: AgsClient, tokens: Tokens, url: str
) -> None:
    with pytest.raises(OffPlatformURLError):
        client.post_score(url, score())
    assert len(http.calls) == 0
    assert tokens.issued == 0


def test_an_operator_allowed_host_is_accepted() -> None:
    url = "https://api.lms-cdn.example/lineitems/1/lineitem"
    owners = (f"{LMS}/token", LMS)
    with pytest.raises(OffPlatformURLError):
        require_platform_url(url, owners, ())
    assert require_platform_url(url, owners, ("api.lms-cdn.example",)) == url


def test_a_created_line_item_elsewhere_is_refused(
    http: responses.RequestsMock, client: AgsClient
) -> None:
    http.post(LINEITEMS, status=201, json={"id": "https://elsewhere.example/li/1", "label": "x"})
    with pytest.raises(OffPlatformURLError):
        client.create_lineitem(LINEITEMS, label="Quiz", score_maximum=10)


def test_line_items_are_listed_across_pages_and_filtered(
    http: responses.RequestsMock, client: AgsClient
) -> None:
    first = (
        f"{LMS}/mod/lti/services.php/7/lineitems?type_id=3&resource_link_id=l1&resource_id=quiz%3Aq"
    )
    second = f"{LMS}/mod/lti/services.php/7/lineitems?type_id=3&from=1"
    http.get(
        first,
        json=[{"id": f"{LMS}/li/1", "label": "A", "scoreMaximum": 10}],
        headers={"Link": f'<{LMS}/first>; rel="first", <{second}>; rel="next"'},
    )
    http.get(second, json=[{"id": f"{LMS}/li/2", "label": "B", "resourceId": "quiz:q"}])
    items = client.list_lineitems(LINEITEMS, resource_link_id="l1", resource_id="quiz:q")
    assert [i.id for i in items] == [f"{LMS}/li/1", f"{LMS}/li/2"]
    assert http.calls[0].request.headers["Accept"] == LINEITEM_CONTAINER_MEDIA_TYPE


def test_a_line_item_is_created_with_the_lineitem_media_type(
    http: responses.RequestsMock, client: AgsClient
) -> None:
    http.post(LINEITEMS, status=201, json={"id": f"{LMS}/li/9", "label": "Quiz"})
    item = client.create_lineitem(
        LINEITEMS, label="Quiz", score_maximum=10, resource_id="quiz:q", resource_link_id="l1"
    )
    sent = http.calls[0].request
    assert sent.headers["Content-Type"] == LINEITEM_MEDIA_TYPE
    assert sent.headers["Accept"] == LINEITEM_MEDIA_TYPE
    assert json.loads(sent.body or b"{}") == {
        "label": "Quiz",
        "scoreMaximum": 10,
        "resourceId": "quiz:q",
        "resourceLinkId": "l1",
    }
    assert item.id == f"{LMS}/li/9"


def test_results_are_read_with_the_resultcontainer_media_type(
    http: responses.RequestsMock, client: AgsClient
) -> None:
    url = f"{LMS}/mod/lti/services.php/7/lineitems/12/lineitem/results?type_id=3&user_id=42"
    http.get(url, json=[{"userId": "42", "resultScore": 8, "resultMaximum": 10}])
    results = client.list_results(LINEITEM, user_id="42")
    assert results[0].result_score == 8.0
    assert http.calls[0].request.headers["Accept"] == RESULT_CONTAINER_MEDIA_TYPE


@pytest.mark.parametrize(
    "header",
    [
        '<https://lms.example/p2>; rel="next"',
        "<https://lms.example/p2>; rel=next",
        # Moodle 4.x writes typographic quotes.
        "<https://lms.example/p1>; rel=\u201cfirst\u201d, "
        "<https://lms.example/p2>; rel=\u201cnext\u201d",
        '<https://lms.example/p0>; rel="prev", <https://lms.example/p2>; rel="next"',
    ],
)
def test_the_next_page_is_found_in_every_link_header_style(header: str) -> None:
    assert next_page(header) == "https://lms.example/p2"


def test_no_next_page_without_rel_next() -> None:
    assert next_page('<https://lms.example/p1>; rel="prev"') is None
    assert next_page('<https://lms.example/p1>; rel="nextish"') is None
    assert next_page(None) is None


def test_service_urls_keep_the_query_after_the_path() -> None:
    assert service_url(LINEITEM, "/scores") == SCORES
    assert service_url(f"{LMS}/li/1/", "/results", {"user_id": "a b"}) == (
        f"{LMS}/li/1/results?user_id=a+b"
    )


def test_timestamps_are_utc_with_milliseconds() -> None:
    assert format_timestamp(datetime(2026, 1, 2, 3, 4, 5, 6789, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.006+00:00"
    )


def test_a_timestamp_is_later_than_the_last_sent_in_whole_seconds() -> None:
    last = datetime(2026, 1, 1, 12, 0, 0, 900000, tzinfo=UTC)
    same_second = datetime(2026, 1, 1, 12, 0, 0, 950000, tzinfo=UTC)
    earlier = datetime(2026, 1, 1, 11, 59, 0, tzinfo=UTC)
    later = datetime(2026, 1, 1, 12, 0, 3, 250000, tzinfo=UTC)
    assert next_timestamp(same_second, last) == datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)
    assert next_timestamp(earlier, last) == datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)
    assert next_timestamp(later, last) == later
    assert next_timestamp(later, None) == later


def test_the_claim_is_read_with_its_scopes() -> None:
    claims = {
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [SCOPE_SCORE],
            "lineitem": LINEITEM,
        }
    }
    endpoint = AgsEndpoint.from_claims(claims)
    assert endpoint is not None
    assert endpoint.can_score and not endpoint.can_manage_lineitems
    assert endpoint.lineitem == LINEITEM
    assert AgsEndpoint.from_claims({}) is None


def test_a_created_line_item_may_declare_submission_review(
    http: responses.RequestsMock, client: AgsClient
) -> None:
    http.post(LINEITEMS, status=201, json={"id": f"{LMS}/li/9", "label": "Quiz"})
    review = {"reviewableStatus": ["Submitted", "Completed"], "url": "https://tool/lti/review"}
    client.create_lineitem(LINEITEMS, label="Quiz", score_maximum=10, submission_review=review)
    assert json.loads(http.calls[0].request.body or b"{}")["submissionReview"] == review
