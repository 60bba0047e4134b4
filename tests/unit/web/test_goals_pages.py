"""The learner's goal pages: setting a goal from a template or from scratch, the SMART check,
form errors naming the field, check-ins, pause/resume/abandon, self-reported progress with
milestones, the practice log, the reminder after a launch, and one learner never reading or
changing another's goals."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from content import load_catalog
from lti_tool.store.badges import list_own_badges
from lti_tool.store.goals import Goal, GoalCheckIn, GoalStatus, GoalVisibility, PracticeEntry
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import Launch, utcnow
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import LearnerBrowser, ours, outbox_statements
from tests.unit.web.test_placed_launch import land, placed_launch
from xapi import vocabulary

TODAY = utcnow().date()


def goal_fields(**changes: str) -> dict[str, str]:
    fields = {
        "title": "Share tips with the team",
        "specific": "Post one practical tip a week in the team channel",
        "relevance": "Small posts spread fixes fast",
        "metric": "self_reported",
        "target": "6",
        "unit": "tips",
        "due": (TODAY + timedelta(days=42)).isoformat(),
        "skill": "knowledge-sharing",
        "visibility": "progress",
        "check_in_days": "7",
        "template": "",
        "action": "save",
    }
    fields.update(changes)
    return fields


def set_goal(learner: LearnerBrowser, **changes: str) -> str:
    """Set a goal through the form; returns its public id."""
    response = learner.post("goals/new", goal_fields(**changes))
    assert response.status_code == 303, response.get_data(as_text=True)
    return urlsplit(response.headers["Location"]).path.rstrip("/").rsplit("/", 1)[-1]


def goal_row(session: Session, public_id: str) -> Goal:
    session.expire_all()
    goal = session.scalar(select(Goal).where(Goal.public_id == uuid.UUID(public_id)))
    assert goal is not None
    return goal


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


# --- setting goals ----------------------------------------------------------------------------


def test_every_learner_page_links_the_goals_page(learner: LearnerBrowser) -> None:
    for path in ("", "self-assessment", "courses/service-foundations/"):
        page = learner.get(path)
        assert page.status_code == 200
        assert f'href="{learner.base}goals"' in text(page), path


def test_a_goal_from_scratch_is_stored_as_typed_and_listed(
    learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner)
    goal = goal_row(session, goal_id)
    assert (goal.title, goal.target, goal.unit, goal.metric_key) == (
        "Share tips with the team",
        6.0,
        "tips",
        "self_reported",
    )
    assert goal.status is GoalStatus.ACTIVE
    assert goal.visibility is GoalVisibility.PROGRESS
    assert goal.context_id == "course-7"  # the course the goal was set in
    assert goal.due_at.date() == TODAY + timedelta(days=42)
    listing = text(learner.get("goals"))
    assert "Share tips with the team" in listing
    assert "Due " + goal.due_at.strftime("%Y-%m-%d") in listing
    assert '<progress id="meter-' in listing


def test_a_template_goal_takes_the_templates_metric(
    learner: LearnerBrowser, session: Session
) -> None:
    form = learner.get("goals/new", query_string={"template": "goal-write-kb-articles"})
    assert form.status_code == 200
    assert "Write knowledge-base articles" in text(form)
    goal_id = set_goal(
        learner,
        template="goal-write-kb-articles",
        title="Write knowledge-base articles",
        metric="self_reported",  # ignored: a template's goal is measured its own way
    )
    goal = goal_row(session, goal_id)
    assert goal.template_id == "goal-write-kb-articles"
    assert goal.metric_key == "practice_logged"
    assert goal.metric_params == {"kind": "kb-article"}


def test_an_automatic_metric_from_scratch_keeps_its_checked_parameters(
    learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner, metric="quizzes_passed", **{"p.quizzes_passed.min_score": "0.8"})
    goal = goal_row(session, goal_id)
    assert goal.metric_key == "quizzes_passed"
    assert goal.metric_params == {"min_score": 0.8}
    bad = learner.post(
        "goals/new", goal_fields(metric="quizzes_passed", **{"p.quizzes_passed.min_score": "7"})
    )
    assert bad.status_code == 400
    assert "min_score" in text(bad)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("due", (TODAY - timedelta(days=1)).isoformat(), "The deadline is in the past"),
        ("due", (TODAY + timedelta(days=3)).isoformat(), "at least a week away"),
        ("due", (TODAY + timedelta(days=27 * 7)).isoformat(), "at most 26 weeks away"),
        ("due", "next friday", "must be a date"),
        ("target", "0", "greater than zero"),
        ("target", "-3", "greater than zero"),
        ("target", "lots", "must be a number"),
        ("target", "inf", "must be a number"),
        ("title", "", "Give the goal a short title"),
        ("title", "t" * 201, "The title is too long"),
        ("specific", "s" * 1001, "What you will do is too long"),
        ("relevance", "r" * 1001, "Why it matters is too long"),
        ("unit", "u" * 121, "The unit is too long"),
        ("metric", "made_up", "Choose how progress is measured"),
        ("visibility", "everyone", "Choose who may see this goal"),
        ("skill", "juggling", "Choose one of the listed skills"),
    ],
)
def test_bad_goal_input_names_the_field_and_stores_nothing(
    learner: LearnerBrowser, session: Session, field: str, value: str, message: str
) -> None:
    response = learner.post("goals/new", goal_fields(**{field: value}))
    assert response.status_code == 400
    page = text(response)
    assert message in page
    # The error sits by its field, which is marked invalid for assistive technology.
    assert f'id="err-{field}"' in page
    assert f'href="#f-{field}"' in page
    assert session.scalar(select(Goal)) is None


def test_far_too_long_text_is_refused_before_reading(learner: LearnerBrowser) -> None:
    response = learner.post("goals/new", goal_fields(specific="x" * 50_000))
    assert response.status_code == 400


def test_the_smart_check_says_what_is_missing_without_saving(
    learner: LearnerBrowser, session: Session
) -> None:
    response = learner.post("goals/new", goal_fields(specific="Tips", relevance="", action="check"))
    assert response.status_code == 200
    page = text(response)
    assert "SMART check" in page
    assert "Say in a sentence what exactly you will do" in page
    assert "Say why this goal matters" in page
    assert "Measurable:</strong> done" in page
    assert "Time-bound:</strong> done" in page
    assert session.scalar(select(Goal)) is None


def test_a_goal_without_csrf_token_is_refused(learner: LearnerBrowser, session: Session) -> None:
    response = learner.post("goals/new", goal_fields(), csrf=False)
    assert response.status_code == 403
    assert session.scalar(select(Goal)) is None


# --- working on a goal --------------------------------------------------------------------------


def test_check_in_is_stored_and_shown(learner: LearnerBrowser, session: Session) -> None:
    goal_id = set_goal(learner)
    response = learner.post(
        f"goals/{goal_id}/check-ins",
        {"did": "Posted two tips", "learned": "Short posts get read", "confidence": "4"},
    )
    assert response.status_code == 303
    check_in = session.scalar(select(GoalCheckIn))
    assert check_in is not None
    assert (check_in.did, check_in.confidence) == ("Posted two tips", 4)
    assert "Posted two tips" in text(learner.get(f"goals/{goal_id}"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"did": "", "confidence": "3"}, "Say what you did"),
        ({"did": "x", "confidence": "6"}, "Rate your confidence from 1 to 5"),
        ({"did": "x", "confidence": ""}, "Rate your confidence from 1 to 5"),
        ({"did": "x" * 2001, "confidence": "3"}, "What I did is too long"),
    ],
)
def test_bad_check_in_names_the_field(
    learner: LearnerBrowser, session: Session, fields: dict[str, str], message: str
) -> None:
    goal_id = set_goal(learner)
    response = learner.post(f"goals/{goal_id}/check-ins", fields)
    assert response.status_code == 400
    assert message in text(response)
    assert session.scalar(select(GoalCheckIn)) is None


def test_pause_resume_and_abandon(learner: LearnerBrowser, session: Session) -> None:
    goal_id = set_goal(learner)
    assert learner.post(f"goals/{goal_id}/status", {"action": "pause"}).status_code == 303
    assert goal_row(session, goal_id).status is GoalStatus.PAUSED
    # A paused goal cannot be paused again, nor have its progress updated.
    assert learner.post(f"goals/{goal_id}/status", {"action": "pause"}).status_code == 400
    assert learner.post(f"goals/{goal_id}/progress", {"progress": "2"}).status_code == 400
    assert learner.post(f"goals/{goal_id}/status", {"action": "resume"}).status_code == 303
    assert goal_row(session, goal_id).status is GoalStatus.ACTIVE
    assert learner.post(f"goals/{goal_id}/status", {"action": "abandon"}).status_code == 303
    goal = goal_row(session, goal_id)
    assert goal.status is GoalStatus.ABANDONED
    assert goal.ended_at is not None
    assert learner.post(f"goals/{goal_id}/status", {"action": "resume"}).status_code == 400
    assert learner.post(f"goals/{goal_id}/status", {"action": "explode"}).status_code == 400


def test_edit_changes_the_goal_and_checks_the_input(
    learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner)
    assert learner.get(f"goals/{goal_id}/edit").status_code == 200
    response = learner.post(
        f"goals/{goal_id}/edit", goal_fields(title="Share eight tips", target="8")
    )
    assert response.status_code == 303
    goal = goal_row(session, goal_id)
    assert (goal.title, goal.target) == ("Share eight tips", 8.0)
    bad = learner.post(f"goals/{goal_id}/edit", goal_fields(target="0"))
    assert bad.status_code == 400
    assert "greater than zero" in text(bad)
    assert goal_row(session, goal_id).target == 8.0


def test_self_reported_progress_celebrates_halfway_and_achieves_at_target(
    learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner)
    first = learner.post(f"goals/{goal_id}/progress", {"progress": "2"})
    assert first.status_code == 303
    assert "/celebrate" not in first.headers["Location"]
    halfway = learner.post(f"goals/{goal_id}/progress", {"progress": "3"})
    assert halfway.status_code == 303
    assert urlsplit(halfway.headers["Location"]).path.endswith(f"goals/{goal_id}/celebrate")
    page = learner.get(f"goals/{goal_id}/celebrate")
    assert "Halfway there!" in text(page)
    done = learner.post(f"goals/{goal_id}/progress", {"progress": "6"})
    assert "celebrate" in done.headers["Location"]
    goal = goal_row(session, goal_id)
    assert goal.status is GoalStatus.ACHIEVED
    assert goal.ended_at is not None
    page = text(learner.get(f"goals/{goal_id}/celebrate"))
    assert "Goal achieved!" in page
    assert "A next goal to consider" in page
    # Reaching the target by hand earns the same badge the engine awards, exactly once.
    assert [
        b.goal_id for b in list_own_badges(session, LearnerKey(goal.platform_id, goal.sub))
    ] == [goal.id]


@pytest.mark.parametrize("value", ["-1", "many", "", "1e9"])
def test_bad_progress_is_refused(learner: LearnerBrowser, session: Session, value: str) -> None:
    goal_id = set_goal(learner)
    response = learner.post(f"goals/{goal_id}/progress", {"progress": value})
    assert response.status_code == 400
    assert 'id="err-progress"' in text(response)
    assert goal_row(session, goal_id).progress == 0.0


def test_automatic_goals_take_no_hand_typed_progress(
    learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner, metric="quizzes_passed", **{"p.quizzes_passed.min_score": "0.8"})
    assert learner.post(f"goals/{goal_id}/progress", {"progress": "5"}).status_code == 400
    assert goal_row(session, goal_id).progress == 0.0


# --- suggestions --------------------------------------------------------------------------------


def test_suggestions_start_from_the_weakest_self_assessed_skill(learner: LearnerBrowser) -> None:
    assert "Take the self-assessment to get goals" in text(learner.get("goals"))
    statements = load_catalog().require_self_assessment().statements
    weakest = statements[0].skill
    # Every statement of one skill rated 1, the rest 4: that skill is the weakest.
    ratings = {f"q.{s.id}": "1" if s.skill == weakest else "4" for s in statements}
    assert learner.post("self-assessment", ratings).status_code == 303
    listing = text(learner.get("goals"))
    suggestions = listing[listing.index("Suggested goals") :]
    assert "1.0 of 5 in your self-assessment" in suggestions
    assert suggestions.index("1.0 of 5") < suggestions.index("4.0 of 5")


# --- practice log -------------------------------------------------------------------------------


def test_practice_is_logged_privately_by_default(learner: LearnerBrowser, session: Session) -> None:
    response = learner.post(
        "practice",
        {
            "kind": "mentoring-given",
            "happened_on": TODAY.isoformat(),
            "note": "Walked Sam through refunds",
            "link": "https://wiki.example.test/refunds",
        },
    )
    assert response.status_code == 303
    entry = session.scalar(select(PracticeEntry))
    assert entry is not None
    assert (entry.kind, entry.share_note, entry.link) == (
        "mentoring-given",
        False,
        "https://wiki.example.test/refunds",
    )
    assert "Walked Sam through refunds" in text(learner.get("practice"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "juggling", "Choose what kind of practice"),
        ("happened_on", (TODAY + timedelta(days=2)).isoformat(), "in the future"),
        ("happened_on", "yesterday", "must be a date"),
        ("note", "", "Add a short note"),
        ("note", "n" * 1001, "The note is too long"),
        ("link", "javascript:alert(1)", "must be a web address"),
    ],
)
def test_bad_practice_input_names_the_field(
    learner: LearnerBrowser, session: Session, field: str, value: str, message: str
) -> None:
    fields = {"kind": "kb-article", "happened_on": TODAY.isoformat(), "note": "Fixed an article"}
    fields[field] = value
    response = learner.post("practice", fields)
    assert response.status_code == 400
    assert message in text(response)
    assert f'id="err-{field}"' in text(response)
    assert session.scalar(select(PracticeEntry)) is None


# --- the reminder -------------------------------------------------------------------------------


def test_a_due_check_in_is_reminded_right_after_a_launch(
    learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner)
    assert "check-in is due" not in text(learner.get(""))
    # A week later, with no check-in: the next launch reminds.
    session.execute(
        update(Goal)
        .values(starts_at=utcnow() - timedelta(days=8))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    home = text(learner.get(""))
    assert "A weekly check-in is due on your goal" in home
    assert f"goals/{goal_id}" in home
    # The reminder belongs to the launch: an hour into the session it is gone.
    session.execute(update(Launch).values(created_at=utcnow() - timedelta(hours=1)))
    session.commit()
    assert "check-in is due" not in text(learner.get(""))
    # ... and a check-in settles it for the next week.
    session.execute(update(Launch).values(created_at=utcnow()))
    session.commit()
    learner.post(f"goals/{goal_id}/check-ins", {"did": "Posted a tip", "confidence": "3"})
    assert "check-in is due" not in text(learner.get(""))


# --- ownership --------------------------------------------------------------------------------


def test_another_learner_can_neither_read_nor_change_a_goal(
    learner: LearnerBrowser, other_learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner, title="Mine alone")
    for path in (f"goals/{goal_id}", f"goals/{goal_id}/edit", f"goals/{goal_id}/celebrate"):
        response = other_learner.get(path)
        assert response.status_code == 404, path
        assert "Mine alone" not in text(response)
    attempts = {
        f"goals/{goal_id}/edit": goal_fields(title="Hijacked"),
        f"goals/{goal_id}/status": {"action": "abandon"},
        f"goals/{goal_id}/check-ins": {"did": "Hijacked", "confidence": "1"},
        f"goals/{goal_id}/progress": {"progress": "6"},
    }
    for path, fields in attempts.items():
        assert other_learner.post(path, fields).status_code == 404, path
    goal = goal_row(session, goal_id)
    assert (goal.title, goal.status, goal.progress) == ("Mine alone", GoalStatus.ACTIVE, 0.0)
    assert session.scalar(select(GoalCheckIn)) is None
    assert "Mine alone" not in text(other_learner.get("goals"))


def test_an_unknown_goal_or_template_is_a_404(learner: LearnerBrowser) -> None:
    assert learner.get(f"goals/{uuid.uuid4()}").status_code == 404
    assert learner.get("goals/new", query_string={"template": "nope"}).status_code == 404


# --- statements -------------------------------------------------------------------------------


def goal_verbs(session: Session) -> list[str]:
    return [
        s["verb"]["id"]
        for s in outbox_statements(session)
        if s["object"]["id"].rsplit("/", 2)[-2] in ("goals", "practice")
    ]


def test_each_change_is_recorded_and_no_statement_carries_private_text(
    learner: LearnerBrowser, session: Session
) -> None:
    secret = "Secret-words-%d"
    goal_id = set_goal(
        learner, title=secret % 1, specific=secret % 2 + " in a sentence", relevance=secret % 3
    )
    learner.post(f"goals/{goal_id}/status", {"action": "pause"})
    learner.post(f"goals/{goal_id}/status", {"action": "resume"})
    learner.post(
        f"goals/{goal_id}/check-ins", {"did": secret % 4, "learned": secret % 5, "confidence": "2"}
    )
    learner.post(f"goals/{goal_id}/progress", {"progress": "3"})
    learner.post(f"goals/{goal_id}/progress", {"progress": "6"})
    learner.post(
        "practice",
        {
            "kind": "team-tip",
            "happened_on": TODAY.isoformat(),
            "note": secret % 6,
            "link": "https://wiki.example.test/secret-link",
            "share_note": "yes",
        },
    )
    assert goal_verbs(session) == [
        ours(vocabulary.SET_GOAL.iri),
        ours(vocabulary.UPDATED.iri),  # paused
        ours(vocabulary.UPDATED.iri),  # resumed
        ours(vocabulary.CHECKED_IN.iri),
        ours(vocabulary.PROGRESSED.iri),
        ours(vocabulary.PROGRESSED.iri),
        ours(vocabulary.ACHIEVED_GOAL.iri),
        ours(vocabulary.LOGGED.iri),
    ]
    statements = outbox_statements(session)
    everything = json.dumps(statements)
    assert "Secret-words" not in everything
    assert "secret-link" not in everything
    progressed = [s for s in statements if s["verb"]["id"] == ours(vocabulary.PROGRESSED.iri)]
    milestones = [
        s["result"]["extensions"].get(ours(vocabulary.GOAL_MILESTONE)) for s in progressed
    ]
    assert milestones == [0.5, 1.0]
    # Every goal statement is the learner's own.
    assert {s["actor"]["account"]["name"] for s in statements} == {"learner-1"}


def test_a_shared_goal_names_its_title_in_statements(
    learner: LearnerBrowser, session: Session
) -> None:
    set_goal(learner, title="Share eight tips", visibility="content", specific="Never-sent plan")
    (statement,) = [
        s for s in outbox_statements(session) if s["verb"]["id"] == ours(vocabulary.SET_GOAL.iri)
    ]
    assert statement["object"]["definition"]["name"]["en-US"] == "Share eight tips"
    assert "Never-sent plan" not in json.dumps(statement)


def test_abandoning_is_recorded(learner: LearnerBrowser, session: Session) -> None:
    goal_id = set_goal(learner)
    learner.post(f"goals/{goal_id}/status", {"action": "abandon"})
    assert goal_verbs(session)[-1] == ours(vocabulary.ABANDONED_GOAL.iri)


def test_a_placed_course_suggests_goals_for_its_skills(
    client: FlaskClient, registered: TestPlatform
) -> None:
    course = load_catalog().require_course("service-foundations")
    response = placed_launch(client, registered, custom={"cxa_activity": f"course:{course.id}"})
    path, _page = land(client, response)
    base = path.split("/courses/", 1)[0] + "/"
    listing = text(client.get(base + "goals"))
    assert f"It practises a skill of {course.title}." in listing


def test_a_private_goals_statements_carry_none_of_its_words(
    learner: LearnerBrowser, session: Session
) -> None:
    goal_id = set_goal(learner, title="Private-title", visibility="private")
    learner.post(f"goals/{goal_id}/progress", {"progress": "1"})
    statements = outbox_statements(session)
    assert len([s for s in statements if "/goals/" in s["object"]["id"]]) == 2
    assert "Private-title" not in json.dumps(statements)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("goals/{id}/edit", goal_fields(title="Changed")),
        ("goals/{id}/status", {"action": "abandon"}),
        ("goals/{id}/check-ins", {"did": "Changed", "confidence": "3"}),
        ("goals/{id}/progress", {"progress": "5"}),
        ("practice", {"kind": "kb-article", "happened_on": TODAY.isoformat(), "note": "x"}),
    ],
)
def test_every_goal_form_needs_the_csrf_token(
    learner: LearnerBrowser, session: Session, path: str, fields: dict[str, str]
) -> None:
    goal_id = set_goal(learner)
    response = learner.post(path.format(id=goal_id), fields, csrf=False)
    assert response.status_code == 403
    goal = goal_row(session, goal_id)
    assert (goal.title, goal.status, goal.progress) == (
        "Share tips with the team",
        GoalStatus.ACTIVE,
        0.0,
    )
    assert session.scalar(select(GoalCheckIn)) is None
    assert session.scalar(select(PracticeEntry)) is None
