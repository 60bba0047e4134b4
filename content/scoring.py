"""Pure scoring: question responses, quiz attempts, scenario paths and the self-assessment.

Scores follow the xAPI result model (xAPI 1.0.3, 4.1.5.1.2): ``raw`` between ``min``
and ``max``, and ``scaled`` = raw / max with min fixed at 0, so the scaled score can be
sent to the LRS and, unchanged, to the LMS gradebook (LTI AGS scoreGiven/scoreMaximum).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations

from content.errors import ResponseError
from content.schema import (
    ALL_OR_NOTHING,
    CREDIT_POLICIES,
    PARTIAL,
    Credit,
    DecisionNode,
    EndingNode,
    MatchingQuestion,
    MultipleResponseQuestion,
    OrderingQuestion,
    Question,
    Quiz,
    Scenario,
    SelfAssessment,
)

# What each question type accepts as a response:
#   single_choice, true_false, scenario_judgement: one option id (str)
#   multiple_response: a collection of option ids
#   ordering: item ids in the learner's order
#   matching: {pair id of a prompt: pair id of the match the learner chose}
Response = str | Sequence[str] | Mapping[str, str]


@dataclass(frozen=True)
class QuestionScore:
    """One question's result: ``raw`` credit out of ``max`` (always 1) and the feedback to show."""

    question_id: str
    raw: float
    max: float
    correct: bool
    feedback: tuple[str, ...]


@dataclass(frozen=True)
class QuizScore:
    raw: float
    min: float
    max: float
    scaled: float
    passed: bool
    questions: tuple[QuestionScore, ...]


@dataclass(frozen=True)
class SkillScore:
    raw: int
    max: int
    scaled: float


@dataclass(frozen=True)
class ScenarioResult:
    """Where a path through a scenario ended and how it scored per skill."""

    ending: EndingNode | None
    skills: Mapping[str, SkillScore]
    feedback: tuple[str, ...]

    @property
    def completed(self) -> bool:
        return self.ending is not None


@dataclass(frozen=True)
class Recommendation:
    skill: str
    average: float
    modules: tuple[str, ...]
    advice: str


@dataclass(frozen=True)
class SelfAssessmentResult:
    averages: Mapping[str, float]
    recommendations: tuple[Recommendation, ...] = field(default=())

    @property
    def modules(self) -> tuple[str, ...]:
        """Recommended modules, weakest skill first, each module once."""
        seen: dict[str, None] = {}
        for recommendation in self.recommendations:
            for module_id in recommendation.modules:
                seen.setdefault(module_id, None)
        return tuple(seen)


# --- questions --------------------------------------------------------------------------


def score_question(
    question: Question, response: Response, *, credit: Credit = ALL_OR_NOTHING
) -> QuestionScore:
    """Score one response. Every question is worth 1 point.

    Single choice, true/false and scenario judgement earn 1 for the correct option, else 0,
    under either policy. The other types depend on ``credit`` (docs/decisions/0019):

    * ``all_or_nothing`` (the default): 1 only for the exact answer, else 0.
    * ``partial``:

      - multiple response: (correct options picked - wrong options picked) / correct
        options, floored at 0. Ticking every box earns nothing, and one wrong tick cancels
        one right one.
      - ordering: the share of item pairs in the right relative order (Kendall's tau
        rescaled to 0..1); swapping two neighbours in a list of four keeps 5 of 6 pairs.
      - matching: the share of prompts matched to their own answer.

    ``correct`` always means the exact answer, whatever the policy.

    Raises :class:`~content.errors.ResponseError` when the response has the wrong shape
    or names options, items or pairs the question does not have.
    """
    if credit not in CREDIT_POLICIES:
        raise ValueError(f"unknown credit policy {credit!r}")
    if isinstance(question, OrderingQuestion):
        return _settle(_score_ordering(question, response), credit)
    if isinstance(question, MatchingQuestion):
        return _settle(_score_matching(question, response), credit)
    if isinstance(question, MultipleResponseQuestion):
        return _settle(_score_multiple(question, response), credit)
    if not isinstance(response, str):
        raise ResponseError(f"{question.id}: expected one option id")
    option = next((o for o in question.options if o.id == response), None)
    if option is None:
        raise ResponseError(f"{question.id}: no option {response!r}")
    raw = 1.0 if option.correct else 0.0
    return QuestionScore(question.id, raw, 1.0, option.correct, (option.feedback,))


def _settle(score: QuestionScore, credit: Credit) -> QuestionScore:
    """Apply the credit policy to a score computed with partial credit."""
    if credit == PARTIAL:
        return score
    return replace(score, raw=1.0 if score.correct else 0.0)


def _score_multiple(question: MultipleResponseQuestion, response: Response) -> QuestionScore:
    if isinstance(response, str | Mapping):
        raise ResponseError(f"{question.id}: expected a collection of option ids")
    picked = set(response)
    options = {option.id: option for option in question.options}
    unknown = picked - set(options)
    if unknown:
        raise ResponseError(f"{question.id}: no option(s) {sorted(unknown)}")
    right = {o.id for o in question.options if o.correct}
    hits = len(picked & right)
    false_alarms = len(picked - right)
    raw = max(0.0, (hits - false_alarms) / len(right))
    # Feedback for every option, not only the ticked ones: a missed correct option teaches
    # as much as a wrong tick.
    feedback = tuple(option.feedback for option in question.options)
    return QuestionScore(question.id, raw, 1.0, picked == right, feedback)


def _score_ordering(question: OrderingQuestion, response: Response) -> QuestionScore:
    if isinstance(response, str | Mapping):
        raise ResponseError(f"{question.id}: expected item ids in order")
    expected = [item.id for item in question.items]
    given = list(response)
    if sorted(given) != sorted(expected):
        raise ResponseError(f"{question.id}: response must list each item exactly once")
    position = {item_id: index for index, item_id in enumerate(given)}
    pairs = list(combinations(expected, 2))
    in_order = sum(position[a] < position[b] for a, b in pairs)
    raw = in_order / len(pairs)
    feedback = tuple(item.feedback for item in question.items)
    return QuestionScore(question.id, raw, 1.0, given == expected, feedback)


def _score_matching(question: MatchingQuestion, response: Response) -> QuestionScore:
    if not isinstance(response, Mapping):
        raise ResponseError(f"{question.id}: expected a mapping of prompt to match")
    ids = {pair.id for pair in question.pairs}
    unknown = (set(response) | set(response.values())) - ids
    if unknown:
        raise ResponseError(f"{question.id}: no pair(s) {sorted(unknown)}")
    matched = sum(response.get(pair.id) == pair.id for pair in question.pairs)
    raw = matched / len(question.pairs)
    feedback = tuple(pair.feedback for pair in question.pairs)
    return QuestionScore(question.id, raw, 1.0, matched == len(question.pairs), feedback)


# --- quizzes ----------------------------------------------------------------------------


def draw_quiz_questions(quiz: Quiz, pool: Sequence[Question], seed: int | str) -> list[Question]:
    """Pick ``quiz.draw`` questions from ``pool``, the same ones for the same ``seed``.

    Seeding with the attempt id lets a learner reload the page and see the same quiz,
    while a new attempt gets a new draw.
    """
    if quiz.draw > len(pool):
        raise ResponseError(f"{quiz.id}: cannot draw {quiz.draw} from {len(pool)} questions")
    # Not security-sensitive: the draw only has to vary between attempts.
    return random.Random(str(seed)).sample(list(pool), quiz.draw)  # noqa: S311


def score_quiz(
    quiz: Quiz, questions: Sequence[Question], responses: Mapping[str, Response]
) -> QuizScore:
    """Score an attempt at the drawn ``questions`` under the quiz's credit policy; an
    unanswered question earns 0."""
    scores: list[QuestionScore] = []
    for question in questions:
        response = responses.get(question.id)
        if response is None:
            scores.append(QuestionScore(question.id, 0.0, 1.0, False, ()))
        else:
            scores.append(score_question(question, response, credit=quiz.credit))
    maximum = float(len(questions))
    raw = sum(score.raw for score in scores)
    scaled = raw / maximum if maximum else 0.0
    # Rounded so 7 of 10 against a pass mark of 0.7 passes despite float sums.
    scaled = round(scaled, 6)
    return QuizScore(raw, 0.0, maximum, scaled, scaled >= quiz.pass_mark, tuple(scores))


def attempts_remaining(quiz: Quiz, attempts_used: int) -> int:
    return max(0, quiz.attempts - attempts_used)


# --- scenarios --------------------------------------------------------------------------


def score_scenario_path(scenario: Scenario, choice_ids: Sequence[str]) -> ScenarioResult:
    """Follow ``choice_ids`` from the start node and total the scores per skill.

    For each skill, ``max`` adds up the best score any choice offered at each decision
    the learner actually faced, so ``scaled`` reads "how close were your choices to the
    best available at every point you reached". Measuring against the learner's own path
    keeps a long recovery path from out-scoring the ideal short one. A path that stops
    before an ending is scored as far as it went, with ``ending`` None.
    """
    totals = dict.fromkeys(scenario.skills, 0)
    best = dict.fromkeys(scenario.skills, 0)
    feedback: list[str] = []
    node = _require_node(scenario, scenario.start)
    for choice_id in choice_ids:
        if not isinstance(node, DecisionNode):
            raise ResponseError(f"{scenario.id}: the conversation already ended at {node.id!r}")
        choice = next((c for c in node.choices if c.id == choice_id), None)
        if choice is None:
            raise ResponseError(f"{scenario.id}: node {node.id!r} has no choice {choice_id!r}")
        for skill in scenario.skills:
            totals[skill] += choice.scores.get(skill, 0)
            best[skill] += max(c.scores.get(skill, 0) for c in node.choices)
        feedback.append(choice.feedback)
        node = _require_node(scenario, choice.next)
    skills = {
        skill: SkillScore(raw, best[skill], round(raw / best[skill], 6) if best[skill] else 1.0)
        for skill, raw in totals.items()
    }
    ending = node if isinstance(node, EndingNode) else None
    return ScenarioResult(ending, skills, tuple(feedback))


def _require_node(scenario: Scenario, node_id: str) -> DecisionNode | EndingNode:
    node = scenario.node(node_id)
    if node is None:
        raise ResponseError(f"{scenario.id}: no node {node_id!r}")
    return node


# --- self-assessment ----------------------------------------------------------------------


def assess_skills(assessment: SelfAssessment, ratings: Mapping[str, int]) -> SelfAssessmentResult:
    """Average the learner's ratings per skill and apply the recommendation rules.

    ``ratings`` maps statement id to a rating on the assessment's scale; statements left
    unrated do not count towards the average, and a skill with no rated statement gets no
    recommendation (we do not guess a gap the learner did not report). Recommendations
    come weakest skill first.
    """
    scale = assessment.scale
    statements = {statement.id: statement for statement in assessment.statements}
    by_skill: dict[str, list[int]] = {}
    for statement_id, rating in ratings.items():
        statement = statements.get(statement_id)
        if statement is None:
            raise ResponseError(f"{assessment.id}: no statement {statement_id!r}")
        if isinstance(rating, bool) or not scale.min <= rating <= scale.max:
            raise ResponseError(f"{statement_id}: rating must be {scale.min} to {scale.max}")
        by_skill.setdefault(statement.skill, []).append(rating)
    averages = {skill: sum(values) / len(values) for skill, values in by_skill.items()}
    recommendations = [
        Recommendation(rule.skill, averages[rule.skill], tuple(rule.modules), rule.advice)
        for rule in assessment.rules
        if rule.skill in averages and averages[rule.skill] <= rule.threshold
    ]
    recommendations.sort(key=lambda r: r.average)
    return SelfAssessmentResult(averages, tuple(recommendations))
