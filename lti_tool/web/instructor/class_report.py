"""The class table and item analysis, built from the store's summaries: pure code, no
queries, so the number of queries cannot grow with the class."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from content import Catalog
from content.errors import ContentError
from content.schema import Quiz
from content.scoring import score_question
from lti_tool.lti.roles import is_instructor_type
from lti_tool.store.classroom import (
    AnsweredAttempt,
    GradeSummary,
    Launcher,
    QuizTally,
    RunSummary,
)
from lti_tool.store.grades import GradeStatus
from lti_tool.store.roster import RosterMember

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"

SYNCED = "synced"
PENDING = "pending"
FAILED = "failed"
OVERRIDDEN = "overridden"


@dataclass(frozen=True)
class GradeState:
    state: str
    label: str
    score: str
    reason: str | None = None
    grade_id: int | None = None


@dataclass
class LearnerRow:
    sub: str
    name: str
    email: str | None
    # NRPS status (Active, Inactive, Deleted), or None for someone the roster does not list.
    membership: str | None
    launched: bool
    progress: str = NOT_STARTED
    attempts: int = 0
    best: float | None = None
    last: float | None = None
    time_spent: timedelta = field(default_factory=timedelta)
    last_activity: datetime | None = None
    roleplays: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    grades: list[GradeState] = field(default_factory=list)
    open_quizzes: list[str] = field(default_factory=list)


def _latest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return max(present) if present else None


def grade_state(grade: GradeSummary) -> GradeState:
    score = f"{grade.score_given:g}/{grade.score_maximum:g}"
    if grade.overridden_at is not None:
        lms = (
            f"{grade.lms_score:g}/{grade.lms_maximum:g}"
            if grade.lms_score is not None and grade.lms_maximum is not None
            else "?"
        )
        return GradeState(OVERRIDDEN, grade.label, score, f"LMS holds {lms}", grade.id)
    if grade.status == GradeStatus.SENT:
        return GradeState(SYNCED, grade.label, score, None, grade.id)
    if grade.status == GradeStatus.DEAD:
        return GradeState(FAILED, grade.label, score, grade.last_error, grade.id)
    # Pending: it may have failed already and be waiting for a retry; say why.
    return GradeState(PENDING, grade.label, score, grade.last_error, grade.id)


def build_class(
    catalog: Catalog,
    *,
    members: Sequence[RosterMember],
    launchers: Sequence[Launcher],
    tallies: Sequence[QuizTally],
    last_scores: Mapping[str, float],
    runs: Sequence[RunSummary],
    lesson_views: Mapping[str, datetime],
    grades: Sequence[GradeSummary],
) -> list[LearnerRow]:
    """One row per learner: the roster's learners and everyone who launched as one."""
    rows: dict[str, LearnerRow] = {}
    for member in members:
        if is_instructor_type(member.roles) and not _is_learner_role(member.roles):
            continue
        rows[member.user_id] = LearnerRow(
            sub=member.user_id,
            name=member.name or member.user_id,
            email=member.email,
            membership=member.status,
            launched=False,
        )
    for launcher in launchers:
        row = rows.get(launcher.sub)
        if row is None:
            if is_instructor_type(launcher.roles):
                continue
            row = rows[launcher.sub] = LearnerRow(
                sub=launcher.sub,
                name=launcher.name or launcher.sub,
                email=launcher.email,
                membership=None,
                launched=True,
            )
        row.launched = True
        if launcher.name and row.name == row.sub:
            row.name = launcher.name
        row.last_activity = _latest(row.last_activity, launcher.last_launch_at)

    courses_started: dict[str, set[str]] = defaultdict(set)
    courses_passed: dict[str, set[str]] = defaultdict(set)
    for tally in tallies:
        row = rows.get(tally.sub)
        if row is None:
            continue
        row.attempts += tally.attempts
        if tally.open:
            row.open_quizzes.append(tally.quiz_id)
        if tally.best is not None:
            row.best = tally.best if row.best is None else max(row.best, tally.best)
        courses_started[tally.sub].add(tally.course_id)
        if tally.passed:
            courses_passed[tally.sub].add(tally.course_id)
        row.time_spent += timedelta(seconds=tally.seconds)
        row.last_activity = _latest(row.last_activity, tally.last_at)
    for sub, score in last_scores.items():
        if sub in rows:
            rows[sub].last = score
    titles = {s.id: s.title for s in catalog.list_scenarios()}
    for run in runs:
        row = rows.get(run.sub)
        if row is None:
            continue
        courses_started[run.sub].add(run.course_id)
        if run.finished:
            points = {
                skill: value
                for skill, value in sorted(run.skill_scores.items())
                if isinstance(value, Mapping)
            }
            row.roleplays.append((titles.get(run.scenario_id, run.scenario_id), points))
            if run.finished_at is not None:
                row.time_spent += run.finished_at - run.started_at
        row.last_activity = _latest(row.last_activity, run.finished_at or run.started_at)
    for sub, at in lesson_views.items():
        row = rows.get(sub)
        if row is not None:
            row.last_activity = _latest(row.last_activity, at)
            if row.progress == NOT_STARTED:
                row.progress = IN_PROGRESS
    graded_courses = {c.id for c in catalog.list_courses() if c.quiz is not None}
    for sub, row in rows.items():
        started = courses_started.get(sub, set())
        if started or sub in lesson_views:
            quizzed = started & graded_courses
            done = bool(quizzed) and quizzed <= courses_passed.get(sub, set())
            row.progress = COMPLETED if done else IN_PROGRESS
    for grade in grades:
        row = rows.get(grade.sub)
        if row is not None:
            row.grades.append(grade_state(grade))
    return sorted(rows.values(), key=lambda r: (r.name.casefold(), r.sub))


_LEARNER_ROLES = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    "Learner",
)


def _is_learner_role(roles: Iterable[str]) -> bool:
    return any(r in _LEARNER_ROLES or "/membership/Learner#" in r for r in roles)


# --- item analysis --------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionStats:
    question_id: str
    prompt: str
    answered: int
    correct: int
    wrong_option: str | None
    wrong_count: int

    @property
    def percent_correct(self) -> int:
        return round(100 * self.correct / self.answered) if self.answered else 0


@dataclass(frozen=True)
class Analysis:
    quiz: Quiz
    attempts: int
    questions: list[QuestionStats]
    # Submitted attempts per 10-point band of the score: 0-9, 10-19, ..., 90-100.
    bands: list[int]


def analyse_quiz(catalog: Catalog, quiz: Quiz, answered: Sequence[AnsweredAttempt]) -> Analysis:
    seen: Counter[str] = Counter()
    right: Counter[str] = Counter()
    wrong: dict[str, Counter[str]] = defaultdict(Counter)
    bands = [0] * 10
    # Learners give the same few answers: score each distinct (question, answer) once.
    verdicts: dict[tuple[str, str], bool | None] = {}
    option_maps: dict[str, dict[str, Any]] = {}
    for attempt in answered:
        scaled = attempt.score_scaled if attempt.score_scaled is not None else 0.0
        bands[min(9, int(scaled * 10))] += 1
        for question_id in attempt.question_ids:
            question = catalog.get_question(question_id)
            response = attempt.responses.get(question_id)
            if question is None or response is None:
                continue
            seen[question_id] += 1
            key = (question_id, repr(response))
            if key not in verdicts:
                try:
                    verdicts[key] = score_question(question, response).correct
                except ContentError:
                    verdicts[key] = None
            verdict = verdicts[key]
            if verdict is None:
                continue
            if verdict:
                right[question_id] += 1
            options = option_maps.get(question_id)
            if options is None:
                options = option_maps[question_id] = {
                    o.id: o for o in getattr(question, "options", ())
                }
            chosen = [response] if isinstance(response, str) else response
            if isinstance(chosen, list | tuple):
                for option_id in chosen:
                    option = options.get(option_id) if isinstance(option_id, str) else None
                    if option is not None and not option.correct:
                        wrong[question_id][option.text] += 1
    stats = []
    for question_id in sorted(seen, key=lambda q: (-seen[q], q)):
        question = catalog.get_question(question_id)
        common = wrong[question_id].most_common(1)
        stats.append(
            QuestionStats(
                question_id=question_id,
                prompt=question.prompt if question is not None else question_id,
                answered=seen[question_id],
                correct=right[question_id],
                wrong_option=common[0][0] if common else None,
                wrong_count=common[0][1] if common else 0,
            )
        )
    return Analysis(quiz=quiz, attempts=len(answered), questions=stats, bands=bands)


# --- CSV ------------------------------------------------------------------------------

CSV_HEADER = (
    "Name",
    "LTI user id",
    "Email",
    "Membership",
    "Launched",
    "Progress",
    "Attempts",
    "Best score %",
    "Last score %",
    "Time spent (minutes)",
    "Role-plays",
    "Last activity (UTC)",
    "Grade sync",
)

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _percent(value: float | None) -> str:
    return "" if value is None else str(round(value * 100))


def _points(points: Mapping[str, Any]) -> str:
    return ", ".join(f"{skill} {v.get('raw')}/{v.get('max')}" for skill, v in points.items())


def class_csv(rows: Sequence[LearnerRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        roleplays = "; ".join(f"{title} ({_points(pts)})" for title, pts in row.roleplays)
        grades = "; ".join(
            f"{g.label}: {g.state}{f' ({g.reason})' if g.reason else ''}" for g in row.grades
        )
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    row.name,
                    row.sub,
                    row.email or "",
                    row.membership or "not listed",
                    "yes" if row.launched else "no",
                    row.progress,
                    row.attempts,
                    _percent(row.best),
                    _percent(row.last),
                    round(row.time_spent.total_seconds() / 60),
                    roleplays,
                    row.last_activity.strftime("%Y-%m-%d %H:%M") if row.last_activity else "",
                    grades,
                )
            ]
        )
    return out.getvalue()
