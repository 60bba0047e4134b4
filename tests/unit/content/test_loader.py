"""Loading the shipped content and looking items up by id."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from content import (
    ContentError,
    ContentInvalidError,
    ContentNotFoundError,
    activity_iri,
    load_catalog,
)
from content.goals import list_check_in_dates, list_new_milestones, measure_progress
from content.schema import Lesson, OrderingQuestion
from tests.unit.content.conftest import edit_yaml


def test_lookups_return_typed_items() -> None:
    catalog = load_catalog()
    lesson = catalog.require_lesson("active-listening")
    assert isinstance(lesson, Lesson)
    assert lesson.body.lstrip().startswith("Most customers")
    assert "## Summary" in lesson.body
    assert isinstance(catalog.require_question("clarity-engineer-close-order"), OrderingQuestion)
    assert catalog.require_course("service-foundations").modules[0].id == "listening-and-empathy"
    assert catalog.require_module("personal-goals").lessons == [
        "setting-smart-goals",
        "tracking-progress",
    ]
    assert catalog.require_scenario("double-charge").start == "opening"
    assert catalog.require_skill("empathy").name == "Empathy"
    assert catalog.require_bank("foundations-bank").questions
    assert catalog.require_quiz("learning-team-quiz").pass_mark == 0.7
    assert catalog.require_goal_template("goal-close-with-summary").skill == "communication"


@pytest.mark.parametrize(
    "getter",
    [
        "get_course",
        "get_module",
        "get_lesson",
        "get_question",
        "get_bank",
        "get_quiz",
        "get_scenario",
        "get_skill",
        "get_goal_template",
    ],
)
def test_get_returns_none_and_require_raises(getter: str) -> None:
    catalog = load_catalog()
    assert getattr(catalog, getter)("does-not-exist") is None
    with pytest.raises(ContentNotFoundError, match="does-not-exist") as info:
        getattr(catalog, getter.replace("get_", "require_"))("does-not-exist")
    assert isinstance(info.value, ContentError)
    assert info.value.item_id == "does-not-exist"


def test_content_version_is_inherited_from_the_course() -> None:
    catalog = load_catalog()
    course = catalog.require_course("sharing-knowledge")
    assert catalog.require_lesson("mentoring-relationships").content_version == (
        course.content_version
    )
    assert catalog.require_question("kb-good-title").content_version == course.content_version
    assert catalog.require_scenario("thermostat-compatibility").content_version == (
        course.content_version
    )


def test_course_helpers() -> None:
    catalog = load_catalog()
    lessons = catalog.list_course_lessons("growing-on-the-job")
    assert lessons[0].id == "growth-mindset"
    assert lessons[-1].id == "tracking-progress"
    check = catalog.list_knowledge_check("active-listening")
    assert [q.id for q in check] == catalog.require_lesson("active-listening").knowledge_check
    course = catalog.get_course_of_lesson("calming-conflict")
    assert course is not None and course.id == "service-foundations"
    assert catalog.list_goal_templates(skill="empathy")
    origin = catalog.get_origin(catalog.require_question("listening-signs"))
    assert origin is not None
    assert origin.file == "content/courses/service-foundations/banks/foundations-bank.yaml"
    assert origin.field == "questions[1]"


def test_activity_iri_is_one_scheme_for_every_kind() -> None:
    catalog = load_catalog()
    assert activity_iri(catalog.require_lesson("active-listening")) == (
        "https://cx-academy.example/xapi/activities/lesson/active-listening"
    )
    assert activity_iri(catalog.require_question("listening-signs")) == (
        "https://cx-academy.example/xapi/activities/question/listening-signs"
    )
    assert activity_iri(catalog.require_scenario("double-charge"), "https://lrs.test/acts/") == (
        "https://lrs.test/acts/scenario/double-charge"
    )
    kinds = {item.kind for item in catalog.iter_items()}
    assert kinds == {
        "course",
        "module",
        "lesson",
        "quiz",
        "question-bank",
        "question",
        "scenario",
        "skill",
        "goal-template",
        "self-assessment",
    }
    iris = [activity_iri(item) for item in catalog.iter_items()]
    assert len(iris) == len(set(iris))


def test_load_catalog_refuses_invalid_content(content_copy: Path) -> None:
    edit_yaml(
        content_copy / "goals.yaml",
        lambda g: g["templates"][0].__setitem__("skill", "juggling"),
    )
    with pytest.raises(ContentInvalidError) as info:
        load_catalog(content_copy)
    assert any("unknown skill 'juggling'" in str(p) for p in info.value.problems)


def test_load_catalog_from_a_copy(content_copy: Path) -> None:
    assert len(load_catalog(content_copy).list_courses()) == len(load_catalog().list_courses())


def test_goal_progress_and_milestones() -> None:
    template = load_catalog().require_goal_template("goal-ask-for-feedback")
    progress = measure_progress(template, 20)
    assert progress.fraction == pytest.approx(2 / 3)
    assert [m.label for m in progress.reached] == ["10 answers collected", "20 answers"]
    assert progress.next_milestone is not None and progress.next_milestone.at == 1.0
    assert measure_progress(template, 45).complete
    assert [m.label for m in list_new_milestones(template, 9, 21)] == [
        "10 answers collected",
        "20 answers",
    ]
    # A learner's own target keeps milestones as fractions of it.
    assert len(measure_progress(template, 10, target=20).reached) == 1
    dates = list_check_in_dates(template, date(2026, 1, 1))
    assert dates[0] == date(2026, 1, 8)
    assert dates[-1] == date(2026, 1, 31)
