"""The demo story of issue 9 end to end, with the goal engine run the way its task runs it:
a learner sets a suggested goal after the self-assessment, passes a quiz and sees the bar
move, logs a mentoring session that counts, and achieves a goal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from content import load_catalog
from lti_tool.services import Services
from lti_tool.store.badges import list_own_badges
from lti_tool.store.goals import GoalStatus
from lti_tool.store.learning import LearnerKey
from tests.unit.web.conftest import LearnerBrowser
from tests.unit.web.test_goals_pages import TODAY, goal_row, set_goal, text
from tests.unit.web.test_grade_publishing import take_quiz
from workers.goal_engine import GoalEngine
from workers.goals import count_outbox


def run_engine(services: Services) -> None:
    count_outbox(services, GoalEngine(load_catalog()))


def test_self_assessment_goal_quiz_practice_and_achievement(
    learner: LearnerBrowser, session: Session, services: Services
) -> None:
    statements = load_catalog().require_self_assessment().statements
    ratings = {f"q.{s.id}": "1" if s.skill == "mentoring" else "4" for s in statements}
    assert learner.post("self-assessment", ratings).status_code == 303
    listing = text(learner.get("goals"))
    # The weakest skill's template is suggested first; the learner uses it.
    suggestions = listing[listing.index("Suggested goals") :]
    first = suggestions.index("goals/new?template=")
    template = suggestions[first:].split("=", 1)[1].split('"', 1)[0]
    assert load_catalog().require_goal_template(template).skill == "mentoring"
    mentoring = set_goal(
        learner, template="goal-peer-mentor", title="Peer-mentor", target="2", unit="check-ins"
    )
    quizzes = set_goal(
        learner,
        title="Pass the final quiz",
        metric="quizzes_passed",
        unit="quizzes",
        target="1",
        **{"p.quizzes_passed.min_score": "0.5"},
    )

    take_quiz(learner, session, correct=True)
    run_engine(services)
    goal = goal_row(session, quizzes)
    assert (goal.progress, goal.status) == (1.0, GoalStatus.ACHIEVED)
    assert "Progress: 1 of 1 quizzes (100%)" in text(learner.get(f"goals/{quizzes}"))
    assert "Goal achieved!" in text(learner.get(f"goals/{quizzes}/celebrate"))
    # The engine's achievement awards the Open Badge, downloadable as a signed VC-JWT.
    (badge,) = list_own_badges(session, LearnerKey(goal.platform_id, goal.sub))
    assert badge.goal_id == goal.id
    download = learner.get(f"badges/{badge.public_id}.jwt")
    assert download.status_code == 200
    assert download.get_data(as_text=True).count(".") == 2

    logged = learner.post(
        "practice",
        {
            "kind": "mentoring-given",
            "happened_on": TODAY.isoformat(),
            "note": "Refunds walk-through",
        },
    )
    assert logged.status_code == 303
    run_engine(services)
    goal = goal_row(session, mentoring)
    assert (goal.progress, goal.status) == (1.0, GoalStatus.ACTIVE)
    assert "Progress: 1 of 2 check-ins (50%)" in text(learner.get("goals"))
