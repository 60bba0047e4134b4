"""The demo LMS's NRPS endpoint refuses what a platform must refuse (tokens without the
scope or not its own, a media type it does not serve) and pages with Link rel=next; its
roster has a member who never launches and an Inactive one."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import responses
from flask.testing import FlaskClient

from lti_tool.demo.lms import COURSE, ROSTER_ONLY, DemoLMSConfig, create_demo_lms
from lti_tool.lti.grades import SCOPE_SCORE, next_page
from lti_tool.lti.roster import (
    MEMBERSHIP_MEDIA_TYPE,
    SCOPE_MEMBERSHIP_READONLY,
    NrpsEndpoint,
    RosterClient,
)
from tests.unit.lti_tool.test_demo_ags import BASE, bearer, token

URL = f"/nrps/{COURSE['id']}/memberships"


@pytest.fixture
def config(tmp_path: Path) -> DemoLMSConfig:
    return DemoLMSConfig(BASE, "http://tool.test", tmp_path)


@pytest.fixture
def lms(config: DemoLMSConfig) -> FlaskClient:
    return create_demo_lms(config).test_client()


def test_without_a_token_or_with_a_foreign_one_it_is_401(
    lms: FlaskClient, config: DemoLMSConfig
) -> None:
    assert lms.get(URL, headers={"Accept": MEMBERSHIP_MEDIA_TYPE}).status_code == 401
    forged = token(config, SCOPE_MEMBERSHIP_READONLY, iss="https://someone.else")
    assert lms.get(URL, headers=bearer(forged, Accept=MEMBERSHIP_MEDIA_TYPE)).status_code == 401


def test_a_token_without_the_membership_scope_is_403(
    lms: FlaskClient, config: DemoLMSConfig
) -> None:
    response = lms.get(
        URL, headers=bearer(token(config, SCOPE_SCORE), Accept=MEMBERSHIP_MEDIA_TYPE)
    )
    assert response.status_code == 403


def test_a_media_type_it_does_not_serve_is_406(lms: FlaskClient, config: DemoLMSConfig) -> None:
    headers = bearer(token(config, SCOPE_MEMBERSHIP_READONLY), Accept="application/xml")
    assert lms.get(URL, headers=headers).status_code == 406


def test_pages_follow_link_rel_next_and_hold_everyone(
    lms: FlaskClient, config: DemoLMSConfig
) -> None:
    headers = bearer(token(config, SCOPE_MEMBERSHIP_READONLY), Accept=MEMBERSHIP_MEDIA_TYPE)
    first = lms.get(URL + "?limit=2", headers=headers)
    assert first.status_code == 200
    assert first.content_type == MEMBERSHIP_MEDIA_TYPE
    members = list(first.get_json()["members"])
    link = next_page(first.headers.get("Link"))
    while link:
        page = lms.get(link.removeprefix(BASE), headers=headers)
        members += page.get_json()["members"]
        link = next_page(page.headers.get("Link"))
    by_id = {m["user_id"]: m for m in members}
    assert {"ada", "sam", "grace", "noor", "ivan"} <= set(by_id)
    assert by_id["ivan"]["status"] == "Inactive"
    assert {e.user_id for e in ROSTER_ONLY} == {"noor", "ivan"}


def test_an_unknown_rlid_is_400(lms: FlaskClient, config: DemoLMSConfig) -> None:
    headers = bearer(token(config, SCOPE_MEMBERSHIP_READONLY), Accept=MEMBERSHIP_MEDIA_TYPE)
    assert lms.get(URL + "?rlid=nope", headers=headers).status_code == 400
    assert lms.get(URL + "?rlid=cx-academy", headers=headers).status_code == 200


def test_our_roster_client_reads_the_demo_roster(lms: FlaskClient, config: DemoLMSConfig) -> None:
    """The tool's client against the demo endpoint, bridged in-process with responses."""

    def forward(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        answer = lms.get((request.url or "").removeprefix(BASE), headers=dict(request.headers))
        headers = {k: v for k, v in answer.headers.items() if k in ("Content-Type", "Link")}
        return answer.status_code, headers, answer.get_data()

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, f"{BASE}{URL}", callback=forward)
        client = RosterClient(
            requests.Session(),
            lambda scopes, renew: token(config, *scopes),
            owners=(f"{BASE}/token", BASE),
        )
        members = client.list_members(NrpsEndpoint(f"{BASE}{URL}", ("2.0",)))
    assert {m.user_id: m.status for m in members}["ivan"] == "Inactive"
    assert len(members) == 5
