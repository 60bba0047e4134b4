"""Placeable activities and the instructor's options for graded ones (pure curriculum code)."""

from __future__ import annotations

import pytest

from content import load_catalog
from content.activities import (
    KINDS,
    ActivityIndex,
    activity_id,
    split_activity_id,
)
from content.placement import (
    OptionErrors,
    PlacementOptions,
    default_options,
    options_from_custom,
    parse_options,
)

INDEX = ActivityIndex(load_catalog())
QUIZ = INDEX.get_activity("quiz:service-foundations-quiz")
SCENARIO = INDEX.get_activity("scenario:double-charge")


def test_every_kind_is_listed_and_every_id_is_unique_and_resolvable() -> None:
    activities = INDEX.list_activities()
    ids = [a.activity_id for a in activities]

    assert {a.kind for a in activities} == set(KINDS)
    assert len(ids) == len(set(ids))
    assert all(INDEX.get_activity(i) is not None for i in ids)


def test_ids_are_kind_and_slug_and_split_back() -> None:
    assert activity_id("quiz", "final") == "quiz:final"
    assert split_activity_id("quiz:final") == ("quiz", "final")
    assert split_activity_id("wizard:final") is None
    assert split_activity_id("quiz:") is None
    assert split_activity_id("final") is None


def test_a_lesson_takes_its_authors_minutes_and_its_checks_skills() -> None:
    catalog = load_catalog()
    lesson = catalog.require_lesson("active-listening")
    activity = INDEX.get_activity("lesson:active-listening")

    assert activity is not None
    assert activity.minutes == lesson.estimated_minutes
    expected = {catalog.require_question(q).skill for q in lesson.knowledge_check}
    assert set(activity.skills) == expected
    assert activity.course_id == "service-foundations"
    assert not activity.graded


def test_a_module_adds_up_its_lessons() -> None:
    catalog = load_catalog()
    module = catalog.require_module("listening-and-empathy")
    activity = INDEX.get_activity("module:listening-and-empathy")

    assert activity is not None
    assert activity.minutes == sum(
        catalog.require_lesson(lid).estimated_minutes for lid in module.lessons
    )


def test_a_quiz_knows_its_pool_draw_and_defaults() -> None:
    assert QUIZ is not None
    pool = load_catalog().list_quiz_pool("service-foundations-quiz")

    assert QUIZ.pool_size == len(pool)
    assert QUIZ.draw == 10
    assert set(QUIZ.skills) == {q.skill for q in pool}
    assert QUIZ.graded


def test_a_course_covers_its_lessons_quiz_and_role_plays() -> None:
    course = INDEX.get_activity("course:service-foundations")
    lessons = [
        a
        for a in INDEX.list_activities()
        if a.kind == "lesson" and a.course_id == course.course_id  # type: ignore[union-attr]
    ]

    assert course is not None
    assert course.minutes > sum(a.minutes for a in lessons)
    assert set(SCENARIO.skills) <= set(course.skills)  # type: ignore[union-attr]


def test_defaults_are_the_contents_own_settings() -> None:
    assert QUIZ is not None
    options = default_options(QUIZ)

    assert options == PlacementOptions(
        graded=True, pass_mark=0.7, attempts=3, draw=10, counts="best"
    )


def test_good_values_become_options_and_custom_parameters() -> None:
    assert QUIZ is not None
    options = parse_options(
        QUIZ, {"graded": "no", "pass_mark": "85", "attempts": "5", "draw": "4", "counts": "last"}
    )

    assert options == PlacementOptions(False, 0.85, 5, 4, "last")
    assert options.to_custom() == {
        "cxa_graded": "false",
        "cxa_pass_mark": "85",
        "cxa_attempts": "5",
        "cxa_draw": "4",
        "cxa_score_counts": "last",
    }


def test_every_bad_field_is_named_at_once() -> None:
    assert QUIZ is not None
    with pytest.raises(OptionErrors) as caught:
        parse_options(QUIZ, {"pass_mark": "200", "attempts": "x", "draw": "0", "counts": "?"})

    assert set(caught.value.errors) == {"pass_mark", "attempts", "draw", "counts"}


def test_a_role_play_has_no_question_draw() -> None:
    assert SCENARIO is not None
    options = parse_options(SCENARIO, {"draw": "3", "pass_mark": "60"})

    assert options.draw is None
    assert options.pass_mark == 0.6
    assert "cxa_draw" not in options.to_custom()


def test_custom_parameters_read_back_and_a_bad_one_falls_back_to_the_default() -> None:
    assert QUIZ is not None
    custom = {**PlacementOptions(True, 0.9, 2, 6, "last").to_custom(), "cxa_attempts": "lots"}

    options = options_from_custom(QUIZ, custom)

    assert options == PlacementOptions(True, 0.9, 3, 6, "last")


def test_the_options_read_as_one_sentence() -> None:
    assert PlacementOptions(True, 0.8, 1, 5, "last").describe() == (
        "Graded: pass mark 80%, 1 attempt, 5 questions, the last attempt counts."
    )
    assert PlacementOptions(False, 0.8, 2, None, "best").describe() == "Not graded."
