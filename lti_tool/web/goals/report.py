"""The L&D overview's figures, counted and averaged by the database over one platform's goals
their learners let staff see: outcomes per skill and per course, time to achieve, practice by
kind, self-assessment movement; plus its CSV and the bar charts' geometry."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lti_tool.store import goals as store
from lti_tool.store.goals import GoalStatus
from lti_tool.web.instructor.class_report import safe_cell

#: Label of goals set outside any LMS course, or without a skill.
NONE = "-"


@dataclass
class Outcomes:
    """Goal counts for one skill or course, and the median days the achieved ones took."""

    label: str
    active: int = 0
    paused: int = 0
    achieved: int = 0
    missed: int = 0
    abandoned: int = 0
    median_days: float | None = None

    @property
    def set(self) -> int:
        return self.active + self.paused + self.achieved + self.missed + self.abandoned

    def add(self, status: GoalStatus, goals: int) -> None:
        # One counter per status, named as the status is.
        setattr(self, status.value, getattr(self, status.value) + goals)


def _days(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 1)


def _median_days(middle: Sequence[tuple[datetime, datetime]] | None) -> float | None:
    # The store hands over the one or two middle goals by time to achieve; rounding each to
    # a tenth of a day first keeps the figure what a median of every goal's days gives.
    return statistics.median(_days(*span) for span in middle) if middle else None


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
    session: Session,
    platform_id: int,
    *,
    skill_names: Mapping[str, str],
    course_titles: Mapping[str, str],
    practice_names: Mapping[str, str],
) -> Insights:
    """The overview of one platform. Every query groups in the database, so its cost in
    memory is one row per skill, course, status and practice kind, never one per goal."""
    by_skill: dict[str, Outcomes] = {}
    by_course: dict[str, Outcomes] = {}
    total = Outcomes("all")
    for row in store.count_shared_outcomes(session, platform_id):
        skill = row.skill or NONE
        course = row.context_id or NONE
        by_skill.setdefault(skill, Outcomes(skill_names.get(skill, skill))).add(
            row.status, row.goals
        )
        by_course.setdefault(course, Outcomes(course_titles.get(course, course))).add(
            row.status, row.goals
        )
        total.add(row.status, row.goals)
    for key, middle in store.list_middle_achievements(session, platform_id, "skill").items():
        by_skill[key or NONE].median_days = _median_days(middle)
    for key, middle in store.list_middle_achievements(session, platform_id, "course").items():
        by_course[key or NONE].median_days = _median_days(middle)
    total.median_days = _median_days(
        store.list_middle_achievements(session, platform_id, "all").get(None)
    )
    practice = sorted(
        (
            (practice_names.get(kind, kind), n)
            for kind, n in store.count_practice_by_kind(session, platform_id).items()
        ),
        key=lambda item: (-item[1], item[0]),
    )
    movement = [
        Movement(
            skill_names.get(m.skill, m.skill), m.learners, round(m.first, 2), round(m.latest, 2)
        )
        for m in store.list_rating_movement(session, platform_id)
    ]
    return Insights(
        by_skill=sorted(by_skill.values(), key=lambda o: (-o.set, o.label)),
        by_course=sorted(by_course.values(), key=lambda o: (-o.set, o.label)),
        practice=practice,
        movement=sorted(movement, key=lambda m: m.skill),
        total=total,
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
