"""Scoring per question type, quizzes, scenario paths and the self-assessment."""

from __future__ import annotations

from typing import Any

import pytest

from content.errors import ResponseError
from content.loader import load_catalog
from content.schema import (
    MatchingQuestion,
    MultipleResponseQuestion,
    OrderingQuestion,
    Question,
    Quiz,
    ScenarioJudgementQuestion,
    SingleChoiceQuestion,
    TrueFalseQuestion,
)
from content.scoring import (
    assess_skills,
    attempts_remaining,
    draw_quiz_questions,
    score_question,
    score_quiz,
    score_scenario_path,
)

BASE: dict[str, Any] = {"content_version": "1.0.0", "skill": "listening", "prompt": "Q?"}


def option(option_id: str, correct: bool = False) -> dict[str, Any]:
    return {"id": option_id, "text": option_id, "correct": correct, "feedback": f"fb {option_id}"}


def single() -> SingleChoiceQuestion:
    return SingleChoiceQuestion(
        id="single",
        type="single_choice",
        options=[option("a", True), option("b"), option("c")],  # type: ignore[list-item]
        **BASE,
    )


def multiple() -> MultipleResponseQuestion:
    return MultipleResponseQuestion(
        id="multi",
        type="multiple_response",
        options=[option("a", True), option("b", True), option("c"), option("d")],  # type: ignore[list-item]
        **BASE,
    )


def ordering() -> OrderingQuestion:
    items = [{"id": i, "text": i, "feedback": f"fb {i}"} for i in ("one", "two", "three", "four")]
    return OrderingQuestion(id="order", type="ordering", items=items, **BASE)  # type: ignore[arg-type]


def matching() -> MatchingQuestion:
    pairs = [
        {"id": p, "prompt": f"prompt {p}", "match": f"match {p}", "feedback": f"fb {p}"}
        for p in ("x", "y", "z", "w")
    ]
    return MatchingQuestion(id="match", type="matching", pairs=pairs, **BASE)  # type: ignore[arg-type]


def test_single_choice() -> None:
    right = score_question(single(), "a")
    wrong = score_question(single(), "b")
    assert (right.raw, right.max, right.correct, right.feedback) == (1.0, 1.0, True, ("fb a",))
    assert (wrong.raw, wrong.correct, wrong.feedback) == (0.0, False, ("fb b",))


def test_true_false_and_scenario_judgement_score_like_single_choice() -> None:
    tf = TrueFalseQuestion(
        id="tf",
        type="true_false",
        options=[option("true"), option("false", True)],  # type: ignore[list-item]
        **BASE,
    )
    sj = ScenarioJudgementQuestion(
        id="sj",
        type="scenario_judgement",
        situation="A customer calls.",
        options=[option("a"), option("b", True)],  # type: ignore[list-item]
        **BASE,
    )
    assert score_question(tf, "false").raw == 1.0
    assert score_question(tf, "true").raw == 0.0
    assert score_question(sj, "b").correct
    assert not score_question(sj, "a").correct


@pytest.mark.parametrize(
    ("picked", "raw", "correct"),
    [
        ({"a", "b"}, 1.0, True),
        ({"a"}, 0.5, False),
        ({"a", "c"}, 0.0, False),  # one wrong tick cancels one right one
        ({"a", "b", "c"}, 0.5, False),
        ({"a", "b", "c", "d"}, 0.0, False),  # ticking everything earns nothing
        (set(), 0.0, False),
    ],
)
def test_multiple_response_partial_credit(picked: set[str], raw: float, correct: bool) -> None:
    score = score_question(multiple(), sorted(picked), credit="partial")
    assert (score.raw, score.correct) == (raw, correct)
    assert len(score.feedback) == 4  # feedback on every option, picked or not
    # The default policy keeps the verdict and gives the point only for the exact answer.
    strict = score_question(multiple(), sorted(picked))
    assert (strict.raw, strict.correct) == (1.0 if correct else 0.0, correct)


@pytest.mark.parametrize(
    ("order", "raw", "correct"),
    [
        (["one", "two", "three", "four"], 1.0, True),
        (["two", "one", "three", "four"], 5 / 6, False),
        (["four", "three", "two", "one"], 0.0, False),
    ],
)
def test_ordering_partial_credit(order: list[str], raw: float, correct: bool) -> None:
    score = score_question(ordering(), order, credit="partial")
    assert score.raw == pytest.approx(raw)
    assert score.correct is correct
    assert score_question(ordering(), order).raw == (1.0 if correct else 0.0)


def test_matching_partial_credit() -> None:
    all_right = {"x": "x", "y": "y", "z": "z", "w": "w"}
    swapped = {"x": "y", "y": "x", "z": "z", "w": "w"}
    assert score_question(matching(), all_right, credit="partial").raw == 1.0
    assert score_question(matching(), swapped, credit="partial").raw == 0.5
    assert score_question(matching(), {"x": "x"}, credit="partial").raw == 0.25
    assert score_question(matching(), all_right).raw == 1.0
    assert score_question(matching(), swapped).raw == 0.0
    assert score_question(matching(), {"x": "x"}).raw == 0.0


def test_unknown_credit_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="credit policy"):
        score_question(single(), "a", credit="generous")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "response"),
    [
        (single(), "zzz"),
        (single(), ["a"]),
        (multiple(), "a"),
        (multiple(), ["a", "nope"]),
        (ordering(), ["one", "two", "three"]),
        (ordering(), ["one", "one", "two", "three"]),
        (matching(), ["x"]),
        (matching(), {"x": "nope"}),
    ],
)
def test_malformed_responses_raise(question: Any, response: Any) -> None:
    with pytest.raises(ResponseError):
        score_question(question, response)


QUIZ = Quiz(
    id="quiz",
    content_version="1.0.0",
    title="Quiz",
    banks=["bank"],
    draw=4,
    pass_mark=0.7,
    attempts=2,
)


def test_quiz_score_and_pass_mark() -> None:
    questions: list[Question] = [single(), multiple(), ordering(), matching()]
    nearly = {"single": "a", "multi": ["a", "b"], "order": ["two", "one", "three", "four"]}
    strict = score_quiz(QUIZ, questions, nearly)
    assert (strict.raw, strict.min, strict.max, strict.scaled) == (2.0, 0.0, 4.0, 0.5)
    assert not strict.passed  # the swapped order earns nothing; matching was left blank
    partial = score_quiz(QUIZ.model_copy(update={"credit": "partial"}), questions, nearly)
    assert partial.raw == pytest.approx(2 + 5 / 6)
    assert partial.scaled == pytest.approx((2 + 5 / 6) / 4, abs=1e-6)
    assert partial.passed  # 0.708 >= 0.7: the quiz opted in to partial credit
    failing = score_quiz(QUIZ, questions, {"single": "b"})
    assert failing.scaled == 0.0
    assert not failing.passed


def test_four_wrong_of_ten_cannot_pass_a_70_percent_quiz() -> None:
    # The case behind the policy (issue 11): with partial credit, near misses on four
    # part-scored questions added up to a pass although four answers were wrong.
    quiz = QUIZ.model_copy(update={"draw": 10})
    questions: list[Question] = [
        *(single().model_copy(update={"id": f"s{i}"}) for i in range(6)),
        *(ordering().model_copy(update={"id": f"o{i}"}) for i in range(4)),
    ]
    responses: dict[str, Any] = {f"s{i}": "a" for i in range(6)}
    responses.update({f"o{i}": ["one", "two", "four", "three"] for i in range(4)})
    assert not score_quiz(quiz, questions, responses).passed
    partial = quiz.model_copy(update={"credit": "partial"})
    assert score_quiz(partial, questions, responses).passed


def test_exact_pass_mark_passes() -> None:
    quiz = QUIZ.model_copy(update={"draw": 10})
    questions = [single().model_copy(update={"id": f"q{i}"}) for i in range(10)]
    responses = {f"q{i}": ("a" if i < 7 else "b") for i in range(10)}
    assert score_quiz(quiz, questions, responses).passed


def test_draw_is_repeatable_per_seed() -> None:
    catalog = load_catalog()
    quiz = catalog.require_quiz("service-foundations-quiz")
    pool = catalog.list_quiz_pool(quiz.id)
    first = draw_quiz_questions(quiz, pool, seed="attempt-1")
    assert [q.id for q in first] == [q.id for q in draw_quiz_questions(quiz, pool, "attempt-1")]
    assert len(first) == quiz.draw == len({q.id for q in first})
    assert attempts_remaining(quiz, 1) == quiz.attempts - 1
    assert attempts_remaining(quiz, 99) == 0


def test_draw_more_than_pool_raises() -> None:
    with pytest.raises(ResponseError):
        draw_quiz_questions(QUIZ, [single()], seed=1)


def test_scenario_best_path_scores_full_marks() -> None:
    scenario = load_catalog().require_scenario("double-charge")
    result = score_scenario_path(
        scenario, ["acknowledge-and-check", "explain-pending", "reference-and-follow-up"]
    )
    assert result.completed
    assert result.ending is not None and result.ending.outcome == "resolved"
    assert set(result.skills) == set(scenario.skills)
    assert all(score.scaled == 1.0 for score in result.skills.values())
    assert len(result.feedback) == 3


def test_scenario_poor_path_scores_per_skill() -> None:
    scenario = load_catalog().require_scenario("double-charge")
    result = score_scenario_path(scenario, ["quote-policy", "repeat-policy", "cold-transfer"])
    assert result.ending is not None and result.ending.outcome == "unresolved"
    assert result.skills["empathy"].raw == 0
    assert result.skills["empathy"].scaled == 0.0
    # Recovering after a slip scores well, but not as well as never slipping.
    recovered = score_scenario_path(
        scenario, ["quote-policy", "recover", "explain-pending", "reference-and-follow-up"]
    )
    assert 0 < recovered.skills["communication"].scaled < 1


def test_unfinished_scenario_path() -> None:
    scenario = load_catalog().require_scenario("double-charge")
    result = score_scenario_path(scenario, ["acknowledge-and-check"])
    assert not result.completed
    with pytest.raises(ResponseError):
        score_scenario_path(scenario, ["not-a-choice"])
    with pytest.raises(ResponseError):
        score_scenario_path(
            scenario,
            ["acknowledge-and-check", "explain-pending", "reference-and-follow-up", "more"],
        )


def test_self_assessment_recommends_modules_for_low_skills() -> None:
    assessment = load_catalog().require_self_assessment()
    ratings = {statement.id: 4 for statement in assessment.statements}
    ratings.update({"sa-listening-finish": 2, "sa-listening-confirm": 3})  # avg 2.5
    ratings.update({"sa-decision-authority": 1, "sa-decision-unusual": 1})  # avg 1.0
    result = assess_skills(assessment, ratings)
    assert [r.skill for r in result.recommendations] == ["decision-making", "listening"]
    assert result.modules == ("empowered-agents", "listening-and-empathy")
    assert result.averages["listening"] == 2.5


def test_self_assessment_all_high_recommends_nothing() -> None:
    assessment = load_catalog().require_self_assessment()
    result = assess_skills(assessment, {s.id: 5 for s in assessment.statements})
    assert result.recommendations == ()
    assert result.modules == ()


@pytest.mark.parametrize(
    "ratings", [{"sa-listening-finish": 6}, {"nope": 3}, {"sa-adapt-change": 0}]
)
def test_self_assessment_rejects_bad_ratings(ratings: dict[str, int]) -> None:
    with pytest.raises(ResponseError):
        assess_skills(load_catalog().require_self_assessment(), ratings)


def test_every_shipped_question_scores_its_own_answer_key() -> None:
    for question in load_catalog().list_questions():
        if isinstance(question, OrderingQuestion):
            response: Any = [item.id for item in question.items]
        elif isinstance(question, MatchingQuestion):
            response = {pair.id: pair.id for pair in question.pairs}
        elif isinstance(question, MultipleResponseQuestion):
            response = [o.id for o in question.options if o.correct]
        else:
            response = next(o.id for o in question.options if o.correct)
        assert score_question(question, response).correct, question.id
