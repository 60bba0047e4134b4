"""The skills self-assessment: ratings in, recommended modules out, statements recorded."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content import load_catalog
from lti_tool.store.learning import SelfAssessmentRecord
from lti_tool.store.models import Platform
from tests.unit.web.conftest import LearnerBrowser, outbox_statements

ASSESSMENT = load_catalog().require_self_assessment()


def _records(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SelfAssessmentRecord)) or 0


def low_listening_ratings() -> dict[str, str]:
    """Everything rated high except listening, which is rated lowest."""
    return {f"q.{s.id}": "1" if s.skill == "listening" else "5" for s in ASSESSMENT.statements}


def test_low_ratings_recommend_modules_and_are_recorded(
    learner: LearnerBrowser, session: Session
) -> None:
    response = learner.post("self-assessment", low_listening_ratings())
    assert response.status_code == 303
    result_path = urlsplit(response.headers["Location"]).path
    page = learner.client.get(result_path).get_data(as_text=True)
    rule = next(r for r in ASSESSMENT.rules if r.skill == "listening")
    for module_id in rule.modules:
        assert f"/modules/{module_id}" in page
    statements = outbox_statements(session)
    # Ratings are survey replies ("responded"), never "answered": an LRS counts answered
    # statements as questions and their success as accuracy.
    assert not [s for s in statements if s["verb"]["id"].endswith("answered")]
    ratings = [
        s for s in statements if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/responded"
    ]
    assert len(ratings) == len(ASSESSMENT.statements)
    assert ratings[0]["object"]["definition"]["interactionType"] == "likert"
    survey = ratings[0]["context"]["contextActivities"]["parent"][0]["definition"]["type"]
    assert survey == "http://id.tincanapi.com/activitytype/survey"
    completed = [s for s in statements if s["verb"]["id"].endswith("completed")]
    assert len(completed) == 1
    assert rule.modules[0] in completed[0]["result"]["response"]
    # The landing page links the latest result.
    assert result_path.rsplit("/", 1)[-1] in learner.get("").get_data(as_text=True)


def test_bad_ratings_are_refused_and_change_nothing(
    learner: LearnerBrowser, session: Session
) -> None:
    first = ASSESSMENT.statements[0].id
    for data in ({f"q.{first}": "9"}, {f"q.{first}": "x"}, {"q.no-such-statement": "3"}, {}):
        assert learner.post("self-assessment", data).status_code == 400, data
    assert learner.post("self-assessment", {f"q.{first}": "3"}, csrf=False).status_code == 403
    assert _records(session) == 0
    assert outbox_statements(session) == [
        s for s in outbox_statements(session) if s["verb"]["id"].endswith("launched")
    ]


def test_another_learners_result_is_not_found(
    learner: LearnerBrowser, other_learner: LearnerBrowser
) -> None:
    response = learner.post("self-assessment", low_listening_ratings())
    record_id = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[-1]
    assert other_learner.get(f"self-assessment/results/{record_id}").status_code == 404


def test_the_page_says_what_is_sent_and_statements_keep_to_it(
    learner: LearnerBrowser, session: Session
) -> None:
    page = learner.get("self-assessment").get_data(as_text=True)
    # The old promise ("nobody else sees your ratings") was untrue: ratings go to the LRS.
    assert "nobody else sees" not in page
    assert "learning record store (LRS)" in page
    assert "without your name" in page
    assert learner.post("self-assessment", low_listening_ratings()).status_code == 303
    for statement in outbox_statements(session):
        assert "name" not in statement["actor"]


def test_a_registration_that_opts_in_says_names_are_sent_and_sends_them(
    learner: LearnerBrowser, session: Session
) -> None:
    platform = session.scalars(select(Platform)).one()
    platform.actor_name = "include"
    session.commit()
    page = learner.get("self-assessment").get_data(as_text=True)
    assert "and your name" in page
    assert learner.post("self-assessment", low_listening_ratings()).status_code == 303
    ratings = [
        s
        for s in outbox_statements(session)
        if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/responded"
    ]
    assert ratings
    assert all(s["actor"].get("name") for s in ratings)


def test_what_the_page_says_is_sent_is_exactly_what_is_sent(
    learner: LearnerBrowser, session: Session
) -> None:
    page = learner.get("self-assessment").get_data(as_text=True)
    assert "the statement and the rating you chose" in page
    assert "which modules it recommended" in page
    assert "your average rating per skill" in page
    rated = dict(list(low_listening_ratings().items())[:4])
    assert learner.post("self-assessment", rated).status_code == 303
    sent = [s for s in outbox_statements(session) if not s["verb"]["id"].endswith("launched")]
    responded = [s for s in sent if s["verb"]["id"].endswith("/responded")]
    completed = [s for s in sent if s["verb"]["id"].endswith("/completed")]
    # One statement per rated statement (its text and the rating), one completion.
    assert len(responded) == len(rated) and len(completed) == 1
    assert len(sent) == len(responded) + len(completed)
    texts = {s.id: s.text for s in ASSESSMENT.statements}
    for statement in responded:
        definition = statement["object"]["definition"]
        assert definition["description"]["en-US"] in {texts[k[2:]] for k in rated}
        assert statement["result"] == {"response": statement["result"]["response"]}
    # The completion lists the recommended modules and the average per skill, nothing else.
    assert "score" not in completed[0]["result"]
    assert set(completed[0]["result"]) == {"completion", "response", "extensions"}
    (averages,) = completed[0]["result"]["extensions"].values()
    skills = {s.id: s.skill for s in ASSESSMENT.statements}
    assert set(averages) == {skills[key[2:]] for key in rated}


def test_the_form_groups_statements_by_skill_one_step_each(learner: LearnerBrowser) -> None:
    page = learner.get("self-assessment").get_data(as_text=True)
    skills = list(dict.fromkeys(s.skill for s in ASSESSMENT.statements))
    assert page.count("data-step>") == len(skills)
    assert f"Skill 1 of {len(skills)}" in page
    assert page.count('role="radiogroup"') == len(ASSESSMENT.statements)


def test_the_result_shows_every_skill_and_at_most_three_focus_areas(
    learner: LearnerBrowser,
) -> None:
    everything_low = {f"q.{s.id}": "1" for s in ASSESSMENT.statements}
    response = learner.post("self-assessment", everything_low)
    page = learner.client.get(urlsplit(response.headers["Location"]).path).get_data(as_text=True)
    skills = {s.skill for s in ASSESSMENT.statements}
    assert page.count("<meter ") == len(skills)
    assert page.count("<li><h3>") == 3
    assert f"{len(skills) - 3} more skills are rated low" in page
