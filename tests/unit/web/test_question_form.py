"""Options shuffled per attempt, the same order on every render, opaque values both ways."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from content import load_catalog
from content.schema import TrueFalseQuestion
from lti_tool.web.learning_errors import BadFormError
from lti_tool.web.question_form import build_view, parse_answers

CATALOG = load_catalog()
CHOICES = [
    q
    for q in CATALOG.list_questions()
    if q.type in ("single_choice", "multiple_response", "scenario_judgement")
]


def _order(question_id: str, seed: str) -> list[str]:
    view = build_view(CATALOG.require_question(question_id), 1, seed, None)
    return [part.ref for part in view.options]


def test_the_same_attempt_always_sees_the_same_order() -> None:
    seed = uuid.uuid4().hex
    for question in CHOICES:
        assert _order(question.id, seed) == _order(question.id, seed)


def test_attempts_see_different_orders() -> None:
    seeds = [uuid.UUID(int=n).hex for n in range(1, 21)]
    for question in CHOICES:
        orders = {tuple(_order(question.id, seed)) for seed in seeds}
        assert len(orders) > 1, question.id
    # Across many attempts the right option lands in every position, not mostly first.
    question = CATALOG.require_question("listening-paraphrase-purpose")
    places = {
        _order(question.id, seed).index("confirm")
        for seed in (uuid.uuid4().hex for _ in range(200))
    }
    assert places == {0, 1, 2, 3}


def test_true_false_keeps_true_first() -> None:
    question = next(q for q in CATALOG.list_questions() if isinstance(q, TrueFalseQuestion))
    for n in range(10):
        assert _order(question.id, uuid.UUID(int=n).hex) == ["true", "false"]


def test_values_are_places_and_read_back_to_the_option_shown_there() -> None:
    seed = uuid.uuid4().hex
    question = CATALOG.require_question("listening-signs")
    view = build_view(question, 1, seed, None)
    assert [part.value for part in view.options] == [f"o{i}" for i in range(len(view.options))]
    picked = view.options[:2]
    form = MultiDict([(view.name, part.value) for part in picked])
    parsed = parse_answers(form, [question], seed)
    assert set(parsed.responses[question.id]) == {part.ref for part in picked}
    # And a saved answer comes back ticked at the same places.
    again = build_view(question, 1, seed, parsed.responses[question.id])
    assert [again.selected(part.value) for part in again.options][:2] == [True, True]


@pytest.mark.parametrize("value", ["confirm", "o9", "correct", ""])
def test_an_option_id_or_unknown_place_is_refused(value: str, app: Flask) -> None:
    question = CATALOG.require_question("listening-paraphrase-purpose")
    with app.test_request_context(), pytest.raises(BadFormError):
        parse_answers(MultiDict([(f"q.{question.id}", value)]), [question], "seed")
