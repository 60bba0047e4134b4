"""An instructor's options for one placed graded activity, checked, and their encoding as
LTI custom parameters (flat string to string, LTI 1.3 section 5.4.6).

The LMS stores the custom parameters with the link it creates and sends them back on
every launch of that link, so the options travel with the placement and need no table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from content.activities import COURSE, QUIZ, SCENARIO, Activity

#: The custom parameter naming the placed activity.
ACTIVITY_PARAM = "cxa_activity"
GRADED_PARAM = "cxa_graded"
PASS_MARK_PARAM = "cxa_pass_mark"  # noqa: S105 - a parameter name, not a password
ATTEMPTS_PARAM = "cxa_attempts"
DRAW_PARAM = "cxa_draw"
COUNTS_PARAM = "cxa_score_counts"

BEST = "best"
LAST = "last"
COUNTS = (BEST, LAST)
#: A generous cap: more attempts than this is "unlimited" in all but name.
MAX_ATTEMPTS = 20
DEFAULT_ROLE_PLAY_PASS_MARK = 0.5
DEFAULT_ROLE_PLAY_ATTEMPTS = 3

#: Which options apply to which kind; a course's options govern its final quiz.
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    QUIZ: ("graded", "pass_mark", "attempts", "draw", "counts"),
    COURSE: ("graded", "pass_mark", "attempts", "draw", "counts"),
    SCENARIO: ("graded", "pass_mark", "attempts", "counts"),
}


@dataclass(frozen=True)
class PlacementOptions:
    """How a placed graded activity is run and scored."""

    graded: bool
    #: Scaled score (0..1) needed to pass.
    pass_mark: float
    attempts: int
    #: Questions drawn per attempt; None where the activity draws no questions.
    draw: int | None
    #: Which attempt's score counts: "best" or "last".
    counts: str

    def describe(self) -> str:
        """The options in one sentence, for the link's description in the LMS."""
        if not self.graded:
            return "Not graded."
        parts = [f"pass mark {round(self.pass_mark * 100)}%"]
        parts.append("1 attempt" if self.attempts == 1 else f"{self.attempts} attempts")
        if self.draw is not None:
            parts.append(f"{self.draw} questions")
        parts.append(f"the {self.counts} attempt counts")
        return "Graded: " + ", ".join(parts) + "."

    def to_custom(self) -> dict[str, str]:
        custom = {
            GRADED_PARAM: "true" if self.graded else "false",
            PASS_MARK_PARAM: str(round(self.pass_mark * 100)),
            ATTEMPTS_PARAM: str(self.attempts),
            COUNTS_PARAM: self.counts,
        }
        if self.draw is not None:
            custom[DRAW_PARAM] = str(self.draw)
        return custom


class OptionErrors(Exception):
    """Raised when submitted options are invalid; ``errors`` maps each field to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def default_options(activity: Activity) -> PlacementOptions:
    """The content's own settings: what a learner gets when the instructor changes nothing."""
    is_quiz = activity.kind in (QUIZ, COURSE) and activity.draw is not None
    return PlacementOptions(
        graded=True,
        pass_mark=(
            activity.pass_mark if activity.pass_mark is not None else DEFAULT_ROLE_PLAY_PASS_MARK
        ),
        attempts=activity.attempts if activity.attempts is not None else DEFAULT_ROLE_PLAY_ATTEMPTS,
        draw=activity.draw if is_quiz else None,
        counts=BEST,
    )


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 4 else None


def parse_options(activity: Activity, values: Mapping[str, str]) -> PlacementOptions:
    """Options from a form (``graded``, ``pass_mark`` in percent, ``attempts``, ``draw``,
    ``counts``); a missing field keeps the default. OptionErrors names every bad field."""
    defaults = default_options(activity)
    fields = FIELDS_BY_KIND.get(activity.kind, ())
    errors: dict[str, str] = {}
    graded = defaults.graded
    if "graded" in fields and "graded" in values:
        raw = values["graded"]
        if raw not in ("yes", "no", "true", "false"):
            errors["graded"] = "Choose whether the activity is graded."
        graded = raw in ("yes", "true")
    pass_mark = defaults.pass_mark
    if "pass_mark" in fields and values.get("pass_mark", "") != "":
        number = _int(values["pass_mark"])
        if number is None or not 0 <= number <= 100:
            message = "The pass mark must be a whole percentage from 0 to 100."
            errors["pass_mark"] = message
        else:
            pass_mark = number / 100
    attempts = defaults.attempts
    if "attempts" in fields and values.get("attempts", "") != "":
        number = _int(values["attempts"])
        if number is None or not 1 <= number <= MAX_ATTEMPTS:
            errors["attempts"] = (
                f"Attempts allowed must be a whole number from 1 to {MAX_ATTEMPTS}."
            )
        else:
            attempts = number
    draw = defaults.draw
    if "draw" in fields and draw is not None and values.get("draw", "") != "":
        pool = activity.pool_size or draw
        number = _int(values["draw"])
        if number is None or not 1 <= number <= pool:
            errors["draw"] = f"Questions drawn must be a whole number from 1 to {pool}."
        else:
            draw = number
    counts = defaults.counts
    if "counts" in fields and "counts" in values:
        if values["counts"] not in COUNTS:
            errors["counts"] = "Choose whether the best or the last attempt counts."
        else:
            counts = values["counts"]
    if errors:
        raise OptionErrors(errors)
    return PlacementOptions(graded, pass_mark, attempts, draw, counts)


def options_from_custom(activity: Activity, custom: Mapping[str, object]) -> PlacementOptions:
    """Options carried by a launch's custom parameters; a value that does not parse falls
    back to the default, because a learner must never be stopped by a placement's typo."""
    values = {
        name: value
        for name, value in (
            ("graded", custom.get(GRADED_PARAM)),
            ("pass_mark", custom.get(PASS_MARK_PARAM)),
            ("attempts", custom.get(ATTEMPTS_PARAM)),
            ("draw", custom.get(DRAW_PARAM)),
            ("counts", custom.get(COUNTS_PARAM)),
        )
        if isinstance(value, str)
    }
    try:
        return parse_options(activity, values)
    except OptionErrors as err:
        good = {k: v for k, v in values.items() if k not in err.errors}
        return parse_options(activity, good)
