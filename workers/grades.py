"""Grade sync from the grade outbox to LMS gradebooks (LTI AGS): plain functions, testable
without a broker.

Guarantees (docs/decisions/0008-grade-sync.md):

- At least once: a row leaves "pending" only in the transaction that records the LMS's
  answer; a worker killed mid-POST leaves it pending, and the score is sent again (a
  score POST is idempotent in effect: the same value for the same learner).
- Never backwards: a row is the whole truth for its learner and line item when written,
  so an older unsent row is superseded by a newer one instead of being sent after it, and
  every timestamp sent is later (in whole seconds) than the one before it.
- Refusals are kept: a 4xx, an off-platform URL or a refused token dead-letters the row
  with the LMS's reason for the instructor and operator to read; 5xx and timeouts back off.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.config import Settings
from lti_tool.errors import KeyStoreError
from lti_tool.lti.grades import (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    AgsClient,
    GradeRefusedError,
    GradeServiceError,
    GradeUnavailableError,
    OffPlatformURLError,
    Result,
    Score,
    next_timestamp,
)
from lti_tool.lti.service_token import CachedServiceConnector, TimeoutSession
from lti_tool.lti.submission_review import review_url, submission_review
from lti_tool.lti.tool_conf import DbToolConf
from lti_tool.queue import TASK_RECONCILE_GRADES, TASK_SEND_GRADES, TASK_SWEEP_GRADES
from lti_tool.services import Services
from lti_tool.store import grades
from lti_tool.store.db import transaction
from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.keys import require_signing_key
from lti_tool.store.models import Platform, utcnow
from workers.delivery import backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GradePolicy:
    """How grades are sent; built from Settings by the worker."""

    # Failed attempts (outages) after which a score is dead-lettered.
    max_attempts: int = 20
    max_backoff: timedelta = timedelta(minutes=30)
    # Rows per call, so one task cannot monopolise a worker.
    max_rows: int = 200


@dataclass
class GradeReport:
    sent: int = 0
    dead: int = 0
    deferred: int = 0
    superseded: int = 0
    # Seconds until the next pending row is due; None when none is pending.
    retry_in: float | None = None


#: Builds the AGS client for a platform registration (tokens are cached, not clients).
ClientFactory = Callable[[Session, Platform], AgsClient]


def send_grades(
    sessions: sessionmaker[Session],
    client_for: ClientFactory,
    *,
    policy: GradePolicy | None = None,
    grade_id: int | None = None,
    rand: Callable[[], float] = random.random,
    tool_url: str | None = None,
) -> GradeReport:
    """Send every due pending score (or just row ``grade_id``), one row per transaction,
    oldest first. ``tool_url`` (the tool's base URL) lets a line item we create declare
    our submission review URL."""
    policy = policy or GradePolicy()
    report = GradeReport()
    for _ in range(policy.max_rows):
        with transaction(sessions) as session:
            rows = grades.claim_due(session, limit=1, grade_id=grade_id)
            if not rows:
                break
            _send_row(session, rows[0], client_for, policy, report, rand, tool_url)
    with transaction(sessions) as session:
        report.retry_in = grades.next_due_in(session)
    return report


def _send_row(
    session: Session,
    row: GradeRow,
    client_for: ClientFactory,
    policy: GradePolicy,
    report: GradeReport,
    rand: Callable[[], float],
    tool_url: str | None = None,
) -> None:
    now = utcnow()
    if grades.has_newer(session, row):
        grades.mark_superseded(session, row)
        report.superseded += 1
        return
    try:
        client = client_for(session, row.platform)
        known = None if row.lineitem_url else grades.last_sent_lineitem(session, row)
        lineitem_url = _resolve_lineitem(client, row, known, tool_url)
        timestamp = next_timestamp(row.event_at, grades.last_sent_timestamp(session, row))
        client.post_score(lineitem_url, _score(row, timestamp))
    except OffPlatformURLError as err:
        # A claim pointing away from the registered platform: never send, never retry.
        log.warning("grade %s for %s refused: off-platform service URL (%s)", row.id, row.sub, err)
        grades.mark_failed(session, row, f"refused: {err}", retry_in=None, now=now)
        report.dead += 1
    except GradeUnavailableError as err:
        if row.attempts + 1 >= policy.max_attempts:
            grades.mark_failed(session, row, err.reason, retry_in=None, now=now)
            report.dead += 1
            return
        wait = backoff(row.attempts + 1, err.retry_after, policy.max_backoff, rand)
        grades.mark_failed(session, row, err.reason, retry_in=wait, now=now)
        report.deferred += 1
        log.info(
            "grade %s: LMS unavailable (%s), retry in %.1fs",
            row.id,
            err.reason,
            wait.total_seconds(),
        )
    except GradeRefusedError as err:
        log.warning("grade %s for %s refused by the LMS: %s", row.id, row.sub, err)
        grades.mark_failed(session, row, str(err), retry_in=None, now=now)
        report.dead += 1
    else:
        grades.mark_sent(session, row, lineitem_url=lineitem_url, timestamp=timestamp, now=now)
        report.sent += 1


def _resolve_lineitem(
    client: AgsClient, row: GradeRow, known: str | None, tool_url: str | None = None
) -> str:
    """The line item to score: the link's own, else the one an earlier score for the same
    learner, activity and link went to, else the one of this activity and link in the
    container (AGS 2.0 section 3.2.5 filters), created when the scope allows."""
    if row.lineitem_url:
        return client.check_url(row.lineitem_url)
    if known:
        return client.check_url(known)
    if not row.lineitems_url:
        raise GradeRefusedError(None, "the launch named no line item and no line items container")
    scopes = set(row.scopes)
    read_scope = SCOPE_LINEITEM if SCOPE_LINEITEM in scopes else SCOPE_LINEITEM_READONLY
    found = client.list_lineitems(
        row.lineitems_url,
        resource_link_id=row.resource_link_id,
        resource_id=row.resource_id,
        scopes=[read_scope],
    )
    # Filters are optional for a platform to honour, so check what came back ourselves.
    matching = [
        item
        for item in found
        if item.resource_id == row.resource_id
        and (row.resource_link_id is None or item.resource_link_id in (None, row.resource_link_id))
    ]
    if matching:
        return client.check_url(matching[0].id)
    if SCOPE_LINEITEM not in scopes:
        raise GradeRefusedError(
            None,
            "no line item for this activity, and the platform did not grant the lineitem scope",
        )
    created = client.create_lineitem(
        row.lineitems_url,
        label=row.label,
        score_maximum=row.score_maximum,
        resource_id=row.resource_id,
        resource_link_id=row.resource_link_id,
        submission_review=_submission_review(tool_url, row.resource_id),
    )
    return created.id


def _submission_review(tool_url: str | None, resource_id: str) -> dict[str, Any] | None:
    url = review_url(tool_url, resource_id) if tool_url else None
    return submission_review(url) if url else None


def _score(row: GradeRow, timestamp: datetime) -> Score:
    return Score(
        user_id=row.sub,
        score_given=row.score_given,
        score_maximum=row.score_maximum,
        activity_progress=row.activity_progress,
        grading_progress=row.grading_progress,
        timestamp=timestamp,
        comment=row.comment,
    )


# --- reconciliation ---------------------------------------------------------------------

#: Scores newer than this are left alone: the LMS may still be applying them.
RECONCILE_SETTLE = timedelta(seconds=60)
#: Scores older than this are no longer compared (a closed course's gradebook is history).
RECONCILE_WINDOW = timedelta(days=30)
# Two results are the same grade when their fractions agree this closely (an LMS may
# rescale to the line item's maximum and round).
_SAME = 1e-4


class Verdict(enum.StrEnum):
    MATCHES = "matches"
    # The LMS lacks our score or holds another value set no later than ours: send again.
    RESEND = "resend"
    # The LMS holds another value set after our score: an instructor's decision. Shown,
    # never fought.
    OVERRIDDEN = "overridden"


def judge_result(row: GradeRow, result: Result | None) -> Verdict:
    """Compare what we sent with what the LMS holds now."""
    if result is None or result.result_score is None or not result.result_maximum:
        return Verdict.RESEND
    ours = row.score_given / row.score_maximum if row.score_maximum else 0.0
    theirs = result.result_score / result.result_maximum
    if abs(ours - theirs) <= _SAME:
        return Verdict.MATCHES
    sent = row.sent_timestamp
    if result.timestamp is not None and sent is not None:
        # Whole seconds, as platforms like Moodle keep them. In the same second the clock
        # cannot tell an instructor's quick override from a stale value: the evidence below
        # decides, so an override is never overwritten for having been quick.
        theirs_at, ours_at = int(result.timestamp.timestamp()), int(sent.timestamp())
        if theirs_at != ours_at:
            return Verdict.OVERRIDDEN if theirs_at > ours_at else Verdict.RESEND
    if result.scoring_user_id is not None and result.scoring_user_id != row.sub:
        return Verdict.OVERRIDDEN
    # No time to go by: if the LMS was seen holding our score before, the change came after
    # it; a score we already re-sent once that still does not stick is not ours to force.
    if row.verified_at is not None or row.source_id.startswith("resend:"):
        return Verdict.OVERRIDDEN
    return Verdict.RESEND


@dataclass
class ReconcileReport:
    checked: int = 0
    matched: int = 0
    resent: int = 0
    overridden: int = 0
    failed_items: int = 0


def reconcile_grades(
    sessions: sessionmaker[Session],
    client_for: ClientFactory,
    *,
    now: datetime | None = None,
    settle: timedelta = RECONCILE_SETTLE,
) -> ReconcileReport:
    """Read back each line item's results and compare them with the latest scores we sent:
    re-queue a score the LMS lost, record (and leave alone) an instructor's override."""
    now = now or utcnow()
    report = ReconcileReport()
    with sessions() as session:
        rows = grades.list_reconcilable(
            session, sent_before=now - settle, sent_after=now - RECONCILE_WINDOW
        )
        groups: dict[tuple[int, str], list[int]] = {}
        for row in rows:
            groups.setdefault((row.platform_id, row.sent_lineitem_url or ""), []).append(row.id)
    for (_platform_id, lineitem_url), row_ids in groups.items():
        with transaction(sessions) as session:
            group = [session.get(GradeRow, row_id) for row_id in row_ids]
            mine = [row for row in group if row is not None and row.status is GradeStatus.SENT]
            if not mine:
                continue
            try:
                client = client_for(session, mine[0].platform)
                results = {r.user_id: r for r in client.list_results(lineitem_url)}
            except OffPlatformURLError as err:
                log.warning("results of %s refused: off-platform URL (%s)", lineitem_url, err)
                report.failed_items += 1
                continue
            except GradeServiceError as err:
                log.info("results of %s not read (%s): next reconciliation", lineitem_url, err)
                report.failed_items += 1
                continue
            for row in mine:
                report.checked += 1
                result = results.get(row.sub)
                verdict = judge_result(row, result)
                if verdict is Verdict.MATCHES:
                    row.verified_at = now
                    report.matched += 1
                elif verdict is Verdict.OVERRIDDEN:
                    row.overridden_at = now
                    row.lms_score = result.result_score if result else None
                    row.lms_maximum = result.result_maximum if result else None
                    report.overridden += 1
                    log.info("grade %s: overridden in the LMS, left as it is", row.id)
                elif grades.add_grade(session, grades.resend_entry(row, now)) is not None:
                    row.lms_score = result.result_score if result else None
                    row.lms_maximum = result.result_maximum if result else None
                    report.resent += 1
            session.flush()
    return report


# --- the worker's side: clients and Celery tasks ------------------------------------------


@dataclass
class GradeClients:
    """One worker child's HTTP session for every platform, token endpoints included."""

    http: TimeoutSession | None = None

    def session(self) -> TimeoutSession:
        if self.http is None:
            self.http = TimeoutSession()
        return self.http

    def factory(self, services: Services) -> ClientFactory:
        def build(session: Session, platform: Platform) -> AgsClient:
            try:
                key = require_signing_key(session, services.settings.key_encryption_secret)
            except KeyStoreError as err:
                # Our own configuration, not the LMS: keep the score and retry later.
                raise GradeUnavailableError(str(err)) from err
            registration = DbToolConf(session, key).find_registration_by_params(
                platform.issuer, platform.client_id
            )
            # Tokens are cached in the state store per registration and scope set.
            connector = CachedServiceConnector(registration, services.state, self.session())
            return AgsClient(
                self.session(),
                connector.get_token,
                owners=(platform.auth_token_url, platform.issuer),
                allowed_hosts=services.settings.service_allowed_hosts,
            )

        return build

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None


def register(
    app: Celery, settings: Settings, get_services: Callable[[], Services], clients: GradeClients
) -> None:
    """Register the grade tasks on ``app``."""
    policy = GradePolicy(
        max_attempts=settings.grade_max_attempts,
        max_backoff=timedelta(seconds=settings.lrs_max_backoff_seconds),
    )

    # Each row is at most a token request and three AGS calls of 15 s read timeout each;
    # ten minutes covers a long backlog, and a task stopped by the soft limit rolls back the
    # row in hand (it stays pending for the next kick or sweep). The hard limit frees a
    # worker wedged below Python. Retries are the outbox's (GradePolicy.max_attempts with
    # back-off per row), never Celery's, so a task is never retried blindly.
    @app.task(name=TASK_SEND_GRADES, soft_time_limit=600, time_limit=660, shared=False)
    def send_scores(
        *, grade_id: int | None = None, followup: bool = False, **_: Any
    ) -> dict[str, Any]:
        """Send due scores (or one row by id) to the LMS gradebooks."""
        services = get_services()
        report = send_grades(
            services.sessions,
            clients.factory(services),
            policy=policy,
            grade_id=grade_id,
            tool_url=services.settings.base_url,
        )
        # One follow-up per kick for a retry due soon; later ones are the sweep's job, and a
        # follow-up never schedules another, so tasks cannot multiply.
        wait = report.retry_in
        if not followup and wait is not None and wait <= settings.outbox_sweep_seconds:
            send_scores.apply_async(kwargs={"followup": True}, countdown=max(wait, 0.05))
        return asdict(report)

    # One results read per line item (a few pages at 15 s each at worst) for at most 500
    # scores: ten minutes is ample; a stopped run leaves nothing half-done that matters,
    # since each line item is its own transaction and the next run starts over.
    @app.task(name=TASK_RECONCILE_GRADES, soft_time_limit=600, time_limit=660, shared=False)
    def reconcile_scores(**_: Any) -> dict[str, Any]:
        """Periodic: compare the LMS's results with what we sent (re-send lost scores,
        record instructor overrides), then send whatever that queued."""
        services = get_services()
        report = reconcile_grades(services.sessions, clients.factory(services))
        if report.resent:
            send_scores.apply_async()
        return asdict(report)

    @app.task(name=TASK_SWEEP_GRADES, soft_time_limit=60, time_limit=90, shared=False)
    def sweep_grades() -> None:
        """Periodic: sends scores whose kick was lost and retries whose back-off ran out."""
        send_scores.apply_async()
