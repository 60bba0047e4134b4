"""Learner-page fixtures: a launched learner and story-like helpers over the test client."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from content import load_catalog
from content.schema import DecisionNode, MatchingQuestion, OrderingQuestion
from lti_tool.services import Services
from lti_tool.store.learning import QuizAttempt
from lti_tool.store.models import OutboxRow
from lti_tool.web.question_form import _match_tokens, _option_tokens
from lti_tool.web.scenario import offered_choices
from tests.fixtures.platform import TestPlatform
from xapi.iris import rebase_iri

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class LearnerBrowser:
    """One launched learner: their URL prefix, CSRF token, and page-level helpers."""

    client: FlaskClient
    base: str
    csrf: str

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(self.base + path.lstrip("/"), **kwargs)

    def post(self, path: str, data: Any = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        data = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            data.append(("csrf_token", self.csrf))
        return self.client.post(self.base + path.lstrip("/"), data=MultiDict(data), **kwargs)

    def start_quiz(self, course_id: str) -> str:
        """Start (or resume) the course quiz; returns the attempt id."""
        response = self.post(f"courses/{course_id}/quiz/attempts")
        assert response.status_code == 303, response.get_data(as_text=True)
        return urlsplit(response.headers["Location"]).path.rstrip("/").rsplit("/", 1)[-1]

    def start_scenario(self, course_id: str, scenario_id: str) -> str:
        response = self.post(f"courses/{course_id}/scenarios/{scenario_id}/runs")
        assert response.status_code == 303, response.get_data(as_text=True)
        return urlsplit(response.headers["Location"]).path.rsplit("/", 1)[-1]

    def reply(self, run_id: str, step: int, node: DecisionNode, choice_id: str) -> Any:
        """Post the reply ``choice_id`` at ``step``, by its position in the run's order as
        the page offers it (the form never carries content ids)."""
        offered = [c.id for c in offered_choices(uuid.UUID(run_id), node)]
        value = str(offered.index(choice_id) + 1)
        return self.post(f"runs/{run_id}", {"step": str(step), "choice": value})


def launch_learner(client: FlaskClient, platform: TestPlatform, sub: str) -> LearnerBrowser:
    response = platform.launch(client, role="Learner", sub=sub)
    assert response.status_code == 303, response.get_data(as_text=True)
    base = urlsplit(response.headers["Location"]).path
    # The self-assessment page always has a form, so its CSRF token is the session's.
    page = client.get(base + "self-assessment")
    assert page.status_code == 200, page.get_data(as_text=True)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, "learner forms should carry the session's CSRF token"
    return LearnerBrowser(client=client, base=base, csrf=match.group(1))


@pytest.fixture
def learner(client: FlaskClient, registered: TestPlatform) -> LearnerBrowser:
    return launch_learner(client, registered, "learner-1")


@pytest.fixture
def other_learner(app: Flask, registered: TestPlatform) -> LearnerBrowser:
    # A separate client: nothing shared with the first learner but the server.
    return launch_learner(app.test_client(), registered, "learner-2")


@pytest.fixture
def session(services: Services) -> Iterator[Session]:
    with services.sessions() as opened:
        yield opened


def outbox_statements(session: Session) -> list[dict[str, Any]]:
    session.expire_all()
    return [row.statement for row in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]


def ours(iri: str) -> str:
    """One of our IRIs as the test app's statements carry it (its base: CXA_BASE_URL/xapi/)."""
    return rebase_iri(iri, "http://localhost/xapi/")


def verbs(session: Session) -> list[str]:
    return [s["verb"]["id"].rsplit("/", 1)[-1] for s in outbox_statements(session)]


def attempt_row(session: Session, attempt_id: str) -> QuizAttempt:
    session.expire_all()
    attempt = session.get(QuizAttempt, uuid.UUID(attempt_id))
    assert attempt is not None
    return attempt


def answer_fields(question_ids: list[str], seed: str, *, correct: bool) -> list[tuple[str, str]]:
    """Form fields answering every question right (or every one wrong), as our page sends them.

    ``seed`` is what the page shuffled with: an attempt id, or a lesson id for its check.
    """
    catalog = load_catalog()
    with contextlib.suppress(ValueError):
        seed = uuid.UUID(seed).hex
    fields: list[tuple[str, str]] = []
    for question_id in question_ids:
        question = catalog.require_question(question_id)
        name = f"q.{question.id}"
        if isinstance(question, OrderingQuestion):
            ids = [item.id for item in question.items]
            order = ids if correct else list(reversed(ids))
            fields += [(f"{name}.{iid}", str(order.index(iid) + 1)) for iid in ids]
        elif isinstance(question, MatchingQuestion):
            token_of = {pid: token for token, pid, _ in _match_tokens(question, seed)}
            ids = [pair.id for pair in question.pairs]
            for index, pid in enumerate(ids):
                target = pid if correct else ids[(index + 1) % len(ids)]
                fields.append((f"{name}.{pid}", token_of[target]))
        else:
            # The page sends an option's token (its shuffled place), never its id.
            for token, option in _option_tokens(question, seed):
                if option.correct == correct:
                    fields.append((name, token))
                    if not correct or question.type != "multiple_response":
                        break
    return fields
