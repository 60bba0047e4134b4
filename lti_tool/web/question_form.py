"""Questions as HTML form fields and back: what the learner sees and what we score.

Field names are ``q.<question id>`` for choice questions and ``q.<question id>.<part id>``
for the parts of ordering and matching questions. Options, ordering steps and matching
answers are shown shuffled, seeded with the attempt id (a quiz) or the lesson id (a
knowledge check), so a reload, a resumed attempt and its review show the same order and
the order needs no column of its own. Options and matching answers are sent as opaque
tokens (their place on the page), so the page source never says which one is right.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from content.schema import (
    ChoiceQuestion,
    MatchingQuestion,
    MultipleResponseQuestion,
    Option,
    OrderingQuestion,
    Question,
    ScenarioJudgementQuestion,
    TrueFalseQuestion,
)
from content.scoring import Response
from lti_tool.web.learning_errors import BadFormError

PREFIX = "q."


@dataclass(frozen=True)
class Part:
    """One form control: an option to tick, a step to place, or a prompt to match."""

    value: str
    text: str
    #: The content id behind an option token; used for review, never sent to the page.
    ref: str = ""


@dataclass(frozen=True)
class QuestionView:
    question: Question
    number: int
    name: str
    kind: str
    situation: str | None = None
    options: tuple[Part, ...] = ()
    # ordering: steps (value = field name); matching: prompts (value = field name).
    parts: tuple[Part, ...] = ()
    # matching: the answers to pick from (value = token); ordering: positions 1..n.
    choices: tuple[Part, ...] = ()
    # The learner's saved answer, shaped for the template (see selected()).
    answer: dict[str, Any] = field(default_factory=dict)

    def selected(self, value: str) -> bool:
        return value in self.answer.get("picked", ())

    def part_value(self, part_field: str) -> str:
        return str(self.answer.get("parts", {}).get(part_field, ""))

    def reviewed_options(self) -> list[tuple[Any, bool]]:
        """(option, picked by the learner) in the order the learner saw them."""
        options = {o.id: o for o in getattr(self.question, "options", ())}
        return [(options[part.ref], self.selected(part.value)) for part in self.options]


def _rng(seed: str, question: Question) -> random.Random:
    # Not security-sensitive: it only shuffles display order, stably per attempt.
    return random.Random(f"{seed}:{question.id}")  # noqa: S311


def _match_tokens(question: MatchingQuestion, seed: str) -> list[tuple[str, str, str]]:
    """(token, pair id, match text) in display order; the token hides the pair id."""
    pairs = list(question.pairs)
    _rng(seed, question).shuffle(pairs)
    return [(f"m{index}", pair.id, pair.match) for index, pair in enumerate(pairs)]


def _option_tokens(question: ChoiceQuestion, seed: str) -> list[tuple[str, Option]]:
    """(token, option) in display order; the token is the option's place on the page."""
    options = list(question.options)
    # True before False reads naturally and gives nothing away: the validator keeps each
    # bank's true/false answers balanced (content.validation).
    if not isinstance(question, TrueFalseQuestion):
        _rng(seed, question).shuffle(options)
    return [(f"o{index}", option) for index, option in enumerate(options)]


def _ordered_items(question: OrderingQuestion, seed: str) -> list[Any]:
    items = list(question.items)
    rng = _rng(seed, question)
    # Never show the steps already in the right order: that would give the answer away.
    for _attempt in range(10):
        rng.shuffle(items)
        if [i.id for i in items] != [i.id for i in question.items]:
            break
    return items


def build_views(
    questions: Sequence[Question], seed: str, responses: Mapping[str, Response]
) -> list[QuestionView]:
    return [
        build_view(q, number, seed, responses.get(q.id))
        for number, q in enumerate(questions, start=1)
    ]


def build_view(
    question: Question, number: int, seed: str, response: Response | None
) -> QuestionView:
    name = PREFIX + question.id
    if isinstance(question, OrderingQuestion):
        items = _ordered_items(question, seed)
        answer: dict[str, Any] = {}
        if isinstance(response, Sequence) and not isinstance(response, str):
            answer["parts"] = {f"{name}.{iid}": pos for pos, iid in enumerate(response, start=1)}
        return QuestionView(
            question=question,
            number=number,
            name=name,
            kind="ordering",
            parts=tuple(Part(f"{name}.{item.id}", item.text) for item in items),
            choices=tuple(Part(str(n), str(n)) for n in range(1, len(items) + 1)),
            answer=answer,
        )
    if isinstance(question, MatchingQuestion):
        tokens = _match_tokens(question, seed)
        token_of = {pair_id: token for token, pair_id, _text in tokens}
        answer = {}
        if isinstance(response, Mapping):
            answer["parts"] = {f"{name}.{p}": token_of.get(m, "") for p, m in response.items()}
        return QuestionView(
            question=question,
            number=number,
            name=name,
            kind="matching",
            parts=tuple(Part(f"{name}.{pair.id}", pair.prompt) for pair in question.pairs),
            choices=tuple(Part(token, text) for token, _pid, text in tokens),
            answer=answer,
        )
    option_tokens = _option_tokens(question, seed)
    token_of_option = {option.id: token for token, option in option_tokens}
    picked: tuple[str, ...] = ()
    if isinstance(response, str):
        picked = (response,)
    elif isinstance(response, Sequence):
        picked = tuple(response)
    return QuestionView(
        question=question,
        number=number,
        name=name,
        kind="multiple" if isinstance(question, MultipleResponseQuestion) else "single",
        situation=question.situation if isinstance(question, ScenarioJudgementQuestion) else None,
        options=tuple(Part(token, option.text, option.id) for token, option in option_tokens),
        answer={"picked": tuple(token_of_option[p] for p in picked if p in token_of_option)},
    )


@dataclass
class ParsedAnswers:
    """Answers read from a form: complete ones, and learner mistakes to show beside a question."""

    responses: dict[str, Response] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def parse_answers(
    form: MultiDict[str, str], questions: Sequence[Question], seed: str
) -> ParsedAnswers:
    """Read the answers to ``questions`` from ``form``.

    Raises BadFormError (changing nothing) for what our page could not have sent: a field
    for a question not served here, an option or part the question does not have, a value
    given twice. A half-placed ordering or a reused position is a learner's slip, returned
    in ``problems`` so the page can say so next to the question.
    """
    served = {q.id: q for q in questions}
    for key in form:
        if not key.startswith(PREFIX):
            continue
        question_id = key[len(PREFIX) :].split(".", 1)[0]
        if question_id not in served:
            raise BadFormError(_("The answers named a question that was not in this quiz."))
    parsed = ParsedAnswers()
    for question in questions:
        name = PREFIX + question.id
        if isinstance(question, OrderingQuestion):
            _parse_ordering(form, question, name, parsed)
        elif isinstance(question, MatchingQuestion):
            _parse_matching(form, question, name, seed, parsed)
        else:
            _parse_choice(form, question, name, seed, parsed)
    return parsed


def _refuse_unknown_parts(form: MultiDict[str, str], name: str, known: set[str]) -> None:
    # "q.<id>." with the dot, so question "a" does not claim the fields of question "a-b".
    for key in form:
        if key.startswith(name + ".") and key not in known:
            raise BadFormError(_("The answers named a part the question does not have."))


def _one(form: MultiDict[str, str], key: str) -> str:
    values = form.getlist(key)
    if len(values) > 1:
        raise BadFormError(_("The form sent one answer more than once."))
    return values[0] if values else ""


def _parse_choice(
    form: MultiDict[str, str], question: ChoiceQuestion, name: str, seed: str, parsed: ParsedAnswers
) -> None:
    _refuse_unknown_parts(form, name, set())
    option_of_token = {token: option.id for token, option in _option_tokens(question, seed)}
    tokens = form.getlist(name)
    if any(token not in option_of_token for token in tokens):
        raise BadFormError(_("The answers named an option the question does not have."))
    values = [option_of_token[token] for token in tokens]
    if isinstance(question, MultipleResponseQuestion):
        if len(set(values)) != len(values):
            raise BadFormError(_("The form sent one answer more than once."))
        if values:
            parsed.responses[question.id] = [o.id for o in question.options if o.id in values]
        return
    if len(values) > 1:
        raise BadFormError(_("The form sent more than one answer to a single-answer question."))
    if values:
        parsed.responses[question.id] = values[0]


def _parse_ordering(
    form: MultiDict[str, str], question: OrderingQuestion, name: str, parsed: ParsedAnswers
) -> None:
    fields = {f"{name}.{item.id}": item.id for item in question.items}
    _refuse_unknown_parts(form, name, set(fields))
    if form.getlist(name):
        raise BadFormError(_("The form sent an answer in a shape this question does not take."))
    positions: dict[int, str] = {}
    blanks = 0
    for key, item_id in fields.items():
        raw = _one(form, key)
        if raw == "":
            blanks += 1
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= len(fields):
            raise BadFormError(_("A step was given a position the question does not have."))
        if int(raw) in positions:
            parsed.problems[question.id] = _("Give each step a different position.")
            return
        positions[int(raw)] = item_id
    if blanks == len(fields):
        return
    if blanks:
        parsed.problems[question.id] = _("Give every step a position, or leave them all blank.")
        return
    parsed.responses[question.id] = [positions[n] for n in sorted(positions)]


def _parse_matching(
    form: MultiDict[str, str],
    question: MatchingQuestion,
    name: str,
    seed: str,
    parsed: ParsedAnswers,
) -> None:
    fields = {f"{name}.{pair.id}": pair.id for pair in question.pairs}
    _refuse_unknown_parts(form, name, set(fields))
    if form.getlist(name):
        raise BadFormError(_("The form sent an answer in a shape this question does not take."))
    pair_of_token = {token: pair_id for token, pair_id, _text in _match_tokens(question, seed)}
    mapping: dict[str, str] = {}
    for key, pair_id in fields.items():
        raw = _one(form, key)
        if raw == "":
            continue
        if raw not in pair_of_token:
            raise BadFormError(_("The answers named a match the question does not have."))
        mapping[pair_id] = pair_of_token[raw]
    if not mapping:
        return
    if len(mapping) < len(fields):
        parsed.problems[question.id] = _("Match every item, or leave them all blank.")
        return
    parsed.responses[question.id] = mapping
