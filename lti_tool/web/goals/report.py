"""The L&D overview's figures, from rows the store already filtered to one platform and to
goals their learners let staff see: outcomes per skill and per course, time to achieve,
practice by kind, self-assessment movement; plus its CSV and the bar charts' geometry."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lti_tool.store.goals import GoalOutcome, GoalStatus
from lti_tool.web.instructor.class_report import safe_cell

#: Label of goals set outside any LMS course, or without a skill.
NONE = "-"


@dataclass
class Outcomes:
    """Goal counts for one skill or course, and how long the achieved ones took."""

    label: str
    active: int = 0
    paused: int = 0
    achieved: int = 0
    missed: int = 0
    abandoned: int = 0
    days_to_achieve: list[float] = field(default_factory=list)

    @property
    def set(self) -> int:
        return self.active + self.paused + self.achieved + self.missed + self.abandoned

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days_to_achieve) if self.days_to_achieve else None

    def add(self, goal: GoalOutcome) -> None:
        status = goal.status
        if status is GoalStatus.ACHIEVED:
            self.achieved += 1
            if goal.ended_at is not None:
                self.days_to_achieve.append(_days(goal.starts_at, goal.ended_at))
        elif status is GoalStatus.MISSED:
            self.missed += 1
        elif status is GoalStatus.ABANDONED:
            self.abandoned += 1
        elif status is GoalStatus.PAUSED:
            self.paused += 1
        else:
            self.active += 1


def _days(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 1)


@dataclass(frozen=True)
class Movement:
    """How one skill's self-rating moved from learners' first self-assessment to their latest."""

    skill: str
    learners: int
    first: float
    latest: float

    @property
    def change(self) -> float:
        return round(self.latest - self.first, 2)


@dataclass(frozen=True)
class Insights:
    by_skill: list[Outcomes]
    by_course: list[Outcomes]
    practice: list[tuple[str, int]]
    movement: list[Movement]
    total: Outcomes


def summarise(
    goals: Iterable[GoalOutcome],
    *,
    skill_names: Mapping[str, str],
    course_titles: Mapping[str, str],
    practice_counts: Mapping[str, int],
    practice_names: Mapping[str, str],
    assessments: Sequence[tuple[str, datetime, Mapping[str, float]]],
) -> Insights:
    by_skill: dict[str, Outcomes] = {}
    by_course: dict[str, Outcomes] = {}
    total = Outcomes("all")
    for goal in goals:
        skill = goal.skill or NONE
        course = goal.context_id or NONE
        by_skill.setdefault(skill, Outcomes(skill_names.get(skill, skill))).add(goal)
        by_course.setdefault(course, Outcomes(course_titles.get(course, course))).add(goal)
        total.add(goal)
    practice = sorted(
        ((practice_names.get(kind, kind), n) for kind, n in practice_counts.items()),
        key=lambda item: (-item[1], item[0]),
    )
    return Insights(
        by_skill=sorted(by_skill.values(), key=lambda o: (-o.set, o.label)),
        by_course=sorted(by_course.values(), key=lambda o: (-o.set, o.label)),
        practice=practice,
        movement=_movement(assessments, skill_names),
        total=total,
    )


def _movement(
    assessments: Sequence[tuple[str, datetime, Mapping[str, float]]],
    skill_names: Mapping[str, str],
) -> list[Movement]:
    # Per learner and skill: the first rating and the latest (rows come oldest first). Only
    # learners who rated the skill twice or more show movement.
    first: dict[tuple[str, str], float] = {}
    latest: dict[tuple[str, str], float] = {}
    counts: dict[tuple[str, str], int] = {}
    for sub, _at, averages in assessments:
        for skill, value in averages.items():
            key = (sub, skill)
            first.setdefault(key, value)
            latest[key] = value
            counts[key] = counts.get(key, 0) + 1
    by_skill: dict[str, list[tuple[float, float]]] = {}
    for key, n in counts.items():
        if n >= 2:
            by_skill.setdefault(key[1], []).append((first[key], latest[key]))
    return sorted(
        (
            Movement(
                skill_names.get(skill, skill),
                len(pairs),
                round(statistics.fmean(p[0] for p in pairs), 2),
                round(statistics.fmean(p[1] for p in pairs), 2),
            )
            for skill, pairs in by_skill.items()
        ),
        key=lambda m: m.skill,
    )


CSV_HEADER = (
    "group",
    "name",
    "goals set",
    "active",
    "paused",
    "achieved",
    "missed",
    "abandoned",
    "median days to achieve",
)


def insights_csv(insights: Insights) -> str:
    """Counts only: no goal's title or text, no learner (privacy, decision 0016)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for group, rows in (("skill", insights.by_skill), ("course", insights.by_course)):
        for row in rows:
            median = row.median_days
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        group,
                        row.label,
                        row.set,
                        row.active,
                        row.paused,
                        row.achieved,
                        row.missed,
                        row.abandoned,
                        "" if median is None else f"{median:g}",
                    )
                ]
            )
    writer.writerow([])
    writer.writerow(["practice kind", "entries"])
    for name, count in insights.practice:
        writer.writerow([safe_cell(name), count])
    writer.writerow([])
    writer.writerow(
        ["self-assessed skill", "learners assessed twice", "first average", "latest average"]
    )
    for move in insights.movement:
        writer.writerow([safe_cell(move.skill), move.learners, move.first, move.latest])
    return out.getvalue()


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars as inline SVG coordinates: no script, no CDN, readable without CSS."""

    bars: list[Bar]
    height: int
    label_width: int = 200
    plot_width: int = 360
    row: int = 28


def bar_chart(values: Sequence[tuple[str, int]]) -> BarChart:
    top = max((v for _label, v in values), default=0)
    chart = BarChart([], 0)
    bars = [
        Bar(label, value, i * chart.row, chart.plot_width * value / top if top else 0.0)
        for i, (label, value) in enumerate(values)
    ]
    return BarChart(bars, max(chart.row, len(bars) * chart.row))
