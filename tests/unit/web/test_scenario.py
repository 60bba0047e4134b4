"""The role-play player: one step at a time, CHOSE per decision, a scored debrief at the end."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content import load_catalog
from content.debrief import choice_points
from content.schema import Choice, DecisionNode
from lti_tool.store.learning import RunStatus, ScenarioRun
from lti_tool.store.models import OutboxRow
from lti_tool.web.scenario import offered_choices
from tests.unit.web.conftest import LearnerBrowser, ours, outbox_statements
from xapi import vocabulary
from xapi.vocabulary import SKILL_SCORES

COURSE = "service-foundations"
SCENARIO = load_catalog().require_scenario("double-charge")
START = SCENARIO.node(SCENARIO.start)
assert isinstance(START, DecisionNode)


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
    node = SCENARIO.node(SCENARIO.start)
    for step, choice_id in enumerate(path):
        assert isinstance(node, DecisionNode)
        response = learner.reply(run_id, step, node, choice_id)
        assert response.status_code == 303, response.get_data(as_text=True)
        node = SCENARIO.node(next(c for c in node.choices if c.id == choice_id).next)
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
    assert learner.reply(run_id, 0, START, first).status_code == 303
    before = _rows(session)
    again = learner.reply(run_id, 0, START, first)
    assert again.status_code == 409
    assert _rows(session) == before
    assert run_row(session, run_id).choices == [first]


def test_a_reply_not_offered_is_refused(learner: LearnerBrowser, session: Session) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    before = _rows(session)
    for data in (
        {"step": "0", "choice": "no-such-reply"},
        # Content ids are not what the form sends: a guessed id is no reply.
        {"step": "0", "choice": best_path()[0]},
        {"step": "0", "choice": "0"},
        {"step": "0", "choice": str(len(START.choices) + 1)},
        {"step": "zero", "choice": "1"},
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
    response = other_learner.post(f"runs/{run_id}", {"step": "0", "choice": "1"})
    assert response.status_code == 404
    assert _rows(session) == before
    assert run_row(session, run_id).choices == []


def _offered_texts(page: str) -> list[str]:
    return re.findall(r'<label for="choice-\d+">(.*?)</label>', page, re.S)


def test_replies_keep_their_shuffled_order_when_the_run_is_resumed(
    learner: LearnerBrowser,
) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    first = _offered_texts(learner.get(f"runs/{run_id}").get_data(as_text=True))
    assert learner.start_scenario(COURSE, SCENARIO.id) == run_id  # resumed, not restarted
    again = _offered_texts(learner.get(f"runs/{run_id}").get_data(as_text=True))
    assert first == again
    assert [t.split()[0] for t in first] == [
        c.text.split()[0].replace('"', "&#34;").replace("'", "&#39;")
        for c in offered_choices(uuid.UUID(run_id), START)
    ]


def test_runs_are_shuffled_differently() -> None:
    # Over many runs every reply leads sometimes: the content order is not the page order.
    leaders = {offered_choices(uuid.uuid4(), START)[0].id for _ in range(200)}
    assert leaders == {c.id for c in START.choices}


def test_option_values_never_name_the_reply(learner: LearnerBrowser) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    page = learner.get(f"runs/{run_id}").get_data(as_text=True)
    values = re.findall(r'name="choice" id="([^"]+)" value="([^"]+)"', page)
    assert [v for _, v in values] == [str(i) for i in range(1, len(START.choices) + 1)]
    for choice in START.choices:
        assert choice.id not in page


def _play(learner: LearnerBrowser, run_id: str, pick: Callable[[DecisionNode], Choice]) -> None:
    node, step = START, 0
    while isinstance(node, DecisionNode):
        choice = pick(node)
        assert learner.reply(run_id, step, node, choice.id).status_code == 303
        node, step = SCENARIO.node(choice.next), step + 1


def test_the_debrief_sets_each_weaker_reply_beside_the_best_with_the_reason(
    learner: LearnerBrowser,
) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    worst = lambda node: min(node.choices, key=choice_points)  # noqa: E731
    _play(learner, run_id, worst)
    response = learner.get(f"runs/{run_id}")
    page = html.unescape(response.get_data(as_text=True))
    # Re-walk the worst path: each decision with a stronger reply appears with both and why.
    node = START
    weaker = 0
    while isinstance(node, DecisionNode):
        mine, best = worst(node), max(node.choices, key=choice_points)
        if choice_points(best) > choice_points(mine):
            weaker += 1
            assert " ".join(mine.text.split()) in " ".join(page.split())
            assert " ".join(best.text.split()) in " ".join(page.split())
            assert " ".join(best.feedback.split()) in " ".join(page.split())
        node = SCENARIO.node(mine.next)
    assert weaker > 0
    assert 'id="debrief"' in page and "data-land" in page
    assert "You chose the strongest reply at 0 of" in page


def test_a_best_run_has_nothing_to_compare_and_says_so(learner: LearnerBrowser) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    _play(learner, run_id, lambda node: max(node.choices, key=choice_points))
    page = learner.get(f"runs/{run_id}").get_data(as_text=True)
    assert "A stronger reply" not in page
    assert re.search(r"You chose the strongest reply at all \d+ decisions", page)


def test_the_last_reply_lands_on_the_debrief(learner: LearnerBrowser) -> None:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    path = best_path()
    node, location = START, ""
    for step, choice_id in enumerate(path):
        assert isinstance(node, DecisionNode)
        location = learner.reply(run_id, step, node, choice_id).headers["Location"]
        if step < len(path) - 1:
            assert location.endswith("#latest")
        node = SCENARIO.node(next(c for c in node.choices if c.id == choice_id).next)
    assert location.endswith("#debrief")
