"""The goal, check-in and practice-log forms: reading what the learner typed, the errors that
name a field, and the SMART check that says what a goal still lacks."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from lti_tool.store.goals import GoalVisibility

# Lengths: the title fits its column; free text is a few paragraphs at most, enough for a
# reflection and short enough that nobody pastes a document into a goal.
MAX_TITLE = 200
MAX_TEXT = 1000
MAX_REFLECTION = 2000
MAX_UNIT = 120
MAX_LINK = 2000
#: A goal runs from one week to 26 weeks (half a year): long enough for a habit, short
#: enough to stay in view.
MIN_DAYS = 7
MAX_DAYS = 26 * 7
#: Targets above this are typing mistakes, not goals.
MAX_TARGET = 100_000
CHECK_IN_DAYS = (7, 14)
CONFIDENCE = range(1, 6)
#: Practice can be logged up to a year back; nobody remembers further reliably.
PRACTICE_LOOKBACK_DAYS = 366


@dataclass
class GoalDraft:
    """What the goal form holds, valid or not, so the page can show it again with errors."""

    title: str = ""
    specific: str = ""
    relevance: str = ""
    metric: str = ""
    target: str = ""
    unit: str = ""
    due: str = ""
    skill: str = ""
    visibility: str = GoalVisibility.PROGRESS.value
    check_in_days: str = "7"
    template: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    #: The measure's parameters (a template's, or those typed for the chosen metric).
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def target_value(self) -> float:
        return float(self.target)

    @property
    def due_date(self) -> date:
        return date.fromisoformat(self.due)


GOAL_FIELDS = (
    "title",
    "specific",
    "relevance",
    "metric",
    "target",
    "unit",
    "due",
    "skill",
    "visibility",
    "check_in_days",
    "template",
)


def _text(form: Mapping[str, str], name: str) -> str:
    # Line endings as browsers send them (CRLF) count once, like the learner sees them.
    return form.get(name, "").replace("\r\n", "\n").strip()


def _number(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_goal(
    form: Mapping[str, str],
    *,
    today: date,
    metrics: Collection[str],
    skills: Collection[str],
) -> GoalDraft:
    """The goal form as typed, with an error per field that is wrong (none if valid)."""
    typed = {name: _text(form, name) for name in GOAL_FIELDS}
    draft = GoalDraft(
        title=typed["title"],
        specific=typed["specific"],
        relevance=typed["relevance"],
        metric=typed["metric"],
        target=typed["target"],
        unit=typed["unit"],
        due=typed["due"],
        skill=typed["skill"],
        visibility=typed["visibility"],
        check_in_days=typed["check_in_days"],
        template=typed["template"],
    )
    errors = draft.errors
    if not draft.title:
        errors["title"] = _("Give the goal a short title.")
    elif len(draft.title) > MAX_TITLE:
        errors["title"] = _("The title is too long: at most %(n)d characters.", n=MAX_TITLE)
    for name, label in (("specific", _("What you will do")), ("relevance", _("Why it matters"))):
        if len(getattr(draft, name)) > MAX_TEXT:
            errors[name] = _(
                "%(field)s is too long: at most %(n)d characters.", field=label, n=MAX_TEXT
            )
    if draft.metric not in metrics:
        errors["metric"] = _("Choose how progress is measured.")
    target = _number(draft.target)
    if target is None:
        errors["target"] = _("The target must be a number.")
    elif target <= 0:
        errors["target"] = _("The target must be greater than zero.")
    elif target > MAX_TARGET:
        errors["target"] = _("The target must be at most %(n)d.", n=MAX_TARGET)
    if len(draft.unit) > MAX_UNIT:
        errors["unit"] = _("The unit is too long: at most %(n)d characters.", n=MAX_UNIT)
    errors.update(_due_errors(draft.due, today))
    if draft.skill and draft.skill not in skills:
        errors["skill"] = _("Choose one of the listed skills.")
    if draft.visibility not in {v.value for v in GoalVisibility}:
        errors["visibility"] = _("Choose who may see this goal.")
    if draft.check_in_days not in {str(d) for d in CHECK_IN_DAYS}:
        errors["check_in_days"] = _("Choose how often to check in.")
    return draft


def _due_errors(raw: str, today: date) -> dict[str, str]:
    if not raw:
        return {"due": _("Choose the date you want to reach the goal by.")}
    try:
        due = date.fromisoformat(raw)
    except ValueError:
        return {"due": _("The deadline must be a date (YYYY-MM-DD).")}
    if due < today:
        return {"due": _("The deadline is in the past: choose a date from next week on.")}
    if due < today + timedelta(days=MIN_DAYS):
        return {"due": _("The deadline must be at least a week away.")}
    if due > today + timedelta(days=MAX_DAYS):
        return {"due": _("The deadline must be at most 26 weeks away.")}
    return {}


def default_due(today: date, days: int) -> date:
    """A template's time frame, kept within the 1 to 26 weeks the form accepts."""
    return today + timedelta(days=min(MAX_DAYS, max(MIN_DAYS, days)))


@dataclass(frozen=True)
class SmartCheck:
    """One SMART letter: its name, whether the draft meets it, and what is missing if not."""

    letter: str
    name: str
    met: bool
    missing: str


def smart_check(draft: GoalDraft) -> list[SmartCheck]:
    """Specific, measurable, achievable, relevant, time-bound: what the draft still lacks."""
    errors = draft.errors
    words = len(draft.specific.split())
    target_ok = "target" not in errors and "metric" not in errors
    return [
        SmartCheck(
            "S",
            _("Specific"),
            bool(draft.title) and words >= 4 and "specific" not in errors,
            _("Say in a sentence what exactly you will do (at least four words)."),
        ),
        SmartCheck(
            "M",
            _("Measurable"),
            target_ok and bool(draft.target),
            _("Choose a measure and a target number above zero."),
        ),
        SmartCheck(
            "A",
            _("Achievable"),
            target_ok and bool(draft.unit),
            _("Name the unit you count (calls, articles, sessions...) so the target is concrete."),
        ),
        SmartCheck(
            "R",
            _("Relevant"),
            bool(draft.relevance) and "relevance" not in errors,
            _("Say why this goal matters to you or your customers."),
        ),
        SmartCheck(
            "T",
            _("Time-bound"),
            "due" not in errors and bool(draft.due),
            _("Choose a deadline between one and 26 weeks from today."),
        ),
    ]


@dataclass
class CheckInDraft:
    did: str = ""
    learned: str = ""
    confidence: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def read_check_in(form: Mapping[str, str]) -> CheckInDraft:
    draft = CheckInDraft(
        did=_text(form, "did"), learned=_text(form, "learned"), confidence=_text(form, "confidence")
    )
    if not draft.did:
        draft.errors["did"] = _("Say what you did towards the goal this week.")
    for name, label in (("did", _("What I did")), ("learned", _("What I learned"))):
        if len(getattr(draft, name)) > MAX_REFLECTION:
            draft.errors[name] = _(
                "%(field)s is too long: at most %(n)d characters.", field=label, n=MAX_REFLECTION
            )
    if draft.confidence not in {str(n) for n in CONFIDENCE}:
        draft.errors["confidence"] = _("Rate your confidence from 1 to 5.")
    return draft


@dataclass
class PracticeDraft:
    kind: str = ""
    happened_on: str = ""
    note: str = ""
    link: str = ""
    share_note: bool = False
    errors: dict[str, str] = field(default_factory=dict)


def read_practice(form: Mapping[str, str], *, today: date, kinds: Collection[str]) -> PracticeDraft:
    draft = PracticeDraft(
        kind=_text(form, "kind"),
        happened_on=_text(form, "happened_on"),
        note=_text(form, "note"),
        link=_text(form, "link"),
        share_note=form.get("share_note") == "yes",
    )
    errors = draft.errors
    if draft.kind not in kinds:
        errors["kind"] = _("Choose what kind of practice it was.")
    try:
        happened = date.fromisoformat(draft.happened_on)
    except ValueError:
        errors["happened_on"] = _("The date must be a date (YYYY-MM-DD).")
    else:
        if happened > today:
            errors["happened_on"] = _("The date is in the future: log practice once it happened.")
        elif happened < today - timedelta(days=PRACTICE_LOOKBACK_DAYS):
            errors["happened_on"] = _("The date is more than a year ago.")
    if not draft.note:
        errors["note"] = _("Add a short note on what happened.")
    elif len(draft.note) > MAX_TEXT:
        errors["note"] = _("The note is too long: at most %(n)d characters.", n=MAX_TEXT)
    if draft.link:
        parts = urlsplit(draft.link)
        if len(draft.link) > MAX_LINK:
            errors["link"] = _("The link is too long: at most %(n)d characters.", n=MAX_LINK)
        elif parts.scheme not in ("http", "https") or not parts.netloc:
            errors["link"] = _("The link must be a web address starting with https://.")
    return draft


def read_progress(raw: str) -> tuple[float | None, str | None]:
    """A self-reported progress number, or the error that names what is wrong with it."""
    value = _number(raw.strip())
    if value is None:
        return None, _("Progress must be a number.")
    if value < 0:
        return None, _("Progress cannot be below zero.")
    if value > MAX_TARGET:
        return None, _("Progress must be at most %(n)d.", n=MAX_TARGET)
    return value, None
