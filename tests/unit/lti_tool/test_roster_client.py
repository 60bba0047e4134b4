"""The NRPS client against scripted platform answers: media type and scope, paging, token
renewal, and how each fault is sorted (refused, unavailable, off-platform)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
import requests
import responses
from pylti1p3.exception import LtiServiceException
from responses import matchers

from lti_tool.lti.roster import (
    CLAIM,
    MAX_PAGES,
    MEMBERSHIP_MEDIA_TYPE,
    SCOPE_MEMBERSHIP_READONLY,
    Member,
    NrpsEndpoint,
    RosterClient,
    RosterRefusedError,
    RosterUnavailableError,
)
from lti_tool.lti.service_client import TokenSource

LMS = "https://lms.example"
MEMBERS = f"{LMS}/mod/lti/services.php/CourseSection/7/bindings/3/memberships"
ENDPOINT = NrpsEndpoint(memberships_url=MEMBERS, service_versions=("2.0",))


class Tokens:
    def __init__(self) -> None:
        self.issued = 0
        self.renewals = 0
        self.scopes: list[list[str]] = []

    def __call__(self, scopes: Sequence[str], renew: bool) -> str:
        self.scopes.append(list(scopes))
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
def client(tokens: Tokens) -> Iterator[RosterClient]:
    session = requests.Session()
    yield RosterClient(session, tokens, owners=(f"{LMS}/mod/lti/token.php", LMS))
    session.close()


def container(*members: dict[str, object]) -> dict[str, object]:
    return {"id": MEMBERS, "context": {"id": "7"}, "members": list(members)}


def test_the_claim_is_read_and_a_claim_without_version_2_is_not_used() -> None:
    claims = {CLAIM: {"context_memberships_url": MEMBERS, "service_versions": ["2.0"]}}
    assert NrpsEndpoint.from_claims(claims) == ENDPOINT
    assert (
        NrpsEndpoint.from_claims(
            {CLAIM: {"context_memberships_url": MEMBERS, "service_versions": ["1.0"]}}
        )
        is None
    )
    assert NrpsEndpoint.from_claims({CLAIM: {"service_versions": ["2.0"]}}) is None
    assert NrpsEndpoint.from_claims({}) is None


def test_members_are_read_with_the_media_type_and_scope_and_status_defaults_to_active(
    http: responses.RequestsMock, client: RosterClient, tokens: Tokens
) -> None:
    http.get(
        MEMBERS,
        match=[matchers.header_matcher({"Accept": MEMBERSHIP_MEDIA_TYPE})],
        json=container(
            {"user_id": "u1", "roles": ["Learner"], "name": "Ada", "email": "ada@x.test"},
            {"user_id": "u2", "status": "Inactive", "given_name": "Sam", "family_name": "L"},
            {"user_id": "u3", "status": "Deleted"},
            {"status": "Active"},  # no user_id: skipped, not fatal
        ),
    )
    members = client.list_members(ENDPOINT)
    assert [(m.user_id, m.status) for m in members] == [
        ("u1", "Active"),
        ("u2", "Inactive"),
        ("u3", "Deleted"),
    ]
    assert members[1].display_name == "Sam L"
    assert members[0].email == "ada@x.test"
    assert tokens.scopes == [[SCOPE_MEMBERSHIP_READONLY]]
    sent = http.calls[0].request
    assert sent.headers["Authorization"] == "Bearer token-1"
    assert "limit=" in (sent.url or "")


def test_rlid_asks_for_the_links_members(
    http: responses.RequestsMock, client: RosterClient
) -> None:
    http.get(
        MEMBERS,
        match=[matchers.query_param_matcher({"rlid": "link-9"}, strict_match=False)],
        json=container({"user_id": "u1"}),
    )
    assert [m.user_id for m in client.list_members(ENDPOINT, rlid="link-9")] == ["u1"]


def test_pages_are_followed_by_link_rel_next(
    http: responses.RequestsMock, client: RosterClient
) -> None:
    page2 = f"{LMS}/memberships/page/2"
    http.get(MEMBERS, json=container({"user_id": "u1"}), headers={"Link": f'<{page2}>; rel="next"'})
    http.get(page2, json=container({"user_id": "u2"}))
    assert [m.user_id for m in client.list_members(ENDPOINT)] == ["u1", "u2"]


def test_a_next_link_off_the_platform_is_refused_before_any_token_goes_there(
    http: responses.RequestsMock, client: RosterClient
) -> None:
    http.get(
        MEMBERS,
        json=container({"user_id": "u1"}),
        headers={"Link": '<https://evil.example/steal>; rel="next"'},
    )
    with pytest.raises(RosterRefusedError, match="refused"):
        client.list_members(ENDPOINT)
    assert len(http.calls) == 1


def test_an_off_platform_membership_url_is_refused_without_a_call(
    http: responses.RequestsMock, client: RosterClient, tokens: Tokens
) -> None:
    with pytest.raises(RosterRefusedError, match="refused"):
        client.list_members(NrpsEndpoint("https://evil.example/memberships", ("2.0",)))
    assert len(http.calls) == 0
    assert tokens.issued == 0


def test_paging_is_bounded(http: responses.RequestsMock, client: RosterClient) -> None:
    for n in range(MAX_PAGES):
        url = MEMBERS if n == 0 else f"{LMS}/memberships/page/{n}"
        http.get(
            url,
            json=container({"user_id": f"u{n}"}),
            headers={"Link": f'<{LMS}/memberships/page/{n + 1}>; rel="next"'},
        )
    with pytest.raises(RosterRefusedError, match="pages"):
        client.list_members(ENDPOINT)
    assert len(http.calls) == MAX_PAGES


def test_a_401_renews_the_token_once(
    http: responses.RequestsMock, client: RosterClient, tokens: Tokens
) -> None:
    http.get(MEMBERS, status=401, json={"reason": "revoked"})
    http.get(MEMBERS, json=container({"user_id": "u1"}))
    assert [m.user_id for m in client.list_members(ENDPOINT)] == ["u1"]
    assert tokens.renewals == 1


def test_a_token_refused_twice_is_final_with_the_reason(
    http: responses.RequestsMock, client: RosterClient, tokens: Tokens
) -> None:
    http.get(MEMBERS, status=401, json={"reason": "tool disabled"})
    http.get(MEMBERS, status=401, json={"reason": "tool disabled"})
    with pytest.raises(RosterRefusedError, match="tool disabled"):
        client.list_members(ENDPOINT)
    assert tokens.renewals == 1
    assert len(http.calls) == 2


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_unavailable(
    http: responses.RequestsMock, client: RosterClient, status: int
) -> None:
    http.get(MEMBERS, status=status, body="down")
    with pytest.raises(RosterUnavailableError, match=str(status)):
        client.list_members(ENDPOINT)


def test_a_timeout_is_unavailable(http: responses.RequestsMock, client: RosterClient) -> None:
    http.get(MEMBERS, body=requests.ConnectTimeout("slow"))
    with pytest.raises(RosterUnavailableError):
        client.list_members(ENDPOINT)


@pytest.mark.parametrize(
    "body", ["not json", '{"members": "nope"}', "[1, 2]"], ids=["text", "members", "array"]
)
def test_a_bad_answer_is_refused(
    http: responses.RequestsMock, client: RosterClient, body: str
) -> None:
    http.get(MEMBERS, body=body, content_type=MEMBERSHIP_MEDIA_TYPE)
    with pytest.raises(RosterRefusedError):
        client.list_members(ENDPOINT)


def test_member_fields_are_bounded_and_odd_status_means_active() -> None:
    member = Member.from_json(
        {"user_id": "u", "status": "Weird", "name": "x" * 1000, "roles": ["Learner", 7]}
    )
    assert member is not None
    assert member.status == "Active"
    assert member.name is not None and len(member.name) == 255
    assert member.roles == ("Learner",)
    assert Member.from_json({"user_id": "x" * 300}) is None


def _token_endpoint_answering(status: int) -> TokenSource:
    def token(scopes: Sequence[str], renew: bool) -> str:
        response = requests.Response()
        response.status_code = status
        response._content = b'{"error": "temporarily_unavailable"}'
        raise LtiServiceException("token endpoint", response)

    return token


@pytest.mark.parametrize(
    ("status", "error"), [(503, RosterUnavailableError), (400, RosterRefusedError)]
)
def test_a_token_endpoint_failure_is_sorted_like_any_platform_answer(
    http: responses.RequestsMock, status: int, error: type[Exception]
) -> None:
    # The shared service client's rule (as for AGS): a 5xx is worth asking again later.
    session = requests.Session()
    client = RosterClient(session, _token_endpoint_answering(status), owners=(LMS,))
    with pytest.raises(error, match="token endpoint"):
        client.list_members(ENDPOINT)
    assert len(http.calls) == 0
    session.close()
