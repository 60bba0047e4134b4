"""Ralph, the real LRS the demo ships with, behaves the way our xAPI sender relies on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from lti_tool.demo.ralph import RalphServer
from tests.fixtures.ralph import XAPI_HEADERS, ralph_auth, ralph_statements

pytestmark = pytest.mark.integration

VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def make_statement(n: int) -> dict:
    # Every statement carries a zone-aware timestamp: on Ralph's FS backend a single naive
    # timestamp breaks every later `since` query, and without a timestamp a re-send is 409.
    when = datetime(2025, 3, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
    return {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example.org", "name": f"learner-{n}"},
        },
        "verb": {"id": VERB_COMPLETED, "display": {"en-US": "completed"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://cx-academy.example.org/activities/scenario-{n}",
        },
        "timestamp": when.isoformat(),
    }


def post_statements(
    server: RalphServer, statements: list[dict], auth: tuple[str, str] | None = None
) -> requests.Response:
    return requests.post(
        server.config.statements_url,
        json=statements,
        auth=auth or ralph_auth(server),
        headers=XAPI_HEADERS,
        timeout=30,
    )


def stored_ids(server: RalphServer, statements: list[dict]) -> list[str]:
    found = []
    for statement in statements:
        got = ralph_statements(server, statementId=statement["id"])
        assert len(got) == 1, f"{statement['id']} read back {len(got)} times"
        assert got[0]["verb"]["id"] == VERB_COMPLETED
        assert got[0]["timestamp"] == statement["timestamp"]
        found.append(got[0]["id"])
    return found


def test_endpoint_is_the_xapi_base(ralph: RalphServer) -> None:
    assert ralph.config.endpoint == f"http://127.0.0.1:{ralph.config.port}/xAPI/"
    assert ralph.is_running


def test_batch_is_stored_and_read_back_by_id(ralph: RalphServer) -> None:
    batch = [make_statement(n) for n in range(3)]

    response = post_statements(ralph, batch)

    assert response.status_code == 200, response.text
    assert response.json() == [s["id"] for s in batch]
    assert stored_ids(ralph, batch) == [s["id"] for s in batch]


def test_later_batches_are_appended(ralph: RalphServer) -> None:
    # Ralph's FS backend creates its file on the first write and refuses every later one
    # (500) unless RalphServer switches it to append; two POSTs prove the switch is on.
    first = [make_statement(n) for n in range(10, 12)]
    second = [make_statement(n) for n in range(20, 23)]

    assert post_statements(ralph, first).status_code == 200
    response = post_statements(ralph, second)

    assert response.status_code == 200, response.text
    assert stored_ids(ralph, first + second) == [s["id"] for s in first + second]


def test_identical_resend_is_accepted_without_duplicating(ralph: RalphServer) -> None:
    # The sender retries a batch whose answer it never saw (timeout, worker crash); an LRS
    # must treat an identical statement id as already stored. Ralph answers 204 for that
    # only when the statement carries its own timestamp (otherwise it stamps "now", the
    # copies differ and it answers 409), which is why the sender always sets one.
    batch = [make_statement(n) for n in range(30, 33)]
    assert post_statements(ralph, batch).status_code == 200

    resend = post_statements(ralph, batch)

    assert resend.status_code == 204, resend.text
    assert stored_ids(ralph, batch) == [s["id"] for s in batch]


def test_listing_follows_more_links(ralph: RalphServer) -> None:
    batch = [make_statement(n) for n in range(40, 45)]
    assert post_statements(ralph, batch).status_code == 200

    listed = ralph_statements(ralph, limit=2)

    ids = [s["id"] for s in listed]
    assert len(ids) == len(set(ids)), "pagination returned a statement twice"
    assert {s["id"] for s in batch} <= set(ids)


def test_statements_survive_a_restart(ralph: RalphServer) -> None:
    batch = [make_statement(n) for n in range(50, 53)]
    assert post_statements(ralph, batch).status_code == 200
    old_pid = ralph.pid

    ralph.restart()

    assert ralph.is_running and ralph.pid != old_pid
    assert stored_ids(ralph, batch) == [s["id"] for s in batch]
    # The restarted server still appends rather than refusing the existing file.
    after = [make_statement(60)]
    assert post_statements(ralph, after).status_code == 200
    assert stored_ids(ralph, after) == [after[0]["id"]]


def test_wrong_password_is_401(ralph: RalphServer) -> None:
    wrong = (ralph.config.username, ralph.config.password + "-wrong")

    post = post_statements(ralph, [make_statement(70)], auth=wrong)
    get = requests.get(ralph.config.statements_url, auth=wrong, headers=XAPI_HEADERS, timeout=30)

    assert post.status_code == 401
    assert get.status_code == 401
