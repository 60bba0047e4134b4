"""Grades reach an LMS gradebook over real HTTP: a learner launched from the demo LMS (with
its AGS claim) fails, passes, then fails the quiz again; a real Celery worker sends each
score with a client-credentials token; the demo LMS checks them as a platform would, and
its gradebook shows the best attempt. Every timestamp it accepted was later than the one
before, in whole seconds. Reconciliation then reads the results back: a grade the LMS
lost is sent again, an instructor's later change is recorded and left alone."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from content import load_catalog
from lti_tool.app import create_app
from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms, register_with_tool
from lti_tool.demo.ralph import free_port
from lti_tool.queue import TASK_SEND_GRADES
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.learning import QuizAttempt
from lti_tool.store.migrate import upgrade
from tests.conftest import embedded_settings
from tests.fixtures.servers import HttpClient, serve
from tests.fixtures.stack import celery_worker, isolated_database, redis_url_or_embedded
from tests.unit.web.conftest import _CSRF, LearnerBrowser, answer_fields
from workers.grades import GradeClients, ReconcileReport, reconcile_grades

pytestmark = pytest.mark.integration

COURSE = "service-foundations"
QUIZ = load_catalog().require_quiz("service-foundations-quiz")
_FIELD = re.compile(r'name="(id_token|state)" value="([^"]*)"')
_ACTION = re.compile(r'<form id="lti" method="post" action="([^"]+)"')


@dataclass
class Stack:
    services: Services
    tool_url: str
    lms_url: str

    def launch_from_lms(self, login: str, link: str = "cx-academy") -> LearnerBrowser:
        """What a browser does: the LMS's login initiation, the tool's redirect to the
        LMS's authorization endpoint, and the auto-submitted id_token form."""
        browser = requests.Session()
        answer = browser.get(f"{self.lms_url}/launch/{login}/{link}", timeout=30)
        assert answer.status_code == 200, answer.text
        fields = {name: html.unescape(value) for name, value in _FIELD.findall(answer.text)}
        action = _ACTION.search(answer.text)
        assert action and set(fields) == {"id_token", "state"}, answer.text
        launched = browser.post(action.group(1), data=fields, allow_redirects=False, timeout=30)
        assert launched.status_code == 303, launched.text
        base = urlsplit(launched.headers["Location"]).path
        client = HttpClient(self.tool_url)
        page = client.get(base + "self-assessment").get_data(as_text=True)
        match = _CSRF.search(str(page))
        assert match, page
        return LearnerBrowser(client=client, base=base, csrf=match.group(1))  # type: ignore[arg-type]

    def override(self, learner: str, grade: str) -> None:
        """An instructor edits the grade in the LMS's gradebook (empty: clears it)."""
        answer = requests.post(
            f"{self.lms_url}/gradebook/override",
            data={"learner": learner, "item": "1", "score": grade},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text

    def gradebook(self) -> str:
        return requests.get(f"{self.lms_url}/gradebook", timeout=30).text

    def rows(self) -> list[GradeRow]:
        with self.services.sessions() as session:
            return list(session.scalars(select(GradeRow).order_by(GradeRow.id)))

    def wait_until_sent(self, count: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows()
            if len(rows) >= count and all(r.status is not GradeStatus.PENDING for r in rows):
                return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"grades still pending: {[(r.id, r.status, r.last_error) for r in rows]}"
                )
            time.sleep(0.25)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    redis_url = redis_url_or_embedded()
    with ExitStack() as exits:
        database_url = exits.enter_context(isolated_database(tmp_path))
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        tool_port, lms_port = free_port(), free_port()
        settings = embedded_settings(
            tmp_path,
            base_url=f"http://127.0.0.1:{tool_port}",
            database_url=database_url,
            broker_url=redis_url or "filesystem://localhost/",
        )
        services = Services.build(settings)
        exits.callback(services.close)
        lms = DemoLMSConfig(f"http://127.0.0.1:{lms_port}", settings.base_url, tmp_path / "lms")
        with transaction(services.sessions) as session:
            register_with_tool(session, lms)
        exits.enter_context(serve(create_app(services=services), port=tool_port))
        exits.enter_context(serve(create_demo_lms(lms), port=lms_port))
        exits.enter_context(
            celery_worker(
                {**settings.as_env(), "CXA_OUTBOX_SWEEP_SECONDS": "1"}, tmp_path, "grades"
            )
        )
        yield Stack(services, settings.base_url, lms.base_url)


def take_quiz(learner: LearnerBrowser, stack: Stack, *, correct: bool) -> QuizAttempt:
    attempt_id = learner.start_quiz(COURSE)
    with stack.services.sessions() as session:
        attempt = session.scalars(select(QuizAttempt).where(QuizAttempt.id == attempt_id)).one()
        fields = answer_fields(attempt.question_ids, attempt_id, correct=correct)
    answer = learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    assert answer.status_code == 303
    with stack.services.sessions() as session:
        return session.scalars(select(QuizAttempt).where(QuizAttempt.id == attempt_id)).one()


def cell(gradebook: str, learner: str) -> str:
    match = re.search(rf'data-learner="{learner}" data-item="1">(.*?)</td>', gradebook, re.S)
    assert match, gradebook
    return match.group(1)


def test_the_best_attempt_reaches_the_lms_gradebook(stack: Stack) -> None:
    learner = stack.launch_from_lms("ada")

    failed = take_quiz(learner, stack, correct=False)
    stack.wait_until_sent(1)
    assert f"{failed.score_raw:g} / {failed.score_max:g}" in cell(stack.gradebook(), "ada")

    passed = take_quiz(learner, stack, correct=True)
    stack.wait_until_sent(2)
    take_quiz(learner, stack, correct=False)
    stack.wait_until_sent(3)

    # The best attempt counts, not the last one.
    shown = cell(stack.gradebook(), "ada")
    assert f'<strong class="score">{passed.score_raw:g} / {passed.score_max:g}</strong>' in shown
    assert "Completed" in shown
    # The other learner, who never launched, has no grade.
    assert "no grade" in cell(stack.gradebook(), "sam")

    rows = stack.rows()
    assert [r.status for r in rows] == [GradeStatus.SENT] * 3, [r.last_error for r in rows]
    stamps = [r.sent_timestamp for r in rows]
    assert all(isinstance(s, datetime) for s in stamps)
    seconds = [int(s.timestamp()) for s in stamps if s]
    assert seconds == sorted(set(seconds)), "each timestamp later than the last, in whole seconds"
    # The LMS kept them in that order: its history lists each, newest first.
    history = re.findall(r"<td>(\d{4}-\d\d-\d\dT[\d:.]+\+00:00)</td>", stack.gradebook())
    assert len(history) == 3
    assert history == sorted(history, reverse=True)


def test_reconciliation_resends_a_lost_grade_and_leaves_an_override_alone(stack: Stack) -> None:
    learner = stack.launch_from_lms("ada")
    passed = take_quiz(learner, stack, correct=True)
    stack.wait_until_sent(1)
    ours = f"{passed.score_raw:g} / {passed.score_max:g}"
    clients = GradeClients()
    try:

        def reconcile() -> ReconcileReport:
            return reconcile_grades(
                stack.services.sessions, clients.factory(stack.services), settle=timedelta(0)
            )

        # The LMS loses the grade (cleared by hand): the next reconciliation sends it again.
        stack.override("ada", "")
        assert "no grade" in cell(stack.gradebook(), "ada")
        assert reconcile().resent == 1
        stack.services.celery.send_task(TASK_SEND_GRADES)
        stack.wait_until_sent(2)
        assert ours in cell(stack.gradebook(), "ada")

        # An instructor changes it afterwards: recorded, shown, never fought.
        # The LMS compares whole seconds, and a resend within the second of the score before
        # it is stamped at the next whole second (next_timestamp: Moodle refuses anything
        # not later). An override must come a whole second after that stamp to be later;
        # 1.1 s was not enough when the quiz and the reconciliation shared a second.
        time.sleep(2.1)
        stack.override("ada", "55")
        report = reconcile()
        assert (report.overridden, report.resent) == (1, 0)
        latest = stack.rows()[-1]
        assert latest.overridden_at is not None and latest.lms_score == 55.0
        assert reconcile().checked == 0
        assert "55 / 100" in cell(stack.gradebook(), "ada")
        assert "set by grace" in cell(stack.gradebook(), "ada")
    finally:
        clients.close()
