"""The domain-event interface: what the app records for every learner action.

The app describes *what happened* with these frozen dataclasses; ``statements`` turns
them into xAPI. Nothing here knows about tincan or HTTP, so callers and tests can build
events without either.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from xapi.errors import StatementError
from xapi.vocabulary import Verb

INTERACTION_TYPES: frozenset[str] = frozenset(
    {
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    }
)
"""The interactionType values xAPI 1.0.3 allows (Part Two, 2.4.4.1, "Interaction Types")."""

Components = tuple[tuple[str, str], ...]
"""Interaction components as (id, description) pairs, in display order."""


class ActorFormat(StrEnum):
    """How a learner is identified in statements (xAPI 1.0.3 Part Two, 2.4.2.3).

    ``ACCOUNT`` (homePage = LTI issuer, name = LTI sub) is the default: it is stable across
    email changes and reveals no personal data. ``MBOX`` and ``MBOX_SHA1SUM`` exist for
    LRSs that join statements from other tools on email.
    """

    ACCOUNT = "account"
    MBOX = "mbox"
    MBOX_SHA1SUM = "mbox_sha1sum"


@dataclass(frozen=True)
class Learner:
    """Who acted: the LTI issuer and subject, plus optional name and email from the launch.

    ``actor_format`` is how the learner's platform wants them identified in statements.
    """

    issuer: str
    sub: str
    name: str | None = None
    email: str | None = None
    actor_format: ActorFormat = ActorFormat.ACCOUNT


@dataclass(frozen=True)
class Interaction:
    """Question details for an interaction activity (xAPI 1.0.3 Part Two, 2.4.4.1).

    Component lists are (id, description) pairs. ``correct_responses`` holds response
    patterns in the xAPI format (choice ids joined by ``[,]``, matching pairs as
    ``source[.]target``); empty means "not given", and the property is then omitted, which
    xAPI reads as "any answer is correct".
    """

    interaction_type: str
    choices: Components = ()
    correct_responses: tuple[str, ...] = ()
    source: Components = ()
    target: Components = ()
    scale: Components = ()
    steps: Components = ()

    def __post_init__(self) -> None:
        if self.interaction_type not in INTERACTION_TYPES:
            raise StatementError(
                f"interaction_type {self.interaction_type!r} is not one of "
                f"{sorted(INTERACTION_TYPES)} (xAPI 1.0.3 Part Two, 2.4.4.1)"
            )


@dataclass(frozen=True)
class Activity:
    """Something the learner interacted with: course, lesson, question, scenario, goal.

    ``id`` must be an IRI the tool controls (see ``vocabulary.activity_iri``); ``type`` is
    an activity type from ``vocabulary``. ``language`` is the language ``name`` and
    ``description`` are written in, used as their language-map key.
    """

    id: str
    type: str
    name: str
    description: str | None = None
    interaction: Interaction | None = None
    language: str = "en-US"


@dataclass(frozen=True)
class Result:
    """The measured outcome of an event (xAPI 1.0.3 Part Two, 2.4.5)."""

    score_raw: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    score_scaled: float | None = None
    success: bool | None = None
    completion: bool | None = None
    duration: timedelta | None = None
    response: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.duration is not None and self.duration < timedelta(0):
            raise StatementError("Result.duration must not be negative")

    @property
    def has_score(self) -> bool:
        """True when any score part is set, so a "score" object is due."""
        return any(
            v is not None
            for v in (self.score_raw, self.score_min, self.score_max, self.score_scaled)
        )


@dataclass(frozen=True)
class LearningEvent:
    """One learner action, everything needed to build its statement.

    ``source_id`` identifies the event by globally unique facts (``statements.source_id``
    makes it); the statement id is derived from it, so re-sending the same event never
    duplicates it.

    ``registration_source`` names the learner's enrolment the same way (the cmi5 meaning of
    a registration: one learner in one placement, across sessions and attempts);
    ``build_statement`` derives context.registration from it in the installation's
    namespace. Give it or a ready-made ``registration``, not both. ``categories`` are tags
    (e.g. ``vocabulary.STAFF``) added to context.contextActivities.category beside the
    profile.
    """

    source_id: str
    verb: Verb
    learner: Learner
    object: Activity
    timestamp: datetime
    registration: uuid.UUID | None = None
    registration_source: str | None = None
    parents: tuple[Activity, ...] = ()
    grouping: tuple[Activity, ...] = ()
    categories: tuple[Activity, ...] = ()
    result: Result | None = None
    language: str | None = None
    content_version: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.source_id:
            raise StatementError("LearningEvent.source_id must not be empty")
        # A naive datetime is ambiguous (server local time? UTC?); refusing it here stops
        # a statement from being recorded hours off (xAPI 1.0.3 Part Two, 4.5).
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise StatementError(
                "LearningEvent.timestamp must be timezone-aware, got a naive datetime"
            )
        if self.registration is not None and not isinstance(self.registration, uuid.UUID):
            raise StatementError("LearningEvent.registration must be a uuid.UUID")
        if self.registration is not None and self.registration_source is not None:
            raise StatementError(
                "LearningEvent takes a registration or a registration_source, not both"
            )
        if self.registration_source == "":
            raise StatementError("LearningEvent.registration_source must not be empty")
