"""deliver_outbox against a scripted LRS: every answer class, the breaker, the dead letter,
order and fan-out, on a real SQLite database migrated by Alembic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import update

from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.models import OutboxRow, OutboxStatus, utcnow
from tests.unit.workers.conftest import FakeLRS, Outbox, statement
from workers.delivery import DeliveryPolicy, backoff, deliver_outbox
from xapi.lrs import LRSClient


def never_jitter() -> float:
    return 0.0


def deliver(
    services: Services, client: LRSClient, destination: str = "default", **policy: Any
) -> Any:
    return deliver_outbox(
        services.sessions,
        client,
        destination=destination,
        policy=DeliveryPolicy(**policy),
        rand=never_jitter,
    )


# --- recording fans out --------------------------------------------------------------------


def test_recording_writes_one_row_per_enabled_destination(queue: Outbox) -> None:
    queue.use_destinations("warehouse", "watershed")

    queue.record(statement(1), statement(2))
    queue.record(statement(1))  # the same event again: no new rows

    assert [r.statement_id for r in queue.rows("warehouse")] == [
        statement(1)["id"],
        statement(2)["id"],
    ]
    assert len(queue.rows("watershed")) == 2
    assert queue.rows("default") == []  # no longer configured, so it gets nothing new


def test_a_statement_is_never_recorded_nowhere(queue: Outbox, services: Services) -> None:
    from lti_tool.store.db import transaction
    from lti_tool.store.models import DestinationState

    with transaction(services.sessions) as session:
        session.query(DestinationState).update({"enabled": False})

    queue.record(statement(1))

    assert len(queue.rows("default")) == 1


# --- the happy path ---------------------------------------------------------------------


def test_pending_statements_go_out_in_batches_in_recording_order(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(*(statement(n) for n in range(7)))

    report = deliver(services, client, batch_size=3)

    assert report.sent == 7
    assert [len(batch) for batch in fake.posts] == [3, 3, 1]
    assert fake.stored_ids() == [statement(n)["id"] for n in range(7)]
    assert queue.by_status() == {"sent": 7}
    state = queue.state()
    assert state.last_sent_id == queue.rows()[-1].id
    assert state.consecutive_failures == 0


def test_a_young_part_filled_batch_waits_for_company(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(statement(1), statement(2))

    waiting = deliver(services, client, batch_size=3, max_batch_age=60)
    queue.record(statement(3))
    full = deliver(services, client, batch_size=3, max_batch_age=60)

    assert waiting.sent == 0 and 0 < waiting.retry_in <= 60
    assert full.sent == 3 and fake.posts == [[statement(n)["id"] for n in (1, 2, 3)]]


# --- 400: bisect ------------------------------------------------------------------------


def test_one_bad_statement_in_eight_is_isolated_and_the_seven_others_delivered(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    bodies = [statement(n, malformed=(n == 5)) for n in range(8)]
    queue.record(*bodies)

    report = deliver(services, client, batch_size=8)

    assert (report.sent, report.dead) == (7, 1)
    # The good ones arrive, still in recording order.
    assert fake.stored_ids() == [b["id"] for n, b in enumerate(bodies) if n != 5]
    # 8 -> 4+4 -> (2+2) -> 1+1: the bad one is pinned down in log2(8) extra rounds.
    assert len(fake.posts) == 1 + 2 + 2 + 2
    dead = [r for r in queue.rows() if r.status is OutboxStatus.DEAD]
    assert [r.statement_id for r in dead] == [bodies[5]["id"]]
    assert "400" in dead[0].last_error and "actor is required" in dead[0].last_error
    # A bad statement is not the LRS's fault: the breaker stays closed.
    assert queue.state().open_until is None


def test_an_outage_during_bisection_leaves_the_untried_half_pending(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(*(statement(n, malformed=(n == 0)) for n in range(4)))
    # The batch, its first half and the lone bad one are refused; then the LRS falls over.
    fake.fail_next((400, {}), (400, {}), (400, {}), (503, {}))

    report = deliver(services, client, batch_size=4)

    assert report.dead == 1
    statuses = [r.status.value for r in queue.rows()]
    assert statuses == ["dead", "pending", "pending", "pending"]
    # Only the row that was tried counts an attempt; the untried half was never sent.
    assert [r.attempts for r in queue.rows()] == [1, 1, 0, 0]
    # Nothing after the failure point was sent, so nothing overtook the rows that wait.
    assert fake.stored_ids() == []


# --- 409 and 204: already stored ----------------------------------------------------------


def test_statements_the_lrs_already_holds_count_as_delivered(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(*(statement(n) for n in range(4)))
    # A lost response: the LRS stored two of them, but we never heard back.
    for n in (0, 2):
        fake.stored[statement(n)["id"]] = statement(n)

    report = deliver(services, client, batch_size=4)

    assert report.sent == 4 and report.dead == 0
    assert sorted(fake.stored_ids()) == sorted(statement(n)["id"] for n in range(4))
    assert queue.by_status() == {"sent": 4}


# --- unavailable: Retry-After, back-off, breaker, dead letter -------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(
    status: int, queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(statement(1))
    fake.fail_next((status, {"Retry-After": "7"}))

    before = utcnow()
    report = deliver(services, client)

    assert report.deferred == 1 and report.retry_in == 7.0
    state = queue.state()
    assert timedelta(seconds=6.9) < state.open_until - before < timedelta(seconds=8)
    assert f"({status})" in state.last_error
    row = queue.rows()[0]
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)

    # While the LRS asked us to wait, it is not contacted at all.
    assert deliver(services, client).sent == 0
    assert len(fake.posts) == 1

    queue.let_time_pass()
    assert deliver(services, client).sent == 1
    assert queue.state().consecutive_failures == 0


@pytest.mark.parametrize(
    "failure",
    [
        (500, {}),
        (502, {}),
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("connection refused"),
    ],
    ids=["500", "502", "connect-timeout", "read-timeout", "refused"],
)
def test_other_failures_back_off_exponentially(
    failure: Any, queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(statement(1), statement(2))
    fake.fail_next(failure, failure, failure)

    waits = []
    for _ in range(3):
        before = utcnow()
        report = deliver(services, client)
        assert report.deferred == 2
        waits.append((queue.state().open_until - before).total_seconds())
        queue.let_time_pass()

    # Without jitter (rand=0) the waits are half of 2, 4, 8 seconds.
    assert [round(w) for w in waits] == [1, 2, 4]
    assert queue.state().consecutive_failures == 3
    assert deliver(services, client).sent == 2
    assert [r.attempts for r in queue.rows()] == [4, 4]


def test_backoff_has_jitter_and_a_ceiling() -> None:
    ceiling = timedelta(minutes=30)
    assert backoff(3, None, ceiling, rand=lambda: 0.0) == timedelta(seconds=4)
    assert backoff(3, None, ceiling, rand=lambda: 0.999) < timedelta(seconds=8)
    assert backoff(40, None, ceiling, rand=lambda: 0.999) <= ceiling
    # The LRS's own Retry-After wins over our schedule, within the ceiling.
    assert backoff(1, 120.0, ceiling) == timedelta(seconds=120)
    assert backoff(1, 86400.0, ceiling) == ceiling


def test_after_n_attempts_a_statement_is_dead_lettered_with_its_last_error(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(statement(1))
    fake.fail_next((500, {}), (500, {}), (503, {}))

    reports = []
    for _ in range(3):
        reports.append(deliver(services, client, max_attempts=3))
        queue.let_time_pass()

    assert [(r.deferred, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    row = queue.rows()[0]
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 3)
    assert "LRS unavailable (503)" in row.last_error


def test_bad_credentials_pause_the_destination_instead_of_killing_statements(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(*(statement(n) for n in range(4)))
    fake.fail_next((401, {}))

    report = deliver(services, client, batch_size=4)

    assert (report.deferred, report.dead) == (4, 0)
    assert len(fake.posts) == 1  # no bisection: the statements are not the problem
    assert queue.state().open_until is not None
    assert "authentication" in queue.state().last_error


def test_a_worker_that_dies_mid_batch_leaves_the_batch_pending(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(*(statement(n) for n in range(3)))
    fake.fail_next(SystemExit("worker killed"))

    with pytest.raises(SystemExit):
        deliver(services, client)

    assert [(r.status.value, r.attempts) for r in queue.rows()] == [("pending", 0)] * 3
    assert deliver(services, client).sent == 3


# --- fan-out: destinations are independent -------------------------------------------------


def test_a_down_lrs_never_holds_up_another(
    queue: Outbox, services: Services, lrs_factory: Any
) -> None:
    down, down_client = lrs_factory("down")
    up, up_client = lrs_factory("up")
    queue.use_destinations("down", "up")
    down.down = requests.ConnectionError("connection refused")
    queue.record(*(statement(n) for n in range(5)))

    assert deliver(services, down_client, "down").deferred == 5
    assert deliver(services, up_client, "up").sent == 5
    queue.record(statement(5))
    # "down" is behind its open breaker and is not even contacted; "up" carries on.
    assert deliver(services, down_client, "down").sent == 0
    assert deliver(services, up_client, "up").sent == 1

    assert len(down.posts) == 1
    assert up.stored_ids() == [statement(n)["id"] for n in range(6)]
    assert queue.by_status("down") == {"pending": 6}
    assert queue.state("up").open_until is None
    assert queue.state("down").consecutive_failures == 1

    down.down = None
    queue.let_time_pass("down")
    assert deliver(services, down_client, "down").sent == 6
    assert down.stored_ids() == up.stored_ids()


# --- a redirect is a configuration error -----------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirecting_lrs_stores_nothing_and_opens_the_breaker(
    status: int, queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(statement(1), statement(2))
    fake.fail_next((status, {"Location": "https://moved.lrs.example/xAPI/statements"}))

    report = deliver(services, client)

    assert (report.sent, report.deferred) == (0, 2)
    assert queue.by_status() == {"pending": 2}
    state = queue.state()
    assert state.open_until is not None and state.consecutive_failures == 1
    assert f"answered {status} redirecting to https://moved.lrs.example" in state.last_error
    assert len(fake.posts) == 1  # no bisection: the statements are not to blame


# --- 409 with other content: a conflict, both versions kept ---------------------------------


def test_a_statement_the_lrs_holds_differently_is_dead_lettered_as_a_conflict(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    bodies = [statement(n) for n in range(3)]
    queue.record(*bodies)
    # Another installation stored a different statement under the second id.
    theirs = {**bodies[1], "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}
    fake.stored[bodies[1]["id"]] = theirs

    report = deliver(services, client, batch_size=3)

    assert (report.sent, report.dead, report.deferred) == (2, 1, 0)
    assert fake.stored_ids() == [bodies[1]["id"], bodies[0]["id"], bodies[2]["id"]]
    assert fake.stored[bodies[1]["id"]] == theirs  # the LRS's copy is untouched
    rows = queue.rows()
    assert [r.status.value for r in rows] == ["sent", "dead", "sent"]
    conflict = rows[1]
    assert conflict.last_error.startswith("conflict") and "verb" in conflict.last_error
    assert conflict.statement == bodies[1]  # ours
    assert conflict.lrs_statement is not None
    assert conflict.lrs_statement["verb"] == theirs["verb"]  # theirs
    # A conflict is no outage: the destination carries on.
    assert queue.state().open_until is None


def test_a_statement_the_lrs_holds_unchanged_is_delivered_not_a_conflict(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(statement(1))
    fake.stored[statement(1)["id"]] = statement(1)

    assert deliver(services, client).sent == 1
    assert queue.rows()[0].lrs_statement is None


# --- one clock: the database's ---------------------------------------------------------------


def test_a_web_clock_ahead_does_not_hold_a_part_filled_batch_back(
    queue: Outbox,
    services: Services,
    lrs: tuple[FakeLRS, LRSClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, client = lrs
    ahead = utcnow() + timedelta(minutes=2)
    # The web node that records has a clock two minutes fast.
    monkeypatch.setattr("lti_tool.store.outbox.utcnow", lambda: ahead)
    monkeypatch.setattr("lti_tool.store.models.utcnow", lambda: ahead)
    queue.record(statement(1))
    monkeypatch.undo()

    report = deliver(services, client, batch_size=10, max_batch_age=5)

    # Waiting for company for at most the configured age, not the skew on top.
    assert report.retry_in is not None and 0 < report.retry_in <= 5


def test_max_batch_age_zero_never_waits_even_for_a_row_stamped_in_the_future(
    queue: Outbox, services: Services, lrs: tuple[FakeLRS, LRSClient]
) -> None:
    fake, client = lrs
    queue.record(statement(1))
    with transaction(services.sessions) as session:
        # A row written before this release by a web node whose clock ran ahead.
        session.execute(update(OutboxRow).values(created_at=utcnow() + timedelta(minutes=2)))

    report = deliver(services, client, batch_size=10, max_batch_age=0)

    assert report.sent == 1 and report.retry_in is None
    assert fake.stored_ids() == [statement(1)["id"]]


# --- no stranded rows: an unconfigured destination's rows are re-routed -----------------------


def test_rows_recorded_for_the_seeded_default_reach_the_configured_destinations(
    queue: Outbox, services: Services, lrs_factory: Any
) -> None:
    north, north_client = lrs_factory("north")
    # Recorded while only the seeded "default" existed (no worker had synced yet).
    queue.record(statement(1), statement(2))
    first_seen = [r.created_at for r in queue.rows("default")]

    with transaction(services.sessions) as session:
        moved = outbox.sync_destinations(session, ["north", "south"])

    assert moved == 2
    for name in ("north", "south"):
        rows = queue.rows(name)
        assert [r.statement_id for r in rows] == [statement(n)["id"] for n in (1, 2)]
        assert [r.created_at for r in rows] == first_seen  # their lag stays truthful
    assert queue.by_status("default") == {"rerouted": 2}
    assert "not configured" in queue.rows("default")[0].last_error
    assert deliver(services, north_client, "north").sent == 2
    assert north.stored_ids() == [statement(n)["id"] for n in (1, 2)]


def test_a_sync_with_another_configuration_never_strands_a_statement(
    queue: Outbox, services: Services
) -> None:
    queue.record(statement(1))
    # Two workers of a rolling deploy disagree: "north" only, then "default" only again.
    for names in (["north"], ["default"], ["north"]):
        with transaction(services.sessions) as session:
            outbox.sync_destinations(session, names)

    assert queue.by_status("north") == {"pending": 1}
    assert queue.by_status("default") == {"rerouted": 1}


def test_a_destination_that_already_has_the_statement_gets_no_second_copy(
    queue: Outbox, services: Services
) -> None:
    queue.use_destinations("default", "north")
    queue.record(statement(1))
    with transaction(services.sessions) as session:
        outbox.sync_destinations(session, ["north"])

    assert len(queue.rows("north")) == 1
    assert queue.by_status("default") == {"rerouted": 1}


def test_a_long_backlog_is_rerouted_in_chunks_and_in_order(
    queue: Outbox, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "_REROUTE_CHUNK", 2)
    queue.record(*(statement(n) for n in range(5)))

    with transaction(services.sessions) as session:
        assert outbox.sync_destinations(session, ["north"]) == 5

    assert [r.statement_id for r in queue.rows("north")] == [statement(n)["id"] for n in range(5)]
    assert queue.by_status("default") == {"rerouted": 5}
