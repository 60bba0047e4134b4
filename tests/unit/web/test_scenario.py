"""The role-play player: one step at a time, CHOSE per decision, a scored debrief at the end."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content import load_catalog
from content.schema import DecisionNode
from lti_tool.store.learning import RunStatus, ScenarioRun
from lti_tool.store.models import OutboxRow
from tests.unit.web.conftest import LearnerBrowser, ours, outbox_statements
from xapi import vocabulary
from xapi.vocabulary import SKILL_SCORES

COURSE = "service-foundations"
SCENARIO = load_catalog().require_scenario("double-charge")


def best_path() -> list[str]:
    """The highest-scoring reply at each decision, from the start to an ending."""
    path = []
    node = SCENARIO.node(SCENARIO.start)
    while isinstance(node, DecisionNode):
        choice = max(node.choices, key=lambda c: sum(c.scores.values()))
        path.append(choice.id)
        node = SCENARIO.node(choice.next)
    return path


def run_row(session: Session, run_id: str) -> ScenarioRun:
    session.expire_all()
    run = session.scalars(select(ScenarioRun)).one()
    assert str(run.id) == run_id
    return run


def _rows(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(OutboxRow)) or 0


def test_playing_the_best_path_ends_resolved_with_a_debrief(
    learner: LearnerBrowser, session: Session
) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    path = best_path()
    assert len(path) >= 3
    for step, choice_id in enumerate(path):
        response = learner.post(f"runs/{run_id}", {"step": str(step), "choice": choice_id})
        assert response.status_code == 303, response.get_data(as_text=True)
    run = run_row(session, run_id)
    assert run.status == RunStatus.FINISHED
    assert run.choices == path
    page = learner.get(f"runs/{run_id}").get_data(as_text=True)
    assert "Debrief" in page
    ending = SCENARIO.node(run.ending_id or "")
    assert ending is not None
    assert ending.debrief.split(".")[0].replace("'", "&#39;") in page

    statements = outbox_statements(session)
    chose = [s for s in statements if s["verb"]["id"].endswith("/chose")]
    assert [s["result"]["response"] for s in chose] == path
    assert all(s["context"]["extensions"][ours(vocabulary.RUN_ID)] == run_id for s in chose)
    completed = [s for s in statements if s["verb"]["id"].endswith("completed")]
    assert len(completed) == 1
    assert completed[0]["result"]["completion"] is True
    assert completed[0]["result"]["score"]["scaled"] == 1.0
    # The best path earns every point of every skill the scenario scores.
    skills = completed[0]["result"]["extensions"][ours(SKILL_SCORES)]
    assert set(skills) == set(SCENARIO.skills)
    assert all(score["raw"] == score["max"] > 0 for score in skills.values())


def test_the_same_step_sent_twice_counts_once(learner: LearnerBrowser, session: Session) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    first = best_path()[0]
    assert learner.post(f"runs/{run_id}", {"step": "0", "choice": first}).status_code == 303
    before = _rows(session)
    again = learner.post(f"runs/{run_id}", {"step": "0", "choice": first})
    assert again.status_code == 409
    assert _rows(session) == before
    assert run_row(session, run_id).choices == [first]


def test_a_reply_not_offered_is_refused(learner: LearnerBrowser, session: Session) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    before = _rows(session)
    for data in (
        {"step": "0", "choice": "no-such-reply"},
        {"step": "zero", "choice": best_path()[0]},
        {"step": "0"},
    ):
        assert learner.post(f"runs/{run_id}", data).status_code == 400
    assert learner.post(f"runs/{run_id}", {"step": "0"}, csrf=False).status_code == 403
    assert _rows(session) == before
    assert run_row(session, run_id).choices == []


def test_starting_again_resumes_an_unfinished_run(learner: LearnerBrowser) -> None:
    assert learner.start_scenario(COURSE, SCENARIO.id) == learner.start_scenario(
        COURSE, SCENARIO.id
    )


def test_another_learners_run_is_not_found(
    learner: LearnerBrowser, other_learner: LearnerBrowser, session: Session
) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    assert other_learner.get(f"runs/{run_id}").status_code == 404
    before = _rows(session)
    response = other_learner.post(f"runs/{run_id}", {"step": "0", "choice": best_path()[0]})
    assert response.status_code == 404
    assert _rows(session) == before
    assert run_row(session, run_id).choices == []
