"""Reading the curriculum's YAML and Markdown files into a Catalog."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from content.catalog import Catalog, Entry
from content.errors import ContentInvalidError
from content.problem import Origin, Problem
from content.schema import (
    QUESTION_TYPES,
    Course,
    GoalsFile,
    GoalTemplate,
    Lesson,
    Metric,
    PracticeKind,
    QuestionBank,
    Scenario,
    SeedIndex,
    SelfAssessment,
    Skill,
    SkillsFile,
)

CONTENT_ROOT = Path(__file__).resolve().parent

M = TypeVar("M", bound=BaseModel)

# Discriminator values pydantic puts into error locations; dropped so a field path
# reads like the YAML an author edits (questions[3].options, not questions[3].ordering...).
_TAGS = frozenset(QUESTION_TYPES) | {"decision", "ending"}


# libyaml's loader when PyYAML was built with it: the same safe subset, about ten times
# faster, which is most of what a web process spends before its first page.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader, C or Python


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate the curriculum under ``path`` (default: the shipped content).

    Raises :class:`~content.errors.ContentInvalidError` listing every problem, so a
    process never starts serving half-valid content.
    """
    # Imported here because validation builds on this module's read_catalog.
    from content.validation import validate_catalog

    catalog, problems = read_catalog(path)
    problems = [*problems, *validate_catalog(catalog)]
    if problems:
        raise ContentInvalidError(sorted(problems))
    return catalog


def read_catalog(path: Path | None = None) -> tuple[Catalog, list[Problem]]:
    """Parse every content file, returning what parsed and the schema problems found.

    A file that fails its schema is left out of the catalog; cross-references are
    not checked here (see :mod:`content.validation`).
    """
    root = (path or CONTENT_ROOT).resolve()
    reader = _Reader(root)
    return reader.read(), reader.problems


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.entries: list[Entry] = []

    def display(self, file: Path) -> str:
        # Relative to the content folder's parent so messages read "content/courses/...".
        try:
            return file.relative_to(self.root.parent).as_posix()
        except ValueError:
            return file.as_posix()

    def origin(self, file: Path, field: str = "") -> Origin:
        return Origin(self.display(file), field)

    def read(self) -> Catalog:
        seeds = self._read_model(self.root / "seeds.yaml", SeedIndex)
        skills_file = self._read_versioned(self.root / "skills.yaml", SkillsFile, "skills")
        skills: list[Skill] = []
        if skills_file is not None:
            skills = list(skills_file.skills)
            self._add(skills, self.root / "skills.yaml", "skills")
        goals_file = self._read_versioned(self.root / "goals.yaml", GoalsFile, "templates")
        goal_templates: list[GoalTemplate] = []
        metrics: list[Metric] = []
        practice_kinds: list[PracticeKind] = []
        if goals_file is not None:
            goal_templates = list(goals_file.templates)
            metrics = list(goals_file.metrics)
            practice_kinds = list(goals_file.practice_kinds)
            self._add(goal_templates, self.root / "goals.yaml", "templates")
        assessment_path = self.root / "self_assessment.yaml"
        assessment = self._read_model(assessment_path, SelfAssessment)
        if assessment is not None:
            self.entries.append(Entry(assessment, self.origin(assessment_path)))

        courses: list[Course] = []
        lessons: list[Lesson] = []
        banks: list[QuestionBank] = []
        scenarios: list[Scenario] = []
        courses_dir = self.root / "courses"
        if not courses_dir.is_dir():
            self.problems.append(Problem(self.origin(courses_dir), "missing courses folder"))
        else:
            for course_dir in sorted(p for p in courses_dir.iterdir() if p.is_dir()):
                self._read_course(course_dir, courses, lessons, banks, scenarios)

        return Catalog(
            root=self.root,
            seeds=seeds,
            skills=skills,
            courses=courses,
            lessons=lessons,
            banks=banks,
            scenarios=scenarios,
            goal_templates=goal_templates,
            metrics=metrics,
            practice_kinds=practice_kinds,
            self_assessment=assessment,
            entries=self.entries,
        )

    def _read_course(
        self,
        course_dir: Path,
        courses: list[Course],
        lessons: list[Lesson],
        banks: list[QuestionBank],
        scenarios: list[Scenario],
    ) -> None:
        course_path = course_dir / "course.yaml"
        raw = self._read_yaml(course_path)
        if not isinstance(raw, dict):
            return
        version = raw.get("content_version")
        _inherit(raw, version)
        for raw_module in _dicts(raw.get("modules")):
            _inherit(raw_module, version)
            _inherit(raw_module.get("quiz"), version)
        _inherit(raw.get("quiz"), version)
        course = self._validate(Course, raw, course_path)
        if course is None:
            # Without a valid course version its lessons, banks and scenarios cannot be
            # versioned either; reporting the course problem is enough.
            return
        courses.append(course)
        origin = self.origin(course_path)
        self.entries.append(Entry(course, origin))
        if course.quiz is not None:
            self.entries.append(Entry(course.quiz, origin.at("quiz")))
        for index, module in enumerate(course.modules):
            module_origin = origin.at(f"modules[{index}]")
            self.entries.append(Entry(module, module_origin))
            if module.quiz is not None:
                self.entries.append(Entry(module.quiz, module_origin.at("quiz")))

        for lesson_path in sorted((course_dir / "lessons").glob("*.md")):
            lesson = self._read_lesson(lesson_path, course.content_version)
            if lesson is not None:
                lessons.append(lesson)
                self.entries.append(Entry(lesson, self.origin(lesson_path)))

        for bank_path in sorted((course_dir / "banks").glob("*.yaml")):
            bank_raw = self._read_yaml(bank_path)
            if not isinstance(bank_raw, dict):
                continue
            _inherit(bank_raw, course.content_version)
            for question in _dicts(bank_raw.get("questions")):
                _inherit(question, course.content_version)
            bank = self._validate(QuestionBank, bank_raw, bank_path)
            if bank is not None:
                banks.append(bank)
                self.entries.append(Entry(bank, self.origin(bank_path)))
                self._add(bank.questions, bank_path, "questions")

        for scenario_path in sorted((course_dir / "scenarios").glob("*.yaml")):
            scenario_raw = self._read_yaml(scenario_path)
            if not isinstance(scenario_raw, dict):
                continue
            _inherit(scenario_raw, course.content_version)
            scenario = self._validate(Scenario, scenario_raw, scenario_path)
            if scenario is not None:
                scenarios.append(scenario)
                self.entries.append(Entry(scenario, self.origin(scenario_path)))

    def _read_lesson(self, path: Path, version: str) -> Lesson | None:
        text = path.read_text(encoding="utf-8")
        # Front matter is the Jekyll/Hugo convention: a YAML block fenced by "---" lines.
        if not text.startswith("---\n"):
            self.problems.append(Problem(self.origin(path), "missing YAML front matter"))
            return None
        end = text.find("\n---\n", 4)
        if end == -1:
            self.problems.append(Problem(self.origin(path), "front matter is not closed by ---"))
            return None
        try:
            front = _parse_yaml(text[4:end])
        except yaml.YAMLError as err:
            self.problems.append(Problem(self.origin(path), f"invalid YAML front matter: {err}"))
            return None
        if not isinstance(front, dict):
            self.problems.append(Problem(self.origin(path), "front matter must be a mapping"))
            return None
        front["body"] = text[end + len("\n---\n") :]
        _inherit(front, version)
        return self._validate(Lesson, front, path)

    def _read_yaml(self, path: Path) -> Any:
        if not path.is_file():
            self.problems.append(Problem(self.origin(path), "file is missing"))
            return None
        try:
            data = _parse_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            self.problems.append(Problem(self.origin(path), f"invalid YAML: {err}"))
            return None
        if not isinstance(data, dict):
            self.problems.append(Problem(self.origin(path), "top level must be a mapping"))
            return None
        return data

    def _read_model(self, path: Path, model: type[M]) -> M | None:
        raw = self._read_yaml(path)
        return None if raw is None else self._validate(model, raw, path)

    def _read_versioned(self, path: Path, model: type[M], key: str) -> M | None:
        raw = self._read_yaml(path)
        if raw is None:
            return None
        for item in _dicts(raw.get(key)):
            _inherit(item, raw.get("content_version"))
        return self._validate(model, raw, path)

    def _validate(self, model: type[M], raw: dict[str, Any], path: Path) -> M | None:
        try:
            return model.model_validate(raw)
        except ValidationError as err:
            for error in err.errors():
                field = _field_path(error["loc"])
                self.problems.append(Problem(self.origin(path, field), error["msg"]))
            return None

    def _add(self, items: Iterable[Any], path: Path, key: str) -> None:
        for index, item in enumerate(items):
            self.entries.append(Entry(item, self.origin(path, f"{key}[{index}]")))


def _inherit(raw: Any, version: Any) -> None:
    """Give an item the version of the file that ships it unless it names its own."""
    if isinstance(raw, dict) and version is not None:
        raw.setdefault("content_version", version)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif not (isinstance(previous, int) and part in _TAGS):
            parts.append(f".{part}" if parts else part)
        previous = part
    return "".join(parts)
