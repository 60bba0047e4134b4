"""The loaded curriculum and its lookups by id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from content.errors import ContentNotFoundError
from content.problem import Origin
from content.schema import (
    Course,
    GoalTemplate,
    Item,
    Lesson,
    Metric,
    Module,
    PracticeKind,
    Question,
    QuestionBank,
    Quiz,
    Scenario,
    SeedIndex,
    SelfAssessment,
    Skill,
)

T = TypeVar("T", bound=Item)


@dataclass(frozen=True)
class Entry:
    """An item together with where it was read, so problems can name file and field."""

    item: Item
    origin: Origin


def _index(items: Iterable[T]) -> dict[str, T]:
    # First definition wins; duplicates are reported by validation, not hidden here.
    index: dict[str, T] = {}
    for item in items:
        index.setdefault(item.id, item)
    return index


class Catalog:
    """Every course, lesson, question, scenario, skill and goal template, looked up by id.

    ``get_*`` returns None for an unknown id; ``require_*`` raises
    :class:`~content.errors.ContentNotFoundError` naming the id.
    """

    def __init__(
        self,
        *,
        root: Path,
        seeds: SeedIndex | None,
        skills: list[Skill],
        courses: list[Course],
        lessons: list[Lesson],
        banks: list[QuestionBank],
        scenarios: list[Scenario],
        goal_templates: list[GoalTemplate],
        self_assessment: SelfAssessment | None,
        entries: list[Entry],
        metrics: Iterable[Metric] = (),
        practice_kinds: Iterable[PracticeKind] = (),
    ) -> None:
        self.root = root
        self.seeds = seeds
        self.self_assessment = self_assessment
        self.entries = tuple(entries)
        self._skills = tuple(skills)
        self._courses = tuple(courses)
        self._lessons = tuple(lessons)
        self._banks = tuple(banks)
        self._scenarios = tuple(scenarios)
        self._goal_templates = tuple(goal_templates)
        self._modules = tuple(module for course in courses for module in course.modules)
        self._quizzes = tuple(
            quiz
            for course in courses
            for quiz in [course.quiz, *(module.quiz for module in course.modules)]
            if quiz is not None
        )
        self._questions: tuple[Question, ...] = tuple(q for bank in banks for q in bank.questions)
        self._course_by_id = _index(self._courses)
        self._module_by_id = _index(self._modules)
        self._lesson_by_id = _index(self._lessons)
        self._bank_by_id = _index(self._banks)
        self._quiz_by_id = _index(self._quizzes)
        self._scenario_by_id = _index(self._scenarios)
        self._skill_by_id = _index(self._skills)
        self._goal_by_id = _index(self._goal_templates)
        self._metrics = tuple(metrics)
        self._practice_kinds = tuple(practice_kinds)
        # First wins, as in _index; validation reports duplicates.
        self._metric_by_key: dict[str, Metric] = {}
        for metric in self._metrics:
            self._metric_by_key.setdefault(metric.key, metric)
        self._practice_kind_by_id: dict[str, PracticeKind] = {}
        for kind in self._practice_kinds:
            self._practice_kind_by_id.setdefault(kind.id, kind)
        self._question_by_id: dict[str, Question] = {}
        for question in self._questions:
            # Same rule as _index: first wins, validation reports the duplicate.
            self._question_by_id.setdefault(question.id, question)
        self._origins = {id(entry.item): entry.origin for entry in entries}
        self._course_of_lesson: dict[str, Course] = {}
        for course in courses:
            for module in course.modules:
                for lesson_id in module.lessons:
                    self._course_of_lesson.setdefault(lesson_id, course)

    # --- lists ------------------------------------------------------------------------

    def list_courses(self) -> list[Course]:
        return list(self._courses)

    def list_courses_in_path(self) -> list[Course]:
        """Every course, each after its prerequisites; courses free to go next keep the
        catalogue's order. Validation refuses prerequisite cycles; should one slip through,
        the courses in it follow the rest rather than vanish."""
        known = {course.id for course in self._courses}
        placed: list[Course] = []
        done: set[str] = set()
        remaining = list(self._courses)
        while remaining:
            ready = next(
                (c for c in remaining if all(p in done or p not in known for p in c.prerequisites)),
                remaining[0],
            )
            placed.append(ready)
            done.add(ready.id)
            remaining.remove(ready)
        return placed

    def list_modules(self) -> list[Module]:
        return list(self._modules)

    def list_lessons(self) -> list[Lesson]:
        return list(self._lessons)

    def list_banks(self) -> list[QuestionBank]:
        return list(self._banks)

    def list_questions(self) -> list[Question]:
        return list(self._questions)

    def list_quizzes(self) -> list[Quiz]:
        return list(self._quizzes)

    def list_scenarios(self) -> list[Scenario]:
        return list(self._scenarios)

    def list_skills(self) -> list[Skill]:
        return list(self._skills)

    def list_goal_templates(self, skill: str | None = None) -> list[GoalTemplate]:
        return [g for g in self._goal_templates if skill is None or g.skill == skill]

    def list_metrics(self) -> list[Metric]:
        return list(self._metrics)

    def list_practice_kinds(self) -> list[PracticeKind]:
        return list(self._practice_kinds)

    def list_course_lessons(self, course_id: str) -> list[Lesson]:
        """Return a course's lessons in teaching order (module by module)."""
        course = self.require_course(course_id)
        return [self.require_lesson(lid) for module in course.modules for lid in module.lessons]

    def list_knowledge_check(self, lesson_id: str) -> list[Question]:
        lesson = self.require_lesson(lesson_id)
        return [self.require_question(qid) for qid in lesson.knowledge_check]

    def list_quiz_pool(self, quiz_id: str) -> list[Question]:
        """Return every question a quiz may draw from, bank by bank, in authored order."""
        quiz = self.require_quiz(quiz_id)
        return [q for bank_id in quiz.banks for q in self.require_bank(bank_id).questions]

    def iter_items(self) -> Iterator[Item]:
        return (entry.item for entry in self.entries)

    # --- lookups ----------------------------------------------------------------------

    def get_course(self, course_id: str) -> Course | None:
        return self._course_by_id.get(course_id)

    def require_course(self, course_id: str) -> Course:
        return _require(self.get_course(course_id), "course", course_id)

    def get_module(self, module_id: str) -> Module | None:
        return self._module_by_id.get(module_id)

    def require_module(self, module_id: str) -> Module:
        return _require(self.get_module(module_id), "module", module_id)

    def get_lesson(self, lesson_id: str) -> Lesson | None:
        return self._lesson_by_id.get(lesson_id)

    def require_lesson(self, lesson_id: str) -> Lesson:
        return _require(self.get_lesson(lesson_id), "lesson", lesson_id)

    def get_bank(self, bank_id: str) -> QuestionBank | None:
        return self._bank_by_id.get(bank_id)

    def require_bank(self, bank_id: str) -> QuestionBank:
        return _require(self.get_bank(bank_id), "question bank", bank_id)

    def get_question(self, question_id: str) -> Question | None:
        return self._question_by_id.get(question_id)

    def require_question(self, question_id: str) -> Question:
        question = self.get_question(question_id)
        if question is None:
            raise ContentNotFoundError("question", question_id)
        return question

    def get_quiz(self, quiz_id: str) -> Quiz | None:
        return self._quiz_by_id.get(quiz_id)

    def require_quiz(self, quiz_id: str) -> Quiz:
        return _require(self.get_quiz(quiz_id), "quiz", quiz_id)

    def get_scenario(self, scenario_id: str) -> Scenario | None:
        return self._scenario_by_id.get(scenario_id)

    def require_scenario(self, scenario_id: str) -> Scenario:
        return _require(self.get_scenario(scenario_id), "scenario", scenario_id)

    def get_skill(self, skill_id: str) -> Skill | None:
        return self._skill_by_id.get(skill_id)

    def require_skill(self, skill_id: str) -> Skill:
        return _require(self.get_skill(skill_id), "skill", skill_id)

    def get_goal_template(self, template_id: str) -> GoalTemplate | None:
        return self._goal_by_id.get(template_id)

    def require_goal_template(self, template_id: str) -> GoalTemplate:
        return _require(self.get_goal_template(template_id), "goal template", template_id)

    def get_metric(self, key: str) -> Metric | None:
        return self._metric_by_key.get(key)

    def require_metric(self, key: str) -> Metric:
        metric = self.get_metric(key)
        if metric is None:
            raise ContentNotFoundError("goal metric", key)
        return metric

    def get_practice_kind(self, kind_id: str) -> PracticeKind | None:
        return self._practice_kind_by_id.get(kind_id)

    def require_practice_kind(self, kind_id: str) -> PracticeKind:
        kind = self.get_practice_kind(kind_id)
        if kind is None:
            raise ContentNotFoundError("practice kind", kind_id)
        return kind

    def require_self_assessment(self) -> SelfAssessment:
        return _require(self.self_assessment, "self-assessment", "self_assessment.yaml")

    def get_course_of_lesson(self, lesson_id: str) -> Course | None:
        return self._course_of_lesson.get(lesson_id)

    def get_origin(self, item: Item) -> Origin | None:
        """Return the file and field an item was read from."""
        return self._origins.get(id(item))


def _require(item: T | None, kind: str, item_id: str) -> T:
    if item is None:
        raise ContentNotFoundError(kind, item_id)
    return item
