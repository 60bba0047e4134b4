"""A role-play's turn-by-turn review: the learner's reply beside the best one on offer.

Pure: takes a scenario and the choice ids of a path, returns what the debrief page shows.
A reply is "best" when its total points across the scenario's skills are the highest any
reply offered at that decision earned; ties count as best, so a learner is never told a
different reply was better when it scored the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from content.errors import ResponseError
from content.schema import Choice, DecisionNode, Scenario


@dataclass(frozen=True)
class TurnReview:
    """One decision on the learner's path and how their reply compared with the best."""

    node: DecisionNode
    chosen: Choice
    #: The highest-scoring reply offered at this decision (the first in content order on a tie).
    best: Choice

    @property
    def improvable(self) -> bool:
        """Whether a reply on offer would have earned more points than the one chosen."""
        return choice_points(self.best) > choice_points(self.chosen)


def choice_points(choice: Choice) -> int:
    """A reply's points summed over every skill it is scored on."""
    return sum(choice.scores.values())


def review_path(scenario: Scenario, choice_ids: Sequence[str]) -> tuple[TurnReview, ...]:
    """Each decision the learner faced, in order, with their reply and the best one.

    Raises ResponseError when the path leaves the scenario (an unknown choice or a step
    past an ending), as :func:`content.scoring.score_scenario_path` does.
    """
    reviews: list[TurnReview] = []
    node = scenario.node(scenario.start)
    for choice_id in choice_ids:
        if not isinstance(node, DecisionNode):
            raise ResponseError(f"{scenario.id}: the conversation ended before {choice_id!r}")
        chosen = next((c for c in node.choices if c.id == choice_id), None)
        if chosen is None:
            raise ResponseError(f"{scenario.id}: node {node.id!r} has no choice {choice_id!r}")
        # max() keeps the first of equals, so content order breaks ties predictably.
        best = max(node.choices, key=choice_points)
        reviews.append(TurnReview(node=node, chosen=chosen, best=best))
        node = scenario.node(chosen.next)
    return tuple(reviews)
