"""The validator accepts the shipped content and names file and field for each break."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from content.validation import validate_path
from tests.unit.content.conftest import edit_front_matter, edit_yaml, run_cli

FOUNDATIONS = "courses/service-foundations"
BANK = f"{FOUNDATIONS}/banks/foundations-bank.yaml"
SCENARIO = f"{FOUNDATIONS}/scenarios/double-charge.yaml"
COUNTS = re.compile(
    r"^(\d+) courses, (\d+) lessons, (\d+) questions, (\d+) scenarios, "
    r"(\d+) skills, (\d+) goal templates$"
)


def problems_in(path: Path) -> list[str]:
    return [str(problem) for problem in validate_path(path).problems]


def test_shipped_content_is_valid() -> None:
    report = validate_path()
    assert report.problems == ()


def test_cli_last_line_counts_what_it_read() -> None:
    result = run_cli("validate")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = COUNTS.match(last)
    assert match, last
    courses, lessons, questions, scenarios, skills, goals = map(int, match.groups())
    assert courses >= 4
    assert lessons >= 16
    assert questions >= 80
    assert scenarios >= 4
    assert skills >= 12
    assert goals >= 24
    assert last == validate_path().summary()


def test_cli_reports_problems_and_exits_1(content_copy: Path) -> None:
    edit_yaml(content_copy / BANK, lambda bank: bank["questions"][0]["options"][1].pop("feedback"))
    result = run_cli("validate", str(content_copy))
    assert result.returncode == 1
    assert f"content/{BANK}: questions[0].options[1].feedback: Field required" in result.stderr


@pytest.mark.parametrize("args", [(), ("validate", "/no/such/folder"), ("check",)])
def test_cli_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    assert run_cli(*args).returncode == 2


def test_duplicate_id_across_kinds(content_copy: Path) -> None:
    # A question reusing a lesson's id: one namespace for every kind.
    def rename(bank: Any) -> None:
        bank["questions"][1]["id"] = "active-listening"

    edit_yaml(content_copy / BANK, rename)
    assert any(
        p.startswith(f"content/{BANK}: questions[1].id: duplicate id 'active-listening'")
        for p in problems_in(content_copy)
    )


def test_duplicate_question_id(content_copy: Path) -> None:
    def duplicate(bank: Any) -> None:
        bank["questions"][2]["id"] = bank["questions"][0]["id"]

    edit_yaml(content_copy / BANK, duplicate)
    assert any(
        p.startswith(f"content/{BANK}: questions[2].id: duplicate id 'listening-paraphrase")
        for p in problems_in(content_copy)
    )


def _break_module_lesson(root: Path) -> str:
    edit_yaml(
        root / FOUNDATIONS / "course.yaml",
        lambda c: c["modules"][0]["lessons"].__setitem__(0, "no-such-lesson"),
    )
    return f"content/{FOUNDATIONS}/course.yaml: modules[0].lessons[0]: unknown lesson"


def _break_knowledge_check(root: Path) -> str:
    edit_front_matter(
        root / FOUNDATIONS / "lessons/active-listening.md",
        lambda f: f["knowledge_check"].__setitem__(1, "no-such-question"),
    )
    return (
        f"content/{FOUNDATIONS}/lessons/active-listening.md: knowledge_check[1]: "
        "unknown question 'no-such-question'"
    )


def _break_question_skill(root: Path) -> str:
    edit_yaml(root / BANK, lambda b: b["questions"][3].__setitem__("skill", "telepathy"))
    return f"content/{BANK}: questions[3].skill: unknown skill 'telepathy'"


def _break_choice_target(root: Path) -> str:
    edit_yaml(root / SCENARIO, lambda s: s["nodes"][0]["choices"][0].__setitem__("next", "nowhere"))
    return f"content/{SCENARIO}: nodes[0].choices[0].next: unknown node 'nowhere'"


def _break_assessment_module(root: Path) -> str:
    edit_yaml(
        root / "self_assessment.yaml",
        lambda a: a["rules"][0]["modules"].__setitem__(0, "no-such-module"),
    )
    return "content/self_assessment.yaml: rules[0].modules[0]: unknown module 'no-such-module'"


def _break_goal_skill(root: Path) -> str:
    edit_yaml(root / "goals.yaml", lambda g: g["templates"][0].__setitem__("skill", "juggling"))
    return "content/goals.yaml: templates[0].skill: unknown skill 'juggling'"


def _break_quiz_bank(root: Path) -> str:
    edit_yaml(root / FOUNDATIONS / "course.yaml", lambda c: c["quiz"]["banks"].append("no-bank"))
    return f"content/{FOUNDATIONS}/course.yaml: quiz.banks[1]: unknown question bank 'no-bank'"


@pytest.mark.parametrize(
    "break_it",
    [
        _break_module_lesson,
        _break_knowledge_check,
        _break_question_skill,
        _break_choice_target,
        _break_assessment_module,
        _break_goal_skill,
        _break_quiz_bank,
    ],
)
def test_dangling_references_are_named(content_copy: Path, break_it: Any) -> None:
    expected = break_it(content_copy)
    found = problems_in(content_copy)
    assert any(p.startswith(expected) for p in found), found


def test_single_choice_with_two_correct_answers(content_copy: Path) -> None:
    edit_yaml(
        content_copy / BANK,
        lambda b: b["questions"][0]["options"][1].__setitem__("correct", True),
    )
    assert (
        f"content/{BANK}: questions[0].options: 2 options marked correct, single_choice needs one"
        in problems_in(content_copy)
    )


def test_question_with_no_correct_answer(content_copy: Path) -> None:
    def clear(bank: Any) -> None:
        for option in bank["questions"][0]["options"]:
            option["correct"] = False

    edit_yaml(content_copy / BANK, clear)
    assert f"content/{BANK}: questions[0].options: no option marked correct" in problems_in(
        content_copy
    )


def test_option_without_feedback(content_copy: Path) -> None:
    edit_yaml(content_copy / BANK, lambda b: b["questions"][4]["options"][2].pop("feedback"))
    assert f"content/{BANK}: questions[4].options[2].feedback: Field required" in problems_in(
        content_copy
    )


def test_option_with_empty_feedback(content_copy: Path) -> None:
    edit_yaml(
        content_copy / BANK,
        lambda b: b["questions"][4]["options"][2].__setitem__("feedback", "   "),
    )
    assert any(
        p.startswith(f"content/{BANK}: questions[4].options[2].feedback: ")
        for p in problems_in(content_copy)
    )


def test_unreachable_scenario_node(content_copy: Path) -> None:
    # The only way into "pushback" is the quote-policy choice; send it elsewhere.
    def reroute(scenario: Any) -> None:
        for choice in scenario["nodes"][0]["choices"]:
            if choice["id"] == "quote-policy":
                choice["next"] = "verify"

    edit_yaml(content_copy / SCENARIO, reroute)
    found = problems_in(content_copy)
    assert f"content/{SCENARIO}: nodes[1]: node 'pushback' is unreachable" in found


def test_scenario_loop(content_copy: Path) -> None:
    def loop(scenario: Any) -> None:
        nodes = {node["id"]: node for node in scenario["nodes"]}
        nodes["resolve"]["choices"][1]["next"] = "opening"

    edit_yaml(content_copy / SCENARIO, loop)
    assert any("is on a loop" in p for p in problems_in(content_copy))


def test_choice_missing_a_skill_score(content_copy: Path) -> None:
    edit_yaml(
        content_copy / SCENARIO, lambda s: s["nodes"][0]["choices"][0]["scores"].pop("empathy")
    )
    assert f"content/{SCENARIO}: nodes[0].choices[0].scores: missing empathy" in problems_in(
        content_copy
    )


def test_uncovered_seed(content_copy: Path) -> None:
    def add_seed(index: Any) -> None:
        index["seeds"].append(
            {"id": "005_0123456789abcdef", "title": "New chapter", "sections": ["Anything"]}
        )

    edit_yaml(content_copy / "seeds.yaml", add_seed)
    assert (
        "content/seeds.yaml: seeds[5]: seed 005_0123456789abcdef is covered by no lesson"
        in problems_in(content_copy)
    )


def test_lesson_cites_unknown_section(content_copy: Path) -> None:
    edit_front_matter(
        content_copy / FOUNDATIONS / "lessons/empathy-in-practice.md",
        lambda f: f["sources"][0].__setitem__("section", "Chapter Nobody Wrote"),
    )
    assert any(
        p.startswith(
            f"content/{FOUNDATIONS}/lessons/empathy-in-practice.md: sources[0].section: "
            "seed 003_4fa02f79461e8c1a has no section"
        )
        for p in problems_in(content_copy)
    )


def test_raw_html_in_lesson(content_copy: Path) -> None:
    path = content_copy / FOUNDATIONS / "lessons/active-listening.md"
    path.write_text(path.read_text() + "\n<script>alert(1)</script>\n")
    assert any(
        p.startswith(f"content/{FOUNDATIONS}/lessons/active-listening.md: body: raw HTML")
        for p in problems_in(content_copy)
    )


def test_knowledge_check_size(content_copy: Path) -> None:
    edit_front_matter(
        content_copy / FOUNDATIONS / "lessons/active-listening.md",
        lambda f: f.__setitem__("knowledge_check", f["knowledge_check"][:1]),
    )
    assert (
        f"content/{FOUNDATIONS}/lessons/active-listening.md: knowledge_check: "
        "has 1 questions, expected 2 to 4" in problems_in(content_copy)
    )


def test_ordering_and_matching_must_be_well_formed(content_copy: Path) -> None:
    def break_them(bank: Any) -> None:
        by_id = {q["id"]: q for q in bank["questions"]}
        by_id["clarity-engineer-close-order"]["items"][1]["id"] = "recap"
        by_id["empathy-match-feelings"]["pairs"][1]["match"] = by_id["empathy-match-feelings"][
            "pairs"
        ][0]["match"]

    edit_yaml(content_copy / BANK, break_them)
    found = " | ".join(problems_in(content_copy))
    assert "items: item 'recap' appears 2 times" in found
    assert "pairs: match " in found


def test_true_false_needs_true_and_false_ids(content_copy: Path) -> None:
    edit_yaml(
        content_copy / BANK, lambda b: b["questions"][2]["options"][0].__setitem__("id", "yes")
    )
    assert any("must have ids 'true' and 'false'" in p for p in problems_in(content_copy))


def test_broken_yaml_is_reported_not_raised(content_copy: Path) -> None:
    (content_copy / "skills.yaml").write_text("skills: [unclosed\n")
    assert any(p.startswith("content/skills.yaml: invalid YAML") for p in problems_in(content_copy))


# --- answer-key patterns (issue 11): each rule fails on the pattern it guards against ---


def _single_answer(bank: Any) -> list[Any]:
    return [q for q in bank["questions"] if q["type"] in ("single_choice", "scenario_judgement")]


def test_right_option_longest_too_often_is_reported(content_copy: Path) -> None:
    def pad_right_answers(bank: Any) -> None:
        for question in _single_answer(bank):
            for option in question["options"]:
                if option.get("correct"):
                    option["text"] += " This is explained in detail, with every caveat spelled out."

    edit_yaml(content_copy / BANK, pad_right_answers)
    found = problems_in(content_copy)
    assert any(
        p.startswith(f"content/{BANK}: questions: the right option is the longest in 11 of 11")
        for p in found
    ), found
    assert any("times as long as the average option" in p for p in found)


def test_true_false_answers_all_the_same_are_reported(content_copy: Path) -> None:
    def all_false(bank: Any) -> None:
        for question in bank["questions"]:
            if question["type"] == "true_false":
                for option in question["options"]:
                    option["correct"] = option["id"] == "false"

    edit_yaml(content_copy / BANK, all_false)
    assert f"content/{BANK}: questions: 3 of 3 true/false answers are 'false'; balance them" in (
        problems_in(content_copy)
    )


def test_multiple_response_with_one_wrong_option_is_reported(content_copy: Path) -> None:
    def one_wrong(bank: Any) -> None:
        question = next(q for q in bank["questions"] if q["id"] == "listening-signs")
        question["options"] = [o for o in question["options"] if o["id"] != "script-next"]

    edit_yaml(content_copy / BANK, one_wrong)
    found = problems_in(content_copy)
    assert any(
        p.startswith(f"content/{BANK}: questions[1].options: has 1 wrong option(s)") for p in found
    ), found


@pytest.mark.parametrize("opener", ["Right.", "Correct!", "Yes,", "Best choice.", "No."])
def test_feedback_that_opens_with_a_verdict_is_reported(content_copy: Path, opener: str) -> None:
    edit_yaml(
        content_copy / BANK,
        lambda b: b["questions"][0]["options"][1].__setitem__("feedback", f"{opener} It waits."),
    )
    assert (
        f"content/{BANK}: questions[0].options[1].feedback: feedback opens with a verdict; "
        "the page says right or wrong beside it"
    ) in problems_in(content_copy)


def test_feedback_may_use_verdict_words_later_in_a_sentence(content_copy: Path) -> None:
    edit_yaml(
        content_copy / BANK,
        lambda b: b["questions"][0]["options"][1].__setitem__(
            "feedback", "Nobody is right every time; this reply waits too long."
        ),
    )
    assert not [p for p in problems_in(content_copy) if "verdict" in p]


def test_best_reply_always_first_is_reported(content_copy: Path) -> None:
    def best_first(scenario: Any) -> None:
        for node in scenario["nodes"]:
            if node["type"] == "decision":
                node["choices"].sort(key=lambda c: -sum(c["scores"].values()))

    edit_yaml(content_copy / SCENARIO, best_first)
    assert (
        f"content/{SCENARIO}: nodes: the best reply is choice 1 in 6 of 6 decisions "
        "(at most 50%); vary its place"
    ) in problems_in(content_copy)


def test_unknown_prerequisite_is_named(content_copy: Path) -> None:
    edit_yaml(
        content_copy / f"{FOUNDATIONS}/course.yaml",
        lambda course: course.update(prerequisites=["no-such-course"]),
    )
    assert any(
        "prerequisites[0]: unknown course 'no-such-course'" in p for p in problems_in(content_copy)
    )


def test_prerequisite_cycle_is_refused(content_copy: Path) -> None:
    # sharing-knowledge already requires service-foundations; closing the loop is an error.
    edit_yaml(
        content_copy / f"{FOUNDATIONS}/course.yaml",
        lambda course: course.update(prerequisites=["sharing-knowledge"]),
    )
    assert any("requires itself" in p for p in problems_in(content_copy))


def test_the_learning_path_puts_prerequisites_first() -> None:
    from content import load_catalog

    ids = [course.id for course in load_catalog().list_courses_in_path()]
    assert ids[0] == "service-foundations"
    assert ids.index("learning-team") > ids.index("sharing-knowledge")
    assert ids.index("learning-team") > ids.index("growing-on-the-job")
