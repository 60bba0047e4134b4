"""LRSClient against canned LRS answers (responses library; no network).

Status handling follows xAPI 1.0.3 Part Three 2.1.2 and 3.2, and what Ralph 5.1 does:
200 with the id list for a new batch, 204 for an identical re-send of timestamped
statements, 409 when a known id arrives with different content.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from tests.unit.xapi.catalogue import NAMESPACE, STATEMENT_KINDS
from xapi.errors import LRSError
from xapi.lrs import EncodedStatement, LRSClient, Outcome, PostResult, parse_retry_after
from xapi.statements import build_statement

ENDPOINT = "https://lrs.example/xAPI/"
STATEMENTS_URL = "https://lrs.example/xAPI/statements"
TOKEN_URL = "https://auth.example/oauth/token"
BASIC = "Basic " + base64.b64encode(b"cx-tool:s3cret").decode()


@pytest.fixture
def lrs() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[LRSClient]:
    with LRSClient(ENDPOINT, username="cx-tool", password="s3cret") as lrs_client:
        yield lrs_client


def statements(*kinds: str) -> list[dict[str, Any]]:
    return [build_statement(STATEMENT_KINDS[kind], namespace=NAMESPACE) for kind in kinds]


# -- POST outcomes ------------------------------------------------------------------


def test_200_is_stored_with_the_ids(lrs: responses.RequestsMock, client: LRSClient) -> None:
    batch = statements("launched", "passed_quiz")
    ids = [s["id"] for s in batch]
    lrs.post(STATEMENTS_URL, json=ids, status=200)

    result = client.post_statements(batch)

    assert result.outcome is Outcome.STORED
    assert result.status == 200
    assert result.statement_ids == tuple(ids)
    assert result.delivered
    sent = lrs.calls[0].request
    assert json.loads(sent.body or b"") == batch  # one POST, a JSON array
    assert sent.headers["Content-Type"] == "application/json"


def test_headers_carry_version_and_basic_auth(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    lrs.post(
        STATEMENTS_URL,
        json=[statements("launched")[0]["id"]],
        match=[
            matchers.header_matcher({"X-Experience-API-Version": "1.0.3", "Authorization": BASIC})
        ],
    )
    assert client.post_statements(statements("launched")).outcome is Outcome.STORED


def test_204_is_stored(lrs: responses.RequestsMock, client: LRSClient) -> None:
    # Ralph: every id already stored with equal content (a re-send after a lost answer).
    lrs.post(STATEMENTS_URL, status=204)
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.STORED, 204)


def stored_as(statement: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``statement`` as an LRS returns it: with the properties the LRS sets, and changes."""
    return {
        **statement,
        "stored": "2026-11-30T10:00:00.123+00:00",
        "authority": {"objectType": "Agent", "account": {"homePage": "https://lrs", "name": "t"}},
        "version": "1.0.0",
        **changes,
    }


def test_409_with_the_same_statement_stored_is_duplicate(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    (sent,) = statements("launched")
    lrs.post(STATEMENTS_URL, status=409, json={"detail": "Duplicate IDs in the list"})
    lrs.get(
        STATEMENTS_URL,
        json={"statements": [stored_as(sent)]},
        match=[matchers.query_param_matcher({"statementId": sent["id"]})],
    )
    result = client.post_statements([sent])
    assert (result.outcome, result.status) == (Outcome.DUPLICATE, 409)
    assert result.delivered


def test_409_with_different_content_is_a_conflict_with_the_lrs_version(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    (sent,) = statements("passed_quiz")
    theirs = stored_as(sent, result={"success": False})
    lrs.post(STATEMENTS_URL, status=409)
    lrs.get(STATEMENTS_URL, json=theirs)

    result = client.post_statements([sent])

    assert result.outcome is Outcome.CONFLICT and not result.delivered
    (conflict,) = result.conflicts
    assert conflict.statement_id == sent["id"]
    assert conflict.stored == theirs
    assert conflict.differences == ("result",)
    assert "conflict" in result.detail and "result" in result.detail


def encoded(statement: dict[str, Any]) -> EncodedStatement:
    # Spaced and ordered unlike json.dumps' defaults: the text must go out exactly as stored.
    return EncodedStatement(statement["id"], json.dumps(statement, indent=1, sort_keys=True))


def test_encoded_statements_are_posted_as_stored(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    batch = statements("launched", "passed_quiz")
    lrs.post(STATEMENTS_URL, json=[s["id"] for s in batch], status=200)

    result = client.post_statements([encoded(s) for s in batch])

    assert result.outcome is Outcome.STORED
    texts = [encoded(s).json for s in batch]
    assert lrs.calls[0].request.body == f"[{texts[0]},{texts[1]}]".encode()


def test_an_encoded_statement_in_conflict_is_compared_decoded(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    same, other = statements("launched", "passed_quiz")
    lrs.post(STATEMENTS_URL, status=409)
    lrs.get(
        STATEMENTS_URL,
        json=stored_as(same),
        match=[matchers.query_param_matcher({"statementId": same["id"]})],
    )
    lrs.get(
        STATEMENTS_URL,
        json=stored_as(other, result={"success": False}),
        match=[matchers.query_param_matcher({"statementId": other["id"]})],
    )

    result = client.post_statements([encoded(same), encoded(other)])

    assert result.outcome is Outcome.CONFLICT
    assert [c.statement_id for c in result.conflicts] == [other["id"]]
    assert result.conflicts[0].differences == ("result",)


def test_409_for_an_id_the_lrs_cannot_show_is_retried_later(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    lrs.post(STATEMENTS_URL, status=409)
    lrs.get(STATEMENTS_URL, status=404)
    result = client.post_statements(statements("launched"))
    assert result.outcome is Outcome.UNAVAILABLE


def test_409_batch_is_resolved_statement_by_statement(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    same, other, new = statements("launched", "passed_quiz", "completed_course")
    held = {same["id"]: stored_as(same), other["id"]: stored_as(other, verb={"id": "x:other"})}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body or b"[]")
        if len(sent) > 1 or sent[0]["id"] in held:
            return 409, {}, "conflict"
        return 200, {}, json.dumps([new["id"]])

    def read(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        wanted = request.url.split("statementId=")[1]  # type: ignore[union-attr]
        return 200, {}, json.dumps({"statements": [held[wanted]]})

    lrs.add_callback(responses.POST, STATEMENTS_URL, callback=answer)
    lrs.add_callback(responses.GET, STATEMENTS_URL, callback=read)

    result = client.post_statements([same, other, new])

    posts = [c for c in lrs.calls if c.request.method == "POST"]
    assert len(posts) == 4  # the batch, then each statement alone
    assert result.outcome is Outcome.CONFLICT
    assert result.statement_ids == (new["id"],)
    assert [c.statement_id for c in result.conflicts] == [other["id"]]
    assert result.conflicts[0].differences == ("verb",)
    assert "1 stored, 1 duplicate, 1 conflict" in result.detail


def test_409_batch_of_only_unchanged_duplicates_stays_duplicate(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    batch = statements("launched", "passed_quiz")
    lrs.post(STATEMENTS_URL, status=409)
    lrs.get(STATEMENTS_URL, json=stored_as(batch[0]))
    lrs.get(STATEMENTS_URL, json=stored_as(batch[1]))
    result = client.post_statements(batch)
    assert result.outcome is Outcome.DUPLICATE


# -- redirects and 200 answers that prove nothing -------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_never_counts_as_stored(
    lrs: responses.RequestsMock, status: int
) -> None:
    # An http endpoint that moved to https: requests would re-send a 301/302/303 as a GET
    # and take the target's 200 (a StatementResult) for a stored batch.
    moved = "https://lrs.example/xAPI/statements"
    lrs.post("http://lrs.example/xAPI/statements", status=status, headers={"Location": moved})
    lrs.get(moved, json={"statements": [], "more": ""})
    lrs.post(moved, json=[statements("launched")[0]["id"]])

    with LRSClient("http://lrs.example/xAPI", username="cx-tool", password="s3cret") as client:
        result = client.post_statements(statements("launched"))

    assert (result.outcome, result.status) == (Outcome.REJECTED, status)
    assert not result.delivered
    assert "redirect" in result.detail and moved in result.detail
    assert len(lrs.calls) == 1  # the target was never contacted, our credentials stay home


def test_oauth_token_request_does_not_follow_redirects(
    lrs: responses.RequestsMock, oauth_client: LRSClient
) -> None:
    lrs.post(TOKEN_URL, status=307, headers={"Location": "https://elsewhere.example/token"})
    lrs.post("https://elsewhere.example/token", json=token_answer("stolen"))
    result = oauth_client.post_statements(statements("launched"))
    assert not result.delivered
    assert len(lrs.calls) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"statements": [], "more": ""},  # a GET's StatementResult
        "<html>moved</html>",
        ["8f87ccde-bb56-4c2e-ab83-44982ef22df0"],  # an id we never sent
        [1, 2],
    ],
    ids=["statement-result", "html", "foreign-id", "not-strings"],
)
def test_a_200_without_the_ids_sent_is_not_stored(
    lrs: responses.RequestsMock, client: LRSClient, body: Any
) -> None:
    if isinstance(body, str):
        lrs.post(STATEMENTS_URL, body=body, status=200)
    else:
        lrs.post(STATEMENTS_URL, json=body, status=200)
    result = client.post_statements(statements("launched", "passed_quiz"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, 200)
    assert not result.delivered


def test_a_200_with_an_empty_array_for_one_statement_is_not_stored(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    lrs.post(STATEMENTS_URL, json=[])
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, 200)


def test_a_200_that_leaves_out_known_ids_settles_them_one_by_one(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    # Ralph lists only the ids it stored now; one it already held unchanged is left out.
    old, new = statements("launched", "passed_quiz")
    lrs.post(STATEMENTS_URL, json=[new["id"].upper()])
    lrs.post(STATEMENTS_URL, status=204)

    result = client.post_statements([old, new])

    assert result.outcome is Outcome.STORED and result.statement_ids == (new["id"],)
    assert json.loads(lrs.calls[1].request.body or b"") == [old]


def test_409_batch_with_an_unavailable_single_is_unavailable(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    lrs.post(STATEMENTS_URL, status=409)
    lrs.post(STATEMENTS_URL, status=409)
    lrs.post(STATEMENTS_URL, status=503, headers={"Retry-After": "30"})
    result = client.post_statements(statements("launched", "passed_quiz"))
    assert (result.outcome, result.retry_after) == (Outcome.UNAVAILABLE, 30.0)


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_client_errors_are_rejected(
    lrs: responses.RequestsMock, client: LRSClient, status: int
) -> None:
    lrs.post(STATEMENTS_URL, status=status, body="bad statement: actor.mbox")
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, status)
    assert "bad statement: actor.mbox" in result.detail
    assert not result.delivered


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_rejected_and_say_so(
    lrs: responses.RequestsMock, client: LRSClient, status: int
) -> None:
    lrs.post(STATEMENTS_URL, status=status)
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, status)
    assert "auth" in result.detail
    assert len(lrs.calls) == 1  # Basic auth: no retry with the same credentials


def test_429_with_retry_after_seconds(lrs: responses.RequestsMock, client: LRSClient) -> None:
    lrs.post(STATEMENTS_URL, status=429, headers={"Retry-After": "120"})
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status, result.retry_after) == (
        Outcome.UNAVAILABLE,
        429,
        120.0,
    )


def test_429_with_retry_after_http_date(lrs: responses.RequestsMock, client: LRSClient) -> None:
    later = datetime.now(UTC) + timedelta(seconds=90)
    lrs.post(
        STATEMENTS_URL, status=429, headers={"Retry-After": format_datetime(later, usegmt=True)}
    )
    result = client.post_statements(statements("launched"))
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.retry_after is not None and 80 <= result.retry_after <= 90


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_and_overload_are_unavailable(
    lrs: responses.RequestsMock, client: LRSClient, status: int
) -> None:
    lrs.post(STATEMENTS_URL, status=status, headers={"Retry-After": "5"})
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.UNAVAILABLE, status, 5.0)


def test_503_without_retry_after(lrs: responses.RequestsMock, client: LRSClient) -> None:
    lrs.post(STATEMENTS_URL, status=503)
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.retry_after) == (Outcome.UNAVAILABLE, None)


def test_500_is_unavailable(lrs: responses.RequestsMock, client: LRSClient) -> None:
    lrs.post(STATEMENTS_URL, status=500, body="Statement indexation failed")
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.UNAVAILABLE, 500)
    assert "indexation" in result.detail


def test_connection_error_is_unavailable(lrs: responses.RequestsMock, client: LRSClient) -> None:
    lrs.post(STATEMENTS_URL, body=requests.ConnectionError("connection refused"))
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.UNAVAILABLE, None)
    assert "connect" in result.detail


def test_timeout_is_unavailable(lrs: responses.RequestsMock, client: LRSClient) -> None:
    lrs.post(STATEMENTS_URL, body=requests.ReadTimeout("read timed out"))
    result = client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.UNAVAILABLE, None)
    assert "timed out" in result.detail


def test_timeout_is_passed_to_requests() -> None:
    class RecordingSession(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            self.seen_timeout = kwargs["timeout"]
            response = requests.Response()
            response.status_code = 204
            return response

    session = RecordingSession()
    client = LRSClient(ENDPOINT, timeout=(1.0, 2.0), session=session)
    client.post_statements(statements("launched"))
    assert session.seen_timeout == (1.0, 2.0)


def test_empty_batch_sends_nothing(lrs: responses.RequestsMock, client: LRSClient) -> None:
    assert client.post_statements([]) == PostResult(Outcome.STORED, None, "nothing to send")
    assert len(lrs.calls) == 0


class CountingSession(requests.Session):
    """A session that records its use, to see which one the client talks through."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.closed = False

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.requests += 1
        return super().request(*args, **kwargs)

    def close(self) -> None:
        self.closed = True
        super().close()


def test_all_requests_go_through_the_one_session(lrs: responses.RequestsMock) -> None:
    session = CountingSession()
    lrs.post(STATEMENTS_URL, status=204)
    lrs.get(STATEMENTS_URL, status=404)
    client = LRSClient(ENDPOINT, session=session)
    client.post_statements(statements("launched"))
    client.post_statements(statements("launched"))
    client.get_statement("8f87ccde-bb56-4c2e-ab83-44982ef22df0")
    assert session.requests == 3
    client.close()
    assert not session.closed  # a caller's session is the caller's to close


# -- reads --------------------------------------------------------------------------


def test_get_statement(lrs: responses.RequestsMock, client: LRSClient) -> None:
    stored = statements("launched")[0]
    lrs.get(
        STATEMENTS_URL,
        json=stored,
        match=[matchers.query_param_matcher({"statementId": stored["id"]})],
    )
    assert client.get_statement(stored["id"]) == stored
    assert lrs.calls[0].request.headers["X-Experience-API-Version"] == "1.0.3"


def test_get_statement_wrapped_in_a_statement_result(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    # Ralph 5.1 answers a statementId GET with {"statements": [...]}, not the statement.
    stored = statements("launched")[0]
    lrs.get(STATEMENTS_URL, json={"statements": [stored]})
    lrs.get(STATEMENTS_URL, json={"statements": []})
    assert client.get_statement(stored["id"]) == stored
    assert client.get_statement(stored["id"]) is None


def test_get_missing_statement_is_none(lrs: responses.RequestsMock, client: LRSClient) -> None:
    lrs.get(STATEMENTS_URL, status=404)
    assert client.get_statement("8f87ccde-bb56-4c2e-ab83-44982ef22df0") is None


def test_get_statement_failure_raises(lrs: responses.RequestsMock, client: LRSClient) -> None:
    lrs.get(STATEMENTS_URL, status=500)
    with pytest.raises(LRSError, match="500"):
        client.get_statement("8f87ccde-bb56-4c2e-ab83-44982ef22df0")


def test_get_statement_connection_error_raises(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    lrs.get(STATEMENTS_URL, body=requests.ConnectionError("down"))
    with pytest.raises(LRSError, match="down"):
        client.get_statement("8f87ccde-bb56-4c2e-ab83-44982ef22df0")


def test_query_follows_more_links(lrs: responses.RequestsMock, client: LRSClient) -> None:
    first, second, third = statements("launched", "passed_quiz", "completed_course")
    more = "/xAPI/statements/?verb=x&pit_id=abc&search_after=2"
    lrs.get(
        STATEMENTS_URL,
        json={"statements": [first, second], "more": more},
        match=[matchers.query_param_matcher({"verb": "x", "limit": "2"})],
    )
    lrs.get(
        "https://lrs.example" + more,
        json={"statements": [third], "more": ""},
        match=[matchers.query_param_matcher({"verb": "x", "pit_id": "abc", "search_after": "2"})],
    )
    assert client.query_statements(verb="x", limit="2") == [first, second, third]


def test_query_refuses_a_more_link_loop(lrs: responses.RequestsMock, client: LRSClient) -> None:
    page = {"statements": statements("launched"), "more": "/xAPI/statements?page=2"}
    lrs.get(STATEMENTS_URL, json=page)
    with pytest.raises(LRSError, match="same 'more' link"):
        client.query_statements(verb="x")


def test_query_without_statements_array_raises(
    lrs: responses.RequestsMock, client: LRSClient
) -> None:
    lrs.get(STATEMENTS_URL, json=["not", "a", "result"])
    with pytest.raises(LRSError):
        client.query_statements()


# -- OAuth2 client credentials ------------------------------------------------------


@pytest.fixture
def oauth_client() -> Iterator[LRSClient]:
    with LRSClient(
        ENDPOINT, token_url=TOKEN_URL, client_id="cx-tool", client_secret="s3cret"
    ) as lrs_client:
        yield lrs_client


def token_answer(token: str, expires_in: int = 3600) -> dict[str, Any]:
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


def test_oauth_token_is_fetched_once_and_reused(
    lrs: responses.RequestsMock, oauth_client: LRSClient
) -> None:
    lrs.post(
        TOKEN_URL,
        json=token_answer("t-1"),
        match=[
            matchers.urlencoded_params_matcher({"grant_type": "client_credentials"}),
            matchers.header_matcher({"Authorization": BASIC}),  # RFC 6749 2.3.1
        ],
    )
    lrs.post(
        STATEMENTS_URL,
        status=204,
        match=[matchers.header_matcher({"Authorization": "Bearer t-1"})],
    )
    assert oauth_client.post_statements(statements("launched")).outcome is Outcome.STORED
    assert oauth_client.post_statements(statements("launched")).outcome is Outcome.STORED
    token_calls = [c for c in lrs.calls if c.request.url == TOKEN_URL]
    assert len(token_calls) == 1


def test_oauth_token_is_refreshed_once_on_401(
    lrs: responses.RequestsMock, oauth_client: LRSClient
) -> None:
    lrs.post(TOKEN_URL, json=token_answer("stale"))
    lrs.post(TOKEN_URL, json=token_answer("fresh"))
    lrs.post(
        STATEMENTS_URL,
        status=401,
        match=[matchers.header_matcher({"Authorization": "Bearer stale"})],
    )
    lrs.post(
        STATEMENTS_URL,
        json=[statements("launched")[0]["id"]],
        match=[matchers.header_matcher({"Authorization": "Bearer fresh"})],
    )
    result = oauth_client.post_statements(statements("launched"))
    assert result.outcome is Outcome.STORED
    assert [c.request.url for c in lrs.calls] == [
        TOKEN_URL,
        STATEMENTS_URL,
        TOKEN_URL,
        STATEMENTS_URL,
    ]


def test_oauth_second_401_is_rejected_not_looped(
    lrs: responses.RequestsMock, oauth_client: LRSClient
) -> None:
    lrs.post(TOKEN_URL, json=token_answer("t"))
    lrs.post(STATEMENTS_URL, status=401)
    result = oauth_client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, 401)
    assert len(lrs.calls) == 4  # token, post, token, post: exactly one refresh


def test_oauth_expired_token_is_fetched_again(
    lrs: responses.RequestsMock, oauth_client: LRSClient
) -> None:
    # expires_in below the safety margin: the token counts as expired at once.
    lrs.post(TOKEN_URL, json=token_answer("short", expires_in=1))
    lrs.post(STATEMENTS_URL, status=204)
    oauth_client.post_statements(statements("launched"))
    oauth_client.post_statements(statements("launched"))
    assert len([c for c in lrs.calls if c.request.url == TOKEN_URL]) == 2


def test_oauth_bad_client_credentials_are_rejected(
    lrs: responses.RequestsMock, oauth_client: LRSClient
) -> None:
    lrs.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    result = oauth_client.post_statements(statements("launched"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, 401)
    assert "authentication" in result.detail
    assert all(c.request.url == TOKEN_URL for c in lrs.calls)


def test_oauth_token_endpoint_down_is_unavailable(
    lrs: responses.RequestsMock, oauth_client: LRSClient
) -> None:
    lrs.post(TOKEN_URL, body=requests.ConnectionError("no route"))
    result = oauth_client.post_statements(statements("launched"))
    assert result.outcome is Outcome.UNAVAILABLE


def test_oauth_failure_on_read_raises(lrs: responses.RequestsMock, oauth_client: LRSClient) -> None:
    lrs.post(TOKEN_URL, status=400, json={"error": "invalid_client"})
    with pytest.raises(LRSError, match="token endpoint"):
        oauth_client.get_statement("8f87ccde-bb56-4c2e-ab83-44982ef22df0")


# -- configuration and Retry-After parsing ------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"username": "u"},
        {"token_url": TOKEN_URL, "client_id": "c"},
        {
            "username": "u",
            "password": "p",
            "token_url": TOKEN_URL,
            "client_id": "c",
            "client_secret": "s",
        },
    ],
    ids=["username-without-password", "incomplete-oauth", "basic-and-oauth"],
)
def test_inconsistent_auth_settings_fail_fast(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        LRSClient(ENDPOINT, **kwargs)  # type: ignore[arg-type]


def test_endpoint_must_be_http() -> None:
    with pytest.raises(ValueError):
        LRSClient("lrs.example/xAPI")


@pytest.mark.parametrize("endpoint", ["https://lrs.example/xAPI", "https://lrs.example/xAPI/"])
def test_statements_url_with_or_without_trailing_slash(endpoint: str) -> None:
    assert LRSClient(endpoint).statements_url == STATEMENTS_URL


def test_parse_retry_after() -> None:
    now = datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
    assert parse_retry_after(None) is None
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after(" 45 ") == 45.0
    assert parse_retry_after("Tue, 03 Jun 2025 09:32:00 GMT", now=now) == 120.0
    assert parse_retry_after("Tue, 03 Jun 2025 09:00:00 GMT", now=now) == 0.0  # past: now
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
