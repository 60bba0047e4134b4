"""Grade sync from the grade outbox, on real SQLite, with the LMS (token endpoint and AGS)
scripted by `responses`: what is sent, retried, dead-lettered or superseded, and why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from sqlalchemy import select, update

from lti_tool.lti.grades import SCOPE_LINEITEM, SCOPE_RESULT_READONLY, SCOPE_SCORE, Result
from lti_tool.services import Services
from lti_tool.store import grades
from lti_tool.store.db import transaction
from lti_tool.store.grades import GradeEntry, GradeRow, GradeStatus
from lti_tool.store.keys import ensure_active_key
from lti_tool.store.platforms import PlatformSpec, add_platform
from workers.grades import (
    GradeClients,
    GradePolicy,
    Verdict,
    judge_result,
    reconcile_grades,
    send_grades,
)

LMS = "https://lms.example"
TOKEN_URL = f"{LMS}/mod/lti/token.php"
LINEITEMS = f"{LMS}/ags/7/lineitems"
LINEITEM = f"{LINEITEMS}/12/lineitem"
SCORES = f"{LINEITEM}/scores"


@dataclass
class FakeLMS:
    """The platform's token endpoint and AGS endpoints, scriptable per call."""

    tokens_issued: int = 0
    token_scopes: list[str] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]] | BaseException] = field(default_factory=list)

    def token(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        form = parse_qs(str(request.body))
        self.token_scopes.append(form["scope"][0])
        self.tokens_issued += 1
        body = {"access_token": f"tok-{self.tokens_issued}", "expires_in": 3600}
        return 200, {}, json.dumps(body)

    def score(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body or b"{}")
        body["_auth"] = request.headers["Authorization"]
        body["_content_type"] = request.headers["Content-Type"]
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            status, reply = answer
            return status, {}, json.dumps(reply)
        self.scores.append(body)
        return 200, {}, ""


@pytest.fixture
def lms() -> Iterator[FakeLMS]:
    fake = FakeLMS()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", TOKEN_URL, callback=fake.token)
        mock.add_callback("POST", SCORES, callback=fake.score)
        fake.mock = mock  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def platform_id(services: Services) -> int:
    with transaction(services.sessions) as session:
        ensure_active_key(session, services.settings.key_encryption_secret)
        platform = add_platform(
            session,
            PlatformSpec(
                name="Moodle",
                issuer=LMS,
                client_id="tool-1",
                auth_login_url=f"{LMS}/auth",
                auth_token_url=TOKEN_URL,
                key_set_url=f"{LMS}/certs",
                deployment_ids=("1",),
            ),
        )
        return platform.id


@pytest.fixture
def clients() -> Iterator[GradeClients]:
    made = GradeClients()
    yield made
    made.close()


class Grades:
    """The story-level view of the grade outbox."""

    def __init__(self, services: Services, platform_id: int, clients: GradeClients) -> None:
        self.services = services
        self.platform_id = platform_id
        self.clients = clients
        self.count = 0

    def queue(self, given: float = 8.0, **changes: Any) -> int:
        self.count += 1
        values: dict[str, Any] = {
            "source_id": f"quiz-attempt:{self.count}",
            "platform_id": self.platform_id,
            "deployment_id": "1",
            "sub": "learner-42",
            "context_id": "7",
            "resource_link_id": "link-1",
            "lineitem_url": LINEITEM,
            "lineitems_url": LINEITEMS,
            "scopes": (SCOPE_LINEITEM, SCOPE_RESULT_READONLY, SCOPE_SCORE),
            "resource_id": "quiz:service-foundations-quiz",
            "label": "Service foundations quiz",
            "score_given": given,
            "score_maximum": 10.0,
            "activity_progress": "Completed",
            "grading_progress": "FullyGraded",
            "comment": "Best of 1 attempt",
            "event_at": datetime(2026, 11, 30, 12, 0, 0, 400000, tzinfo=UTC),
        }
        values.update(changes)
        with transaction(self.services.sessions) as session:
            row = grades.add_grade(session, GradeEntry(**values))
            assert row is not None
            return row.id

    def send(self, tool_url: str | None = None, **policy: Any) -> Any:
        return send_grades(
            self.services.sessions,
            self.clients.factory(self.services),
            policy=GradePolicy(**policy),
            rand=lambda: 0.0,
            tool_url=tool_url,
        )

    def row(self, row_id: int) -> GradeRow:
        with self.services.sessions() as session:
            found = session.get(GradeRow, row_id)
            assert found is not None
            session.expunge(found)
            return found

    def let_time_pass(self) -> None:
        with transaction(self.services.sessions) as session:
            session.execute(
                update(GradeRow).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
            )

    def statuses(self) -> list[GradeStatus]:
        with self.services.sessions() as session:
            return list(session.scalars(select(GradeRow.status).order_by(GradeRow.id)))


@pytest.fixture
def outbox(services: Services, platform_id: int, clients: GradeClients) -> Grades:
    return Grades(services, platform_id, clients)


def test_a_score_is_sent_with_a_token_for_the_score_scope(lms: FakeLMS, outbox: Grades) -> None:
    row_id = outbox.queue(given=8.0)
    report = outbox.send()
    assert report.sent == 1
    (sent,) = lms.scores
    assert sent["userId"] == "learner-42"
    assert (sent["scoreGiven"], sent["scoreMaximum"]) == (8.0, 10.0)
    assert sent["timestamp"] == "2026-11-30T12:00:00.400+00:00"
    assert sent["_content_type"] == "application/vnd.ims.lis.v1.score+json"
    assert lms.token_scopes == [SCOPE_SCORE]
    row = outbox.row(row_id)
    assert row.status is GradeStatus.SENT
    assert row.sent_lineitem_url == LINEITEM


def test_the_token_is_cached_per_registration_and_scope_set(lms: FakeLMS, outbox: Grades) -> None:
    outbox.queue(given=5.0, sub="a")
    outbox.queue(given=6.0, sub="b")
    outbox.send()
    assert len(lms.scores) == 2
    assert lms.tokens_issued == 1


def test_a_401_gets_one_fresh_token_then_the_row_is_dead_with_the_reason(
    lms: FakeLMS, outbox: Grades
) -> None:
    lms.answers += [(401, {"reason": "access token revoked"})] * 2
    row_id = outbox.queue()
    report = outbox.send()
    assert report.dead == 1
    assert lms.tokens_issued == 2
    row = outbox.row(row_id)
    assert row.status is GradeStatus.DEAD
    assert row.last_error == "HTTP 401: access token revoked"


def test_a_401_cured_by_a_fresh_token_is_sent(lms: FakeLMS, outbox: Grades) -> None:
    lms.answers.append((401, {"reason": "expired"}))
    row_id = outbox.queue()
    outbox.send()
    assert outbox.row(row_id).status is GradeStatus.SENT
    assert lms.scores[0]["_auth"] == "Bearer tok-2"


@pytest.mark.parametrize(
    "failure",
    [(503, {"reason": "maintenance"}), requests.exceptions.ConnectTimeout("connect timed out")],
)
def test_outages_and_timeouts_are_retried_later(lms: FakeLMS, outbox: Grades, failure: Any) -> None:
    lms.answers.append(failure)
    row_id = outbox.queue()
    report = outbox.send()
    assert report.deferred == 1 and report.sent == 0
    row = outbox.row(row_id)
    assert row.status is GradeStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at > datetime.now(UTC)
    assert row.last_error and ("maintenance" in row.last_error or "Timeout" in row.last_error)
    # Not due yet: a second call leaves it alone.
    assert outbox.send().sent == 0
    outbox.let_time_pass()
    assert outbox.send().sent == 1
    assert outbox.row(row_id).status is GradeStatus.SENT


def test_outages_beyond_the_attempt_limit_dead_letter(lms: FakeLMS, outbox: Grades) -> None:
    lms.answers += [(502, {"reason": "bad gateway"})] * 3
    row_id = outbox.queue()
    for _ in range(3):
        outbox.send(max_attempts=3)
        outbox.let_time_pass()
    row = outbox.row(row_id)
    assert row.status is GradeStatus.DEAD
    assert row.attempts == 3
    assert "bad gateway" in (row.last_error or "")


@pytest.mark.parametrize(
    ("status", "reason"),
    [(404, "user learner-42 not found"), (422, "userId learner-42 is not in course 7")],
)
def test_a_learner_unknown_to_the_lms_is_dead_lettered_with_its_reason(
    lms: FakeLMS, outbox: Grades, status: int, reason: str
) -> None:
    lms.answers.append((status, {"reason": reason}))
    row_id = outbox.queue()
    assert outbox.send().dead == 1
    row = outbox.row(row_id)
    assert row.status is GradeStatus.DEAD
    assert row.last_error == f"HTTP {status}: {reason}"
    assert lms.tokens_issued == 1


def test_an_off_platform_line_item_is_refused_and_nothing_is_sent(
    lms: FakeLMS, outbox: Grades
) -> None:
    row_id = outbox.queue(lineitem_url="https://collector.attacker.example/lineitem")
    assert outbox.send().dead == 1
    row = outbox.row(row_id)
    assert row.status is GradeStatus.DEAD
    assert (row.last_error or "").startswith("refused:")
    assert [c.request.url for c in lms.mock.calls] == []  # type: ignore[attr-defined]


def test_an_operator_allowed_host_is_sent_to(
    lms: FakeLMS, services: Services, platform_id: int, clients: GradeClients
) -> None:
    other = "https://ags.lms-api.example/7/lineitem"
    lms.mock.add_callback("POST", other + "/scores", callback=lms.score)  # type: ignore[attr-defined]
    allowed = Services.build(
        services.settings.with_overrides(service_allowed_hosts=("ags.lms-api.example",))
    )
    try:
        outbox = Grades(allowed, platform_id, clients)
        row_id = outbox.queue(lineitem_url=other)
        assert outbox.send().sent == 1
        assert outbox.row(row_id).sent_lineitem_url == other
    finally:
        allowed.close()


def test_a_newer_score_supersedes_an_unsent_older_one(lms: FakeLMS, outbox: Grades) -> None:
    outbox.queue(given=3.0)
    outbox.queue(given=9.0)
    report = outbox.send()
    assert (report.superseded, report.sent) == (1, 1)
    assert [s["scoreGiven"] for s in lms.scores] == [9.0]
    assert outbox.statuses() == [GradeStatus.SUPERSEDED, GradeStatus.SENT]


def test_an_older_row_retried_after_a_newer_one_was_sent_is_never_sent(
    lms: FakeLMS, outbox: Grades
) -> None:
    lms.answers.append((503, {"reason": "busy"}))
    first = outbox.queue(given=3.0)
    outbox.send()
    second = outbox.queue(given=9.0)
    # Only the newer row is due; once it is sent the older one is history.
    with transaction(outbox.services.sessions) as session:
        session.execute(
            update(GradeRow)
            .where(GradeRow.id == second)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=5))
        )
    outbox.send()
    assert outbox.row(second).status is GradeStatus.SENT
    assert outbox.row(first).status is GradeStatus.SUPERSEDED
    assert [s["scoreGiven"] for s in lms.scores] == [9.0]


def test_each_timestamp_is_later_than_the_last_in_whole_seconds(
    lms: FakeLMS, outbox: Grades
) -> None:
    at = datetime(2026, 11, 30, 12, 0, 0, 100000, tzinfo=UTC)
    outbox.queue(given=3.0, event_at=at)
    outbox.send()
    outbox.queue(given=9.0, event_at=at + timedelta(milliseconds=300))
    outbox.send()
    stamps = [datetime.fromisoformat(s["timestamp"]) for s in lms.scores]
    assert stamps == [at, datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)]


def test_without_a_link_line_item_one_is_found_by_resource_id_across_pages(
    lms: FakeLMS, outbox: Grades
) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    page2 = f"{LINEITEMS}?page=2"
    mock.get(
        f"{LINEITEMS}?resource_link_id=link-1&resource_id=quiz%3Aservice-foundations-quiz",
        json=[{"id": f"{LINEITEMS}/3/lineitem", "label": "Other", "resourceId": "quiz:other"}],
        headers={"Link": f'<{page2}>; rel="next"'},
    )
    mock.get(
        page2,
        json=[
            {
                "id": LINEITEM,
                "label": "Service foundations quiz",
                "resourceId": "quiz:service-foundations-quiz",
                "resourceLinkId": "link-1",
            }
        ],
    )
    row_id = outbox.queue(lineitem_url=None)
    assert outbox.send().sent == 1
    assert outbox.row(row_id).sent_lineitem_url == LINEITEM


def test_without_a_link_line_item_one_is_created_when_none_matches(
    lms: FakeLMS, outbox: Grades
) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    mock.get(
        f"{LINEITEMS}?resource_link_id=link-1&resource_id=quiz%3Aservice-foundations-quiz", json=[]
    )
    mock.post(LINEITEMS, status=201, json={"id": LINEITEM, "label": "Service foundations quiz"})
    row_id = outbox.queue(lineitem_url=None)
    assert outbox.send().sent == 1
    (creation,) = [
        c.request for c in mock.calls if c.request.method == "POST" and c.request.url == LINEITEMS
    ]
    assert creation.headers["Content-Type"] == "application/vnd.ims.lis.v2.lineitem+json"
    created = json.loads(creation.body or b"{}")
    assert created == {
        "label": "Service foundations quiz",
        "scoreMaximum": 10.0,
        "resourceId": "quiz:service-foundations-quiz",
        "resourceLinkId": "link-1",
    }
    assert outbox.row(row_id).sent_lineitem_url == LINEITEM


def test_a_line_item_created_for_a_quiz_declares_our_submission_review(
    lms: FakeLMS, outbox: Grades
) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    mock.get(
        f"{LINEITEMS}?resource_link_id=link-1&resource_id=quiz%3Aservice-foundations-quiz", json=[]
    )
    mock.post(LINEITEMS, status=201, json={"id": LINEITEM, "label": "Service foundations quiz"})
    outbox.queue(lineitem_url=None)
    assert outbox.send(tool_url="https://cxa.example").sent == 1
    (creation,) = [
        c.request for c in mock.calls if c.request.method == "POST" and c.request.url == LINEITEMS
    ]
    assert json.loads(creation.body or b"{}")["submissionReview"] == {
        "reviewableStatus": ["Submitted", "Completed"],
        "url": "https://cxa.example/lti/review/quiz/service-foundations-quiz",
    }


def test_a_line_item_found_once_serves_the_next_learners(lms: FakeLMS, outbox: Grades) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    listing = mock.get(
        f"{LINEITEMS}?resource_link_id=link-1&resource_id=quiz%3Aservice-foundations-quiz",
        json=[{"id": LINEITEM, "label": "Q", "resourceId": "quiz:service-foundations-quiz"}],
    )
    outbox.queue(lineitem_url=None, sub="a")
    outbox.queue(lineitem_url=None, sub="b")
    assert outbox.send().sent == 2
    assert listing.call_count == 1
    assert [s["userId"] for s in lms.scores] == ["a", "b"]


def test_without_the_lineitem_scope_no_line_item_is_created(lms: FakeLMS, outbox: Grades) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    mock.get(
        f"{LINEITEMS}?resource_link_id=link-1&resource_id=quiz%3Aservice-foundations-quiz", json=[]
    )
    row_id = outbox.queue(
        lineitem_url=None,
        scopes=("https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly", SCOPE_SCORE),
    )
    assert outbox.send().dead == 1
    assert "lineitem scope" in (outbox.row(row_id).last_error or "")


def test_a_replayed_dead_row_is_sent(lms: FakeLMS, outbox: Grades) -> None:
    lms.answers.append((422, {"reason": "not enrolled yet"}))
    row_id = outbox.queue()
    outbox.send()
    with transaction(outbox.services.sessions) as session:
        assert grades.replay_dead(session, error_contains="ENROLLED") == 1
    assert outbox.send().sent == 1
    assert outbox.row(row_id).status is GradeStatus.SENT


# --- reconciliation -----------------------------------------------------------------------

RESULTS = f"{LINEITEM}/results"
SENT_AT = datetime(2026, 11, 30, 12, 0, 0, 400000, tzinfo=UTC)


def sent_row(**changes: Any) -> GradeRow:
    values: dict[str, Any] = {
        "source_id": "quiz-attempt:1",
        "sub": "learner-42",
        "score_given": 8.0,
        "score_maximum": 10.0,
        "sent_timestamp": SENT_AT,
        "verified_at": None,
    }
    values.update(changes)
    return GradeRow(**values)


@pytest.mark.parametrize(
    ("result", "row", "verdict"),
    [
        (None, {}, Verdict.RESEND),
        (Result("learner-42", None, 1.0), {}, Verdict.RESEND),
        # Rescaled to the line item's maximum: the same grade.
        (Result("learner-42", 80.0, 100.0), {}, Verdict.MATCHES),
        # Changed after our send (in whole seconds): the instructor's.
        (
            Result("learner-42", 95.0, 100.0, timestamp=SENT_AT + timedelta(seconds=2)),
            {},
            Verdict.OVERRIDDEN,
        ),
        # Another value, but no later than ours: stale, ours is sent again.
        (
            Result("learner-42", 50.0, 100.0, timestamp=SENT_AT - timedelta(minutes=5)),
            {},
            Verdict.RESEND,
        ),
        (Result("learner-42", 5.0, 10.0, scoring_user_id="teacher-1"), {}, Verdict.OVERRIDDEN),
        # Another value in the same whole second as ours: the clock cannot tell, so who
        # scored it and what we saw before decide.
        (
            Result("learner-42", 5.0, 10.0, timestamp=SENT_AT, scoring_user_id="teacher-1"),
            {},
            Verdict.OVERRIDDEN,
        ),
        (
            Result("learner-42", 5.0, 10.0, timestamp=SENT_AT + timedelta(milliseconds=300)),
            {"verified_at": SENT_AT},
            Verdict.OVERRIDDEN,
        ),
        (Result("learner-42", 5.0, 10.0, timestamp=SENT_AT), {}, Verdict.RESEND),
        # No time to go by: seen holding ours before, so the change came after.
        (Result("learner-42", 5.0, 10.0), {"verified_at": SENT_AT}, Verdict.OVERRIDDEN),
        (Result("learner-42", 5.0, 10.0), {}, Verdict.RESEND),
        # Re-sent once and still not holding: not ours to force.
        (Result("learner-42", 5.0, 10.0), {"source_id": "resend:7"}, Verdict.OVERRIDDEN),
    ],
)
def test_what_the_lms_holds_is_judged(
    result: Result | None, row: dict[str, Any], verdict: Verdict
) -> None:
    assert judge_result(sent_row(**row), result) is verdict


def reconcile(outbox: Grades) -> Any:
    return reconcile_grades(
        outbox.services.sessions, outbox.clients.factory(outbox.services), settle=timedelta(0)
    )


def test_a_score_the_lms_lost_is_sent_again_later_than_before(lms: FakeLMS, outbox: Grades) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    mock.get(RESULTS, json=[{"userId": "learner-42"}])  # no resultScore: the grade is gone
    first = outbox.queue(given=8.0, event_at=datetime.now(UTC))
    outbox.send()
    report = reconcile(outbox)
    assert report.resent == 1
    outbox.send()
    assert [s["scoreGiven"] for s in lms.scores] == [8.0, 8.0]
    stamps = [datetime.fromisoformat(s["timestamp"]) for s in lms.scores]
    assert int(stamps[1].timestamp()) > int(stamps[0].timestamp())
    assert outbox.row(first).lms_score is None
    # Reading results needs the result scope in the token.
    assert SCOPE_RESULT_READONLY in lms.token_scopes


def test_an_instructor_override_is_recorded_and_never_fought(lms: FakeLMS, outbox: Grades) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    row_id = outbox.queue(given=8.0, event_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    outbox.send()
    mock.get(
        RESULTS,
        json=[
            {
                "userId": "learner-42",
                "resultScore": 10,
                "resultMaximum": 10,
                "timestamp": "2026-11-30T12:30:00+00:00",
            }
        ],
    )
    assert reconcile(outbox).overridden == 1
    row = outbox.row(row_id)
    assert row.overridden_at is not None and (row.lms_score, row.lms_maximum) == (10.0, 10.0)
    # Never again compared, never re-sent.
    assert reconcile(outbox).checked == 0
    outbox.send()
    assert len(lms.scores) == 1


def test_a_matching_result_is_verified(lms: FakeLMS, outbox: Grades) -> None:
    mock: responses.RequestsMock = lms.mock  # type: ignore[attr-defined]
    mock.get(RESULTS, json=[{"userId": "learner-42", "resultScore": 80, "resultMaximum": 100}])
    row_id = outbox.queue(given=8.0)
    outbox.send()
    assert reconcile(outbox).matched == 1
    assert outbox.row(row_id).verified_at is not None


def test_without_the_results_scope_nothing_is_read(lms: FakeLMS, outbox: Grades) -> None:
    outbox.queue(given=8.0, scopes=(SCOPE_SCORE,))
    outbox.send()
    assert reconcile(outbox).checked == 0


@pytest.mark.parametrize(
    ("status", "outcome"), [(503, GradeStatus.PENDING), (401, GradeStatus.DEAD)]
)
def test_a_failing_token_endpoint_is_retried_or_dead_lettered(
    services: Services, platform_id: int, clients: GradeClients, status: int, outcome: GradeStatus
) -> None:
    outbox = Grades(services, platform_id, clients)
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, status=status, json={"error": "invalid_client"})
        row_id = outbox.queue()
        outbox.send()
    row = outbox.row(row_id)
    assert row.status is outcome
    assert "token endpoint" in (row.last_error or "")
