"""Errors raised by the content package; every one derives from ContentError."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from content.problem import Problem


class ContentError(Exception):
    """Raised when the curriculum cannot be read, looked up or scored as asked."""


class ContentNotFoundError(ContentError, LookupError):
    """Raised when a lookup names an id the catalog does not hold."""

    def __init__(self, kind: str, item_id: str) -> None:
        super().__init__(f"no {kind} with id {item_id!r}")
        self.kind = kind
        self.item_id = item_id


class ContentInvalidError(ContentError):
    """Raised when the shipped content fails validation; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [str(problem) for problem in self.problems[:20]]
        more = len(self.problems) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__(f"{len(self.problems)} content problem(s):\n" + "\n".join(lines))


class ResponseError(ContentError, ValueError):
    """Raised when a learner's response does not fit the question or scenario it answers."""


class MetricParamsError(ContentError, ValueError):
    """Raised when a goal's metric is unknown or its parameters do not fit the metric."""

    def __init__(self, metric: str, problems: Sequence[str]) -> None:
        self.metric = metric
        self.problems = tuple(problems)
        super().__init__(f"metric {metric!r}: " + "; ".join(self.problems))
