"""Typed shapes of the curriculum: courses, lessons, question banks, scenarios, skills, goals."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from content.reading import lesson_minutes

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
# Semantic Versioning 2.0.0 core plus an optional pre-release tag; build metadata is
# left out because it must not change meaning and so has no place in content.
SemVer = Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
SeedId = Annotated[str, StringConstraints(pattern=r"^\d{3}_[0-9a-f]{16}$")]


class Model(BaseModel):
    """Base for every content shape: unknown keys are typos, and loaded content is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(Model):
    """An addressable piece of the curriculum with a stable slug and the version it ships in."""

    kind: ClassVar[str]
    id: Slug
    # Inherited from the file that ships the item (the course for course content), so a
    # learner's record can say which wording of a question they answered.
    content_version: SemVer


# --- source material ----------------------------------------------------------------


class SourceRef(Model):
    """A seed chapter and one of its section headings that a lesson draws on."""

    seed: SeedId
    section: Text


class SeedChapter(Model):
    """One source chapter, identified by its file name without extension."""

    id: SeedId
    title: Text
    sections: list[Text] = Field(min_length=1)


class SeedIndex(Model):
    """The list of source chapters the curriculum must cover."""

    seeds: list[SeedChapter] = Field(min_length=1)


# --- skills ---------------------------------------------------------------------------


class Skill(Item):
    """A capability that questions, scenario choices, goals and the self-assessment measure."""

    kind: ClassVar[str] = "skill"
    name: Text
    description: Text


class SkillsFile(Model):
    content_version: SemVer
    skills: list[Skill] = Field(min_length=1)


# --- questions ------------------------------------------------------------------------


class Option(Model):
    """One answer option; feedback is shown whether or not the learner picked it."""

    id: Slug
    text: Text
    correct: bool = False
    feedback: Text


class OrderItem(Model):
    """A step of an ordering question; authors list steps in their correct order."""

    id: Slug
    text: Text
    feedback: Text


class MatchPair(Model):
    """A prompt and the answer it belongs with; the learner sees the answers shuffled."""

    id: Slug
    prompt: Text
    match: Text
    feedback: Text


class QuestionBase(Item):
    kind: ClassVar[str] = "question"
    skill: Slug
    prompt: Text


class SingleChoiceQuestion(QuestionBase):
    type: Literal["single_choice"]
    options: list[Option] = Field(min_length=2)


class MultipleResponseQuestion(QuestionBase):
    type: Literal["multiple_response"]
    options: list[Option] = Field(min_length=3)


class TrueFalseQuestion(QuestionBase):
    type: Literal["true_false"]
    options: list[Option] = Field(min_length=2, max_length=2)


class ScenarioJudgementQuestion(QuestionBase):
    """A short customer situation and the best of several possible responses."""

    type: Literal["scenario_judgement"]
    situation: Text
    options: list[Option] = Field(min_length=2)


class OrderingQuestion(QuestionBase):
    type: Literal["ordering"]
    items: list[OrderItem] = Field(min_length=3)


class MatchingQuestion(QuestionBase):
    type: Literal["matching"]
    pairs: list[MatchPair] = Field(min_length=3)


ChoiceQuestion = (
    SingleChoiceQuestion | MultipleResponseQuestion | TrueFalseQuestion | ScenarioJudgementQuestion
)
Question = Annotated[
    SingleChoiceQuestion
    | MultipleResponseQuestion
    | TrueFalseQuestion
    | ScenarioJudgementQuestion
    | OrderingQuestion
    | MatchingQuestion,
    Field(discriminator="type"),
]
QUESTION_TYPES = (
    "single_choice",
    "multiple_response",
    "true_false",
    "ordering",
    "matching",
    "scenario_judgement",
)
# Types where the learner picks one option, so exactly one option may be correct.
SINGLE_ANSWER_TYPES = frozenset({"single_choice", "true_false", "scenario_judgement"})


class QuestionBank(Item):
    """A pool of questions that lesson knowledge checks and quizzes draw from."""

    kind: ClassVar[str] = "question-bank"
    title: Text
    questions: list[Question] = Field(min_length=1)


# --- courses --------------------------------------------------------------------------


# How a quiz scores questions that have parts (multiple response, ordering, matching);
# docs/decisions/0019-scoring-policy.md says why all-or-nothing is the default.
Credit = Literal["all_or_nothing", "partial"]
ALL_OR_NOTHING: Credit = "all_or_nothing"
PARTIAL: Credit = "partial"
CREDIT_POLICIES: frozenset[str] = frozenset({ALL_OR_NOTHING, PARTIAL})


class Quiz(Item):
    """A graded attempt: ``draw`` questions picked from the banks, passed at ``pass_mark``."""

    kind: ClassVar[str] = "quiz"
    title: Text
    banks: list[Slug] = Field(min_length=1)
    draw: int = Field(ge=1)
    # Scaled score (0..1) needed to pass; the same number goes to the LMS gradebook.
    pass_mark: float = Field(ge=0.0, le=1.0)
    attempts: int = Field(ge=1)
    # A quiz, not a bank, says how parts count: banks also feed ungraded knowledge checks,
    # and what a pass mark means depends on how each question is scored.
    credit: Credit = ALL_OR_NOTHING


class Lesson(Item):
    """A Markdown lesson; front matter carries everything but the body."""

    kind: ClassVar[str] = "lesson"
    title: Text
    summary: Text
    objectives: list[Text] = Field(min_length=1)
    sources: list[SourceRef] = Field(min_length=1)
    knowledge_check: list[Slug]
    body: Text

    @property
    def estimated_minutes(self) -> int:
        """Minutes to read the lesson and answer its check, from the word count
        (content.reading); authors no longer state it, so an edit cannot leave it stale."""
        return lesson_minutes(self.body, len(self.knowledge_check))


class Module(Item):
    kind: ClassVar[str] = "module"
    title: Text
    summary: Text
    lessons: list[Slug] = Field(min_length=1)
    quiz: Quiz | None = None


class Course(Item):
    kind: ClassVar[str] = "course"
    title: Text
    summary: Text
    audience: Text
    modules: list[Module] = Field(min_length=1)
    quiz: Quiz | None = None
    scenarios: list[Slug] = Field(default_factory=list)
    #: Courses to take before this one; they set the learning-path order learners see
    #: (Catalog.list_courses_in_path), foundations first.
    prerequisites: list[Slug] = Field(default_factory=list)


# --- scenarios ------------------------------------------------------------------------


class Choice(Model):
    """Something the agent can say; ``scores`` rates it per skill from 0 (poor) to 2 (strong)."""

    id: Slug
    text: Text
    feedback: Text
    next: Slug
    scores: dict[Slug, Annotated[int, Field(ge=0, le=2)]]


class DecisionNode(Model):
    type: Literal["decision"]
    id: Slug
    customer: Text
    narration: str | None = None
    choices: list[Choice] = Field(min_length=2)


class EndingNode(Model):
    type: Literal["ending"]
    id: Slug
    outcome: Literal["resolved", "partly_resolved", "unresolved"]
    customer: Text
    debrief: Text


ScenarioNode = Annotated[DecisionNode | EndingNode, Field(discriminator="type")]


class Customer(Model):
    name: Text
    situation: Text


class Scenario(Item):
    """A branching customer conversation scored per skill and closed by a debrief."""

    kind: ClassVar[str] = "scenario"
    title: Text
    summary: Text
    skills: list[Slug] = Field(min_length=1)
    customer: Customer
    start: Slug
    nodes: list[ScenarioNode] = Field(min_length=2)

    def node(self, node_id: str) -> DecisionNode | EndingNode | None:
        return next((node for node in self.nodes if node.id == node_id), None)


# --- goals and self-assessment ----------------------------------------------------------


class Milestone(Model):
    """A point worth celebrating, as a fraction of the goal's target."""

    at: float = Field(gt=0.0, le=1.0)
    label: Text


MetricKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
ParamValue = bool | int | float | str
# What a metric parameter holds; content.goals checks a value against its type.
ParameterType = Literal["skill", "course", "practice_kind", "number", "integer", "iri"]


class MetricParameter(Model):
    """One setting of a metric (a skill, a minimum score, a practice kind, ...)."""

    name: MetricKey
    type: ParameterType
    label: Text
    # Bounds for number and integer parameters, inclusive.
    min: float | None = None
    max: float | None = None
    required: bool = True
    # Shown as a percentage in words: a scaled score of 0.8 reads "80%".
    percent: bool = False


class Metric(Model):
    """A way a goal's progress is measured; the goal engine counts the automatic ones.

    ``measure`` describes a goal's measure in words, with ``{name}`` standing for each
    parameter's value (a skill's name, a course title, a practice kind's label).
    """

    key: MetricKey
    label: Text
    measure: Text
    unit: Text
    automatic: bool
    parameters: list[MetricParameter] = Field(default_factory=list)


class PracticeKind(Model):
    """Practice done outside the courses that a learner logs (seeds 000, 001, 004)."""

    id: Slug
    label: Text
    skill: Slug


class GoalTemplate(Item):
    """A SMART goal a learner can adopt: specific action, measurable target, time frame, skill.

    ``metric`` and ``metric_params`` say how progress is counted (content.goals); a
    template whose measure no metric captures is ``self_reported``.
    """

    kind: ClassVar[str] = "goal-template"
    skill: Slug
    title: Text
    specific: Text
    measure: Text
    target: float = Field(gt=0)
    unit: Text
    timeframe_days: int = Field(ge=1, le=365)
    check_in_days: int = Field(ge=1, le=90)
    relevance: Text
    milestones: list[Milestone] = Field(min_length=1)
    metric: MetricKey = "self_reported"
    metric_params: dict[str, ParamValue] = Field(default_factory=dict)


class GoalsFile(Model):
    content_version: SemVer
    metrics: list[Metric] = Field(min_length=1)
    practice_kinds: list[PracticeKind] = Field(min_length=1)
    templates: list[GoalTemplate] = Field(min_length=1)


class Statement(Model):
    id: Slug
    skill: Slug
    text: Text


class Rule(Model):
    """Recommend ``modules`` when the average rating for ``skill`` is at most ``threshold``."""

    skill: Slug
    threshold: float
    modules: list[Slug] = Field(min_length=1)
    advice: Text


class RatingScale(Model):
    min: int = 1
    max: int = 5
    labels: dict[int, Text]


class SelfAssessment(Item):
    """A skills gap analysis: the learner rates statements, rules turn low skills into modules."""

    kind: ClassVar[str] = "self-assessment"
    title: Text
    intro: Text
    scale: RatingScale
    statements: list[Statement] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)
