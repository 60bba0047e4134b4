"""Placeable activities: every course, module, lesson, quiz, role-play, the
self-assessment and the goals page as one flat, described list with stable activity ids.

An activity id is ``<kind>:<slug>`` (``quiz:service-foundations-quiz``). It is what an LMS
stores when an instructor places one of our activities (Deep Linking ``custom`` and the
line item's ``resourceId``), so it must keep naming the same thing across content
versions: it is built from the slug alone, like :func:`content.ids.activity_iri`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from content.catalog import Catalog
from content.schema import Course, Lesson, Module, Quiz, Scenario

COURSE = "course"
MODULE = "module"
LESSON = "lesson"
QUIZ = "quiz"
SCENARIO = "scenario"
SELF_ASSESSMENT = "self-assessment"
GOALS = "goals"
#: Kinds in the order a picker lists them.
KINDS = (COURSE, MODULE, LESSON, QUIZ, SCENARIO, SELF_ASSESSMENT, GOALS)
#: Kinds that produce a score an LMS gradebook can take.
GRADED_KINDS = frozenset({COURSE, QUIZ, SCENARIO})
#: The self-assessment is one per catalogue; its id is fixed.
SELF_ASSESSMENT_SLUG = "self-assessment"
#: The learner's goals page is one per installation; its id is fixed.
GOALS_SLUG = "my-goals"
#: Setting a first goal from a suggestion: a few minutes.
GOALS_MINUTES = 5

# Estimates for items whose length the authors do not state. Our questions are short
# single-screen items; a role-play decision is read, weighed and answered; a statement
# of the self-assessment is one rating.
MINUTES_PER_QUESTION = 1.0
MINUTES_PER_DECISION = 2.0
MINUTES_PER_STATEMENT = 0.5


@dataclass(frozen=True)
class Activity:
    """One placeable activity, described for an instructor choosing what to place."""

    kind: str
    slug: str
    title: str
    summary: str
    minutes: int
    skills: tuple[str, ...]
    #: The course the activity's pages live under (None for the self-assessment).
    course_id: str | None
    #: Questions a quiz draws per attempt and the size of its pool (quiz and course only).
    draw: int | None = None
    pool_size: int | None = None
    #: The content's own defaults for the graded options.
    pass_mark: float | None = None
    attempts: int | None = None

    @property
    def activity_id(self) -> str:
        return activity_id(self.kind, self.slug)

    @property
    def graded(self) -> bool:
        return self.kind in GRADED_KINDS


def activity_id(kind: str, slug: str) -> str:
    """The stable id of an activity (see the module docstring)."""
    return f"{kind}:{slug}"


def split_activity_id(value: str) -> tuple[str, str] | None:
    """``(kind, slug)`` of a well-formed activity id, or None."""
    kind, sep, slug = value.partition(":")
    if not sep or kind not in KINDS or not slug:
        return None
    return kind, slug


def _minutes(value: float) -> int:
    return max(1, math.ceil(value))


def _ordered(skills: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(skills)))


class ActivityIndex:
    """The catalogue's activities, listed and looked up by activity id."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        activities: list[Activity] = []
        for course in catalog.list_courses():
            activities.append(self._course(course))
        for course in catalog.list_courses():
            activities.extend(self._module(course, module) for module in course.modules)
        for course in catalog.list_courses():
            for module in course.modules:
                for lesson_id in module.lessons:
                    lesson = catalog.get_lesson(lesson_id)
                    if lesson is not None:
                        activities.append(self._lesson(course, lesson))
        for course in catalog.list_courses():
            if course.quiz is not None:
                activities.append(self._quiz(course, course.quiz))
        for course in catalog.list_courses():
            for scenario_id in course.scenarios:
                scenario = catalog.get_scenario(scenario_id)
                if scenario is not None:
                    activities.append(self._scenario(course, scenario))
        assessment = catalog.self_assessment
        if assessment is not None:
            activities.append(
                Activity(
                    kind=SELF_ASSESSMENT,
                    slug=SELF_ASSESSMENT_SLUG,
                    title=assessment.title,
                    summary=assessment.intro,
                    minutes=_minutes(len(assessment.statements) * MINUTES_PER_STATEMENT),
                    skills=_ordered(s.skill for s in assessment.statements),
                    course_id=None,
                )
            )
        if catalog.list_goal_templates():
            activities.append(
                Activity(
                    kind=GOALS,
                    slug=GOALS_SLUG,
                    title="My goals",
                    summary=(
                        "Personal goals with weekly check-ins and a practice log: learners set "
                        "SMART goals from their self-assessment or from scratch and see them "
                        "progress as they learn."
                    ),
                    minutes=GOALS_MINUTES,
                    skills=_ordered(t.skill for t in catalog.list_goal_templates()),
                    course_id=None,
                )
            )
        self._activities = tuple(activities)
        # First wins, as in the catalogue: a module quiz or a scenario shared by two
        # courses is placed under the first course that lists it.
        self._by_id: dict[str, Activity] = {}
        for activity in activities:
            self._by_id.setdefault(activity.activity_id, activity)

    def list_activities(self) -> list[Activity]:
        return list(self._activities)

    def get_activity(self, value: str) -> Activity | None:
        return self._by_id.get(value)

    # --- builders ------------------------------------------------------------------------

    def _lesson_skills(self, lesson: Lesson) -> set[str]:
        skills = set()
        for question_id in lesson.knowledge_check:
            question = self._catalog.get_question(question_id)
            if question is not None:
                skills.add(question.skill)
        return skills

    def _module_lessons(self, module: Module) -> list[Lesson]:
        lessons = (self._catalog.get_lesson(lid) for lid in module.lessons)
        return [lesson for lesson in lessons if lesson is not None]

    def _quiz_pool_skills(self, quiz: Quiz) -> tuple[set[str], int]:
        skills: set[str] = set()
        size = 0
        for bank_id in quiz.banks:
            bank = self._catalog.get_bank(bank_id)
            if bank is not None:
                size += len(bank.questions)
                skills.update(q.skill for q in bank.questions)
        return skills, size

    def _module(self, course: Course, module: Module) -> Activity:
        lessons = self._module_lessons(module)
        skills: set[str] = set()
        for lesson in lessons:
            skills |= self._lesson_skills(lesson)
        return Activity(
            kind=MODULE,
            slug=module.id,
            title=module.title,
            summary=module.summary,
            minutes=_minutes(sum(lesson.estimated_minutes for lesson in lessons)),
            skills=_ordered(skills),
            course_id=course.id,
        )

    def _lesson(self, course: Course, lesson: Lesson) -> Activity:
        return Activity(
            kind=LESSON,
            slug=lesson.id,
            title=lesson.title,
            summary=lesson.summary,
            minutes=lesson.estimated_minutes,
            skills=_ordered(self._lesson_skills(lesson)),
            course_id=course.id,
        )

    def _quiz(self, course: Course, quiz: Quiz) -> Activity:
        skills, size = self._quiz_pool_skills(quiz)
        return Activity(
            kind=QUIZ,
            slug=quiz.id,
            title=quiz.title,
            summary=f"The final quiz of {course.title}: questions drawn from a pool of {size}.",
            minutes=_minutes(quiz.draw * MINUTES_PER_QUESTION),
            skills=_ordered(skills),
            course_id=course.id,
            draw=quiz.draw,
            pool_size=size,
            pass_mark=quiz.pass_mark,
            attempts=quiz.attempts,
        )

    def _scenario(self, course: Course, scenario: Scenario) -> Activity:
        decisions = sum(1 for node in scenario.nodes if node.type == "decision")
        return Activity(
            kind=SCENARIO,
            slug=scenario.id,
            title=scenario.title,
            summary=scenario.summary,
            minutes=_minutes(decisions * MINUTES_PER_DECISION),
            skills=_ordered(scenario.skills),
            course_id=course.id,
        )

    def _course(self, course: Course) -> Activity:
        skills: set[str] = set()
        minutes = 0.0
        for module in course.modules:
            for lesson in self._module_lessons(module):
                skills |= self._lesson_skills(lesson)
                minutes += lesson.estimated_minutes
        draw = size = None
        if course.quiz is not None:
            quiz_skills, size = self._quiz_pool_skills(course.quiz)
            skills |= quiz_skills
            draw = course.quiz.draw
            minutes += course.quiz.draw * MINUTES_PER_QUESTION
        for scenario_id in course.scenarios:
            scenario = self._catalog.get_scenario(scenario_id)
            if scenario is not None:
                skills.update(scenario.skills)
                decisions = sum(1 for node in scenario.nodes if node.type == "decision")
                minutes += decisions * MINUTES_PER_DECISION
        quiz = course.quiz
        return Activity(
            kind=COURSE,
            slug=course.id,
            title=course.title,
            summary=course.summary,
            minutes=_minutes(minutes),
            skills=_ordered(skills),
            course_id=course.id,
            draw=draw,
            pool_size=size,
            pass_mark=quiz.pass_mark if quiz else None,
            attempts=quiz.attempts if quiz else None,
        )
