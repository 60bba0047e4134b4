"""Cross-checks of the curriculum beyond its schema: ids, references, answers, graphs, coverage."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from content.catalog import Catalog
from content.goals import METRIC_KEYS, list_param_problems, list_placeholders
from content.loader import read_catalog
from content.problem import Origin, Problem
from content.schema import (
    SINGLE_ANSWER_TYPES,
    Course,
    DecisionNode,
    GoalTemplate,
    Item,
    Lesson,
    MatchingQuestion,
    MultipleResponseQuestion,
    Option,
    OrderingQuestion,
    Question,
    QuestionBank,
    Quiz,
    Scenario,
    ScenarioJudgementQuestion,
    SelfAssessment,
    SingleChoiceQuestion,
    TrueFalseQuestion,
)

KNOWLEDGE_CHECK_SIZE = range(2, 5)
MIN_DECISION_POINTS = 3

# Answer-key patterns a test-wise learner can exploit without knowing the subject (issue 11).
# Each is measured per bank (per scenario for reply positions), so one edit cannot bring a
# pattern back unnoticed; docs/decisions/0019-scoring-policy.md says why these limits.
#: Single-answer items (true/false aside) needed before the length rules apply.
LENGTH_RULE_MIN_ITEMS = 4
#: Most of a bank's single-answer items whose right option may be the longest one.
MAX_SHARE_LONGEST_CORRECT = 0.4
#: Most the right option may be longer than the average option, averaged over the bank.
MAX_CORRECT_LENGTH_RATIO = 1.2
#: Most of a bank's true/false answers that may be the same answer (from 3 items on).
MAX_SHARE_SAME_TRUE_FALSE = 2 / 3
#: Wrong options every multiple-response item needs: with one, "all but the odd one out" wins.
MIN_WRONG_MULTIPLE_RESPONSE = 2
#: Most of a scenario's decisions whose best reply may sit at the same place in the list.
MAX_SHARE_BEST_REPLY_POSITION = 0.5
# Feedback is shown beside every option, picked or not, and the page says right or wrong;
# a feedback text that opens with a verdict would praise an option the learner got wrong.
_VERDICT_OPENER = re.compile(
    r"^(?:right|correct|incorrect|wrong|yes|no|exactly|best choice|not quite)\b[.!,:]",
    re.IGNORECASE,
)
# Lessons are rendered and sanitised by the web layer, which strips HTML anyway; keeping it
# out of the source means what authors see is what learners get.
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--")
_SUMMARY_HEADING = re.compile(r"^##\s+Summary\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Report:
    """The outcome of validating a content folder."""

    problems: tuple[Problem, ...]
    catalog: Catalog

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """Count what was read, e.g. ``4 courses, 18 lessons, 96 questions, ...``."""
        return summarise(self.catalog)


def summarise(catalog: Catalog) -> str:
    return (
        f"{len(catalog.list_courses())} courses, {len(catalog.list_lessons())} lessons, "
        f"{len(catalog.list_questions())} questions, {len(catalog.list_scenarios())} scenarios, "
        f"{len(catalog.list_skills())} skills, "
        f"{len(catalog.list_goal_templates())} goal templates"
    )


def validate_path(path: Path | None = None) -> Report:
    """Read and check the content under ``path`` (default: the shipped content)."""
    catalog, problems = read_catalog(path)
    found = sorted(set(problems) | set(validate_catalog(catalog)))
    return Report(tuple(found), catalog)


def validate_catalog(catalog: Catalog) -> list[Problem]:
    """Return every cross-reference and consistency problem in an already parsed catalog."""
    checker = _Checker(catalog)
    return list(checker.run())


class _Checker:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.skill_ids = {skill.id for skill in catalog.list_skills()}

    def where(self, item: Item) -> Origin:
        origin = self.catalog.get_origin(item)
        return origin if origin is not None else Origin(f"<{item.kind} {item.id}>")

    def run(self) -> Iterator[Problem]:
        yield from self.check_unique_ids()
        for course in self.catalog.list_courses():
            yield from self.check_course(course)
        yield from self.check_lesson_placement()
        for lesson in self.catalog.list_lessons():
            yield from self.check_lesson(lesson)
        for question in self.catalog.list_questions():
            yield from self.check_question(question)
        for bank in self.catalog.list_banks():
            yield from self.check_answer_patterns(bank)
        for scenario in self.catalog.list_scenarios():
            yield from self.check_scenario(scenario)
        yield from self.check_metrics()
        for template in self.catalog.list_goal_templates():
            yield from self.check_goal(template)
        yield from self.check_self_assessment(self.catalog.self_assessment)
        yield from self.check_skill_use()
        yield from self.check_seed_coverage()

    # --- ids ----------------------------------------------------------------------------

    def check_unique_ids(self) -> Iterator[Problem]:
        # One namespace for all kinds: an id alone must identify an item in reports,
        # URLs and xAPI statements without also knowing its kind.
        first: dict[str, tuple[Item, Origin]] = {}
        for entry in self.catalog.entries:
            seen = first.get(entry.item.id)
            if seen is None:
                first[entry.item.id] = (entry.item, entry.origin)
                continue
            other, where = seen
            yield Problem(
                entry.origin.at("id"),
                f"duplicate id {entry.item.id!r} (already used by {other.kind} at "
                f"{where.file}{': ' + where.field if where.field else ''})",
            )

    # --- courses and lessons --------------------------------------------------------------

    def check_course(self, course: Course) -> Iterator[Problem]:
        where = self.where(course)
        for m_index, module in enumerate(course.modules):
            for l_index, lesson_id in enumerate(module.lessons):
                if self.catalog.get_lesson(lesson_id) is None:
                    yield Problem(
                        where.at(f"modules[{m_index}].lessons[{l_index}]"),
                        f"unknown lesson {lesson_id!r}",
                    )
            if module.quiz is not None:
                yield from self.check_quiz(module.quiz)
        if course.quiz is not None:
            yield from self.check_quiz(course.quiz)
        for index, scenario_id in enumerate(course.scenarios):
            if self.catalog.get_scenario(scenario_id) is None:
                yield Problem(where.at(f"scenarios[{index}]"), f"unknown scenario {scenario_id!r}")
        yield from self.check_prerequisites(course)

    def check_prerequisites(self, course: Course) -> Iterator[Problem]:
        where = self.where(course)
        for index, required in enumerate(course.prerequisites):
            if self.catalog.get_course(required) is None:
                yield Problem(where.at(f"prerequisites[{index}]"), f"unknown course {required!r}")
        # A course that (through others) requires itself has no place in the path.
        seen: set[str] = set()
        waiting = list(course.prerequisites)
        while waiting:
            current = waiting.pop()
            if current == course.id:
                yield Problem(
                    where.at("prerequisites"),
                    f"course {course.id!r} requires itself through its prerequisites",
                )
                return
            if current in seen:
                continue
            seen.add(current)
            found = self.catalog.get_course(current)
            if found is not None:
                waiting.extend(found.prerequisites)

    def check_quiz(self, quiz: Quiz) -> Iterator[Problem]:
        where = self.where(quiz)
        pool = 0
        for index, bank_id in enumerate(quiz.banks):
            bank = self.catalog.get_bank(bank_id)
            if bank is None:
                yield Problem(where.at(f"banks[{index}]"), f"unknown question bank {bank_id!r}")
            else:
                pool += len(bank.questions)
        if pool and quiz.draw > pool:
            yield Problem(where.at("draw"), f"draws {quiz.draw} questions from a pool of {pool}")

    def check_lesson_placement(self) -> Iterator[Problem]:
        placements = Counter(
            lesson_id
            for course in self.catalog.list_courses()
            for module in course.modules
            for lesson_id in module.lessons
        )
        for lesson in self.catalog.list_lessons():
            count = placements[lesson.id]
            if count == 0:
                yield Problem(self.where(lesson).at("id"), "lesson is not part of any module")
            elif count > 1:
                yield Problem(self.where(lesson).at("id"), f"lesson is used by {count} modules")

    def check_lesson(self, lesson: Lesson) -> Iterator[Problem]:
        where = self.where(lesson)
        stem = Path(where.file).stem
        if stem != lesson.id:
            yield Problem(where.at("id"), f"id {lesson.id!r} does not match file name {stem!r}")
        if len(lesson.knowledge_check) not in KNOWLEDGE_CHECK_SIZE:
            yield Problem(
                where.at("knowledge_check"),
                f"has {len(lesson.knowledge_check)} questions, expected 2 to 4",
            )
        for index, question_id in enumerate(lesson.knowledge_check):
            if self.catalog.get_question(question_id) is None:
                yield Problem(
                    where.at(f"knowledge_check[{index}]"), f"unknown question {question_id!r}"
                )
        yield from self.check_sources(lesson, where)
        match = _HTML_TAG.search(lesson.body)
        if match:
            yield Problem(where.at("body"), f"raw HTML is not allowed: {match.group(0)!r}")
        if not _SUMMARY_HEADING.search(lesson.body):
            yield Problem(where.at("body"), "missing a '## Summary' section")

    def check_sources(self, lesson: Lesson, where: Origin) -> Iterator[Problem]:
        seeds = self.catalog.seeds
        if seeds is None:
            return
        sections = {seed.id: set(seed.sections) for seed in seeds.seeds}
        for index, source in enumerate(lesson.sources):
            if source.seed not in sections:
                yield Problem(where.at(f"sources[{index}].seed"), f"unknown seed {source.seed!r}")
            elif source.section not in sections[source.seed]:
                yield Problem(
                    where.at(f"sources[{index}].section"),
                    f"seed {source.seed} has no section {source.section!r}",
                )

    # --- questions ------------------------------------------------------------------------

    def check_question(self, question: Question) -> Iterator[Problem]:
        where = self.where(question)
        if question.skill not in self.skill_ids:
            yield Problem(where.at("skill"), f"unknown skill {question.skill!r}")
        if isinstance(question, OrderingQuestion):
            yield from _unique(where.at("items"), (item.id for item in question.items), "item")
            yield from _unique(where.at("items"), (item.text for item in question.items), "text")
        elif isinstance(question, MatchingQuestion):
            yield from _unique(where.at("pairs"), (pair.id for pair in question.pairs), "pair")
            yield from _unique(where.at("pairs"), (p.prompt for p in question.pairs), "prompt")
            yield from _unique(where.at("pairs"), (p.match for p in question.pairs), "match")
        else:
            yield from self.check_options(question, question.options, where.at("options"))

    def check_options(
        self, question: Question, options: Sequence[Option], where: Origin
    ) -> Iterator[Problem]:
        yield from _unique(where, (option.id for option in options), "option")
        correct = sum(option.correct for option in options)
        if correct == 0:
            yield Problem(where, "no option marked correct")
        elif question.type in SINGLE_ANSWER_TYPES and correct > 1:
            yield Problem(where, f"{correct} options marked correct, {question.type} needs one")
        if isinstance(question, MultipleResponseQuestion) and correct == len(options):
            yield Problem(where, "every option is correct, so the question tests nothing")
        elif (
            isinstance(question, MultipleResponseQuestion)
            and len(options) - correct < MIN_WRONG_MULTIPLE_RESPONSE
        ):
            yield Problem(
                where,
                f"has {len(options) - correct} wrong option(s), needs at least "
                f"{MIN_WRONG_MULTIPLE_RESPONSE} so leaving out the odd one is not the answer",
            )
        for index, option in enumerate(options):
            if _VERDICT_OPENER.match(option.feedback):
                yield Problem(
                    where.at(f"[{index}].feedback"),
                    "feedback opens with a verdict; the page says right or wrong beside it",
                )
        if question.type == "true_false" and {o.id for o in options} != {"true", "false"}:
            yield Problem(where, "true_false options must have ids 'true' and 'false'")

    def check_answer_patterns(self, bank: QuestionBank) -> Iterator[Problem]:
        where = self.where(bank).at("questions")
        lengths = [
            ([len(option.text) for option in q.options], [o.correct for o in q.options])
            for q in bank.questions
            # An item without exactly one right option is reported by check_options.
            if isinstance(q, SingleChoiceQuestion | ScenarioJudgementQuestion)
            and sum(o.correct for o in q.options) == 1
        ]
        if len(lengths) >= LENGTH_RULE_MIN_ITEMS:
            longest = sum(
                1
                for sizes, right in lengths
                if sizes[right.index(True)] == max(sizes) and sizes.count(max(sizes)) == 1
            )
            if longest / len(lengths) > MAX_SHARE_LONGEST_CORRECT:
                yield Problem(
                    where,
                    f"the right option is the longest in {longest} of {len(lengths)} "
                    f"single-answer questions (at most {MAX_SHARE_LONGEST_CORRECT:.0%})",
                )
            ratio = sum(
                sizes[right.index(True)] / (sum(sizes) / len(sizes)) for sizes, right in lengths
            ) / len(lengths)
            if ratio > MAX_CORRECT_LENGTH_RATIO:
                yield Problem(
                    where,
                    f"right options are on average {ratio:.2f} times as long as the average "
                    f"option (at most {MAX_CORRECT_LENGTH_RATIO})",
                )
        answers = Counter(
            next(option.id for option in q.options if option.correct)
            for q in bank.questions
            if isinstance(q, TrueFalseQuestion) and any(o.correct for o in q.options)
        )
        total = sum(answers.values())
        if total >= 3:
            answer, count = answers.most_common(1)[0]
            if count / total > MAX_SHARE_SAME_TRUE_FALSE:
                yield Problem(
                    where,
                    f"{count} of {total} true/false answers are {answer!r}; balance them",
                )

    # --- scenarios ------------------------------------------------------------------------

    def check_scenario(self, scenario: Scenario) -> Iterator[Problem]:
        where = self.where(scenario)
        for index, skill_id in enumerate(scenario.skills):
            if skill_id not in self.skill_ids:
                yield Problem(where.at(f"skills[{index}]"), f"unknown skill {skill_id!r}")
        yield from _unique(where.at("nodes"), (node.id for node in scenario.nodes), "node")
        nodes = {node.id: node for node in scenario.nodes}
        if scenario.start not in nodes:
            yield Problem(where.at("start"), f"unknown node {scenario.start!r}")
            return
        decisions = [node for node in scenario.nodes if isinstance(node, DecisionNode)]
        if len(decisions) < MIN_DECISION_POINTS:
            yield Problem(
                where.at("nodes"),
                f"has {len(decisions)} decision points, expected at least {MIN_DECISION_POINTS}",
            )
        expected_skills = set(scenario.skills)
        for n_index, node in enumerate(scenario.nodes):
            if not isinstance(node, DecisionNode):
                continue
            node_where = where.at(f"nodes[{n_index}].choices")
            yield from _unique(node_where, (choice.id for choice in node.choices), "choice")
            for c_index, choice in enumerate(node.choices):
                if choice.next not in nodes:
                    yield Problem(
                        node_where.at(f"[{c_index}].next"), f"unknown node {choice.next!r}"
                    )
                if set(choice.scores) != expected_skills:
                    missing = sorted(expected_skills - set(choice.scores))
                    extra = sorted(set(choice.scores) - expected_skills)
                    detail = "; ".join(
                        part
                        for part in (
                            f"missing {', '.join(missing)}" if missing else "",
                            f"not a scenario skill: {', '.join(extra)}" if extra else "",
                        )
                        if part
                    )
                    yield Problem(node_where.at(f"[{c_index}].scores"), detail)
        yield from _check_graph(scenario, where)
        yield from _check_best_reply_positions(scenario, where)

    # --- goals, self-assessment, skills -----------------------------------------------------

    def check_goal(self, template: GoalTemplate) -> Iterator[Problem]:
        where = self.where(template)
        if template.skill not in self.skill_ids:
            yield Problem(where.at("skill"), f"unknown skill {template.skill!r}")
        if template.check_in_days > template.timeframe_days:
            yield Problem(where.at("check_in_days"), "first check-in falls after the deadline")
        marks = [milestone.at for milestone in template.milestones]
        if marks != sorted(set(marks)):
            yield Problem(where.at("milestones"), "milestones must be strictly increasing")
        if marks and marks[-1] != 1.0:
            yield Problem(where.at("milestones"), "the last milestone must be the target (at: 1.0)")
        metric = self.catalog.get_metric(template.metric)
        if metric is None:
            yield Problem(where.at("metric"), f"unknown metric {template.metric!r}")
            return
        for problem in list_param_problems(self.catalog, metric, template.metric_params):
            yield Problem(where.at("metric_params"), problem)

    def check_metrics(self) -> Iterator[Problem]:
        goals_file = Origin(f"{self.catalog.root.name}/goals.yaml")
        metrics = self.catalog.list_metrics()
        if not metrics:
            return
        yield from _unique(goals_file.at("metrics"), (m.key for m in metrics), "metric")
        for index, metric in enumerate(metrics):
            where = goals_file.at(f"metrics[{index}]")
            if metric.key not in METRIC_KEYS:
                # The engine would never count it, so a goal set on it would never move.
                yield Problem(where.at("key"), f"the goal engine has no rule for {metric.key!r}")
            names = [parameter.name for parameter in metric.parameters]
            yield from _unique(where.at("parameters"), names, "parameter")
            for name in list_placeholders(metric):
                if name not in names:
                    yield Problem(where.at("measure"), f"{{{name}}} names no parameter")
            for p_index, parameter in enumerate(metric.parameters):
                bounded = parameter.min is not None or parameter.max is not None
                if bounded and parameter.type not in ("number", "integer"):
                    yield Problem(
                        where.at(f"parameters[{p_index}]"),
                        f"min and max apply to numbers, not to a {parameter.type}",
                    )
                if (
                    parameter.min is not None
                    and parameter.max is not None
                    and parameter.min > parameter.max
                ):
                    yield Problem(where.at(f"parameters[{p_index}]"), "min must not exceed max")
        defined = {metric.key for metric in metrics}
        for key in sorted(METRIC_KEYS - defined):
            yield Problem(goals_file.at("metrics"), f"metric {key!r} is missing")
        kinds = self.catalog.list_practice_kinds()
        yield from _unique(goals_file.at("practice_kinds"), (k.id for k in kinds), "kind")
        for index, kind in enumerate(kinds):
            if kind.skill not in self.skill_ids:
                yield Problem(
                    goals_file.at(f"practice_kinds[{index}].skill"),
                    f"unknown skill {kind.skill!r}",
                )

    def check_self_assessment(self, assessment: SelfAssessment | None) -> Iterator[Problem]:
        if assessment is None:
            return
        where = self.where(assessment)
        scale = assessment.scale
        if scale.min >= scale.max:
            yield Problem(where.at("scale"), "min must be below max")
        yield from _unique(where.at("statements"), (s.id for s in assessment.statements), "id")
        for index, statement in enumerate(assessment.statements):
            if statement.skill not in self.skill_ids:
                yield Problem(
                    where.at(f"statements[{index}].skill"), f"unknown skill {statement.skill!r}"
                )
        for index, rule in enumerate(assessment.rules):
            rule_where = where.at(f"rules[{index}]")
            if rule.skill not in self.skill_ids:
                yield Problem(rule_where.at("skill"), f"unknown skill {rule.skill!r}")
            if not scale.min <= rule.threshold <= scale.max:
                yield Problem(rule_where.at("threshold"), "threshold is outside the rating scale")
            for m_index, module_id in enumerate(rule.modules):
                if self.catalog.get_module(module_id) is None:
                    yield Problem(
                        rule_where.at(f"modules[{m_index}]"), f"unknown module {module_id!r}"
                    )
        rated = {statement.skill for statement in assessment.statements}
        ruled = {rule.skill for rule in assessment.rules}
        for skill_id in sorted(self.skill_ids - rated):
            yield Problem(where.at("statements"), f"no statement rates skill {skill_id!r}")
        for skill_id in sorted(self.skill_ids - ruled):
            yield Problem(where.at("rules"), f"no rule recommends modules for skill {skill_id!r}")

    def check_skill_use(self) -> Iterator[Problem]:
        # A skill nobody practises or tests cannot be improved by the course, so the
        # self-assessment would recommend work the curriculum cannot deliver.
        questioned = {question.skill for question in self.catalog.list_questions()}
        for skill in self.catalog.list_skills():
            if skill.id not in questioned:
                yield Problem(self.where(skill), f"no question tests skill {skill.id!r}")

    # --- seeds ----------------------------------------------------------------------------

    def check_seed_coverage(self) -> Iterator[Problem]:
        seeds = self.catalog.seeds
        if seeds is None:
            return
        covered = {
            (source.seed, source.section)
            for lesson in self.catalog.list_lessons()
            for source in lesson.sources
        }
        covered_seeds = {seed for seed, _ in covered}
        seed_file = Origin(f"{self.catalog.root.name}/seeds.yaml")
        for s_index, seed in enumerate(seeds.seeds):
            if seed.id not in covered_seeds:
                yield Problem(
                    seed_file.at(f"seeds[{s_index}]"), f"seed {seed.id} is covered by no lesson"
                )
                continue
            for index, section in enumerate(seed.sections):
                if (seed.id, section) not in covered:
                    yield Problem(
                        seed_file.at(f"seeds[{s_index}].sections[{index}]"),
                        f"section {section!r} of seed {seed.id} is covered by no lesson",
                    )


def _unique(where: Origin, values: Iterable[str], what: str) -> Iterator[Problem]:
    counts = Counter(values)
    for value, count in counts.items():
        if count > 1:
            yield Problem(where, f"{what} {value!r} appears {count} times")


def _check_best_reply_positions(scenario: Scenario, where: Origin) -> Iterator[Problem]:
    """The best reply (highest total score) must not keep the same place in the list: a
    page that shows choices in the authored order would otherwise teach "pick the first"."""
    positions = Counter(
        max(range(len(node.choices)), key=lambda i: sum(node.choices[i].scores.values()))
        for node in scenario.nodes
        if isinstance(node, DecisionNode)
    )
    decisions = sum(positions.values())
    if decisions < MIN_DECISION_POINTS:
        return
    position, count = positions.most_common(1)[0]
    if count / decisions > MAX_SHARE_BEST_REPLY_POSITION:
        yield Problem(
            where.at("nodes"),
            f"the best reply is choice {position + 1} in {count} of {decisions} decisions "
            f"(at most {MAX_SHARE_BEST_REPLY_POSITION:.0%}); vary its place",
        )


def _check_graph(scenario: Scenario, where: Origin) -> Iterator[Problem]:
    """Every node reachable from the start, no loops, so every path ends at an ending."""
    nodes = {node.id: node for node in scenario.nodes}
    reached: set[str] = set()
    # Iterative DFS with colours: grey nodes are on the current path, so meeting one
    # again means a loop a learner could go round forever without reaching a debrief.
    state: dict[str, int] = {}
    stack: list[tuple[str, Iterator[str]]] = []

    def successors(node_id: str) -> Iterator[str]:
        node = nodes[node_id]
        if isinstance(node, DecisionNode):
            return iter([c.next for c in node.choices if c.next in nodes])
        return iter(())

    state[scenario.start] = 1
    reached.add(scenario.start)
    stack.append((scenario.start, successors(scenario.start)))
    loops: set[str] = set()
    while stack:
        node_id, children = stack[-1]
        child = next(children, None)
        if child is None:
            state[node_id] = 2
            stack.pop()
            continue
        if state.get(child) == 1:
            loops.add(child)
        elif child not in state:
            state[child] = 1
            reached.add(child)
            stack.append((child, successors(child)))
    for index, node in enumerate(scenario.nodes):
        if node.id not in reached:
            yield Problem(where.at(f"nodes[{index}]"), f"node {node.id!r} is unreachable")
        if node.id in loops:
            yield Problem(
                where.at(f"nodes[{index}]"),
                f"node {node.id!r} is on a loop, so a path may never reach an ending",
            )
