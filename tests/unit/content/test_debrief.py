"""The role-play review: each reply beside the best one offered at that decision."""

from __future__ import annotations

import pytest

from content import ResponseError, load_catalog
from content.debrief import choice_points, review_path
from content.schema import DecisionNode

SCENARIO = load_catalog().require_scenario("double-charge")


def walk(pick: str) -> list[str]:
    chooser = min if pick == "worst" else max
    path, node = [], SCENARIO.node(SCENARIO.start)
    while isinstance(node, DecisionNode):
        choice = chooser(node.choices, key=choice_points)
        path.append(choice.id)
        node = SCENARIO.node(choice.next)
    return path


def test_the_best_path_has_nothing_to_improve() -> None:
    reviews = review_path(SCENARIO, walk("best"))
    assert reviews and not any(r.improvable for r in reviews)
    assert all(r.chosen == r.best for r in reviews)


def test_the_worst_path_shows_the_best_reply_at_every_decision_it_faced() -> None:
    reviews = review_path(SCENARIO, walk("worst"))
    assert all(r.improvable for r in reviews)
    for review in reviews:
        assert review.best in review.node.choices
        assert choice_points(review.best) == max(choice_points(c) for c in review.node.choices)
        assert choice_points(review.chosen) < choice_points(review.best)


def test_a_path_that_leaves_the_scenario_is_refused() -> None:
    with pytest.raises(ResponseError):
        review_path(SCENARIO, ["no-such-reply"])
    with pytest.raises(ResponseError):
        review_path(SCENARIO, [*walk("best"), "one-more"])
