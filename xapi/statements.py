"""Turns a ``LearningEvent`` into an xAPI 1.0.3 statement: ids, actor, the whole shape.

tincan builds the objects (it knows the property names and the duration format); the
result is then serialised to a plain JSON-ready dict, checked by ``validate_statement``
and returned. tincan has no type hints, so it is imported and used only in this module.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import tincan  # type: ignore[import-untyped]

from xapi import vocabulary
from xapi.errors import StatementError
from xapi.events import Activity, ActorFormat, Interaction, Learner, LearningEvent, Result
from xapi.iris import rebase
from xapi.validation import validate_statement

DEFAULT_PLATFORM = "CX Academy"

# WARNING: this is the whole statement-id recipe. A statement's id is
#
#     uuid5(installation namespace, source_id(kind, *facts))
#
# where the installation namespace is a random UUID made once per installation (at its
# first migration) and kept in its database, and the facts are globally unique: an LTI
# issuer, client_id, deployment id or sub, an activity IRI, a UUID the app generated (a
# launch, an attempt, a run). Never a database counter such as a platform row id: two
# installations (or a reinstalled one) both have a platform 1, and an LRS that already
# holds a statement under an id answers 409 to a *different* statement with that id, so
# the newer one is lost (xAPI 1.0.3 Part Three, 2.1.2). Conversely, changing this recipe
# or a kind's facts gives every past event a new id, so a re-send after the change is
# stored as a second statement instead of being recognised as a duplicate.
# tests/unit/xapi/test_statements.py and tests/data/source_ids.json pin known outputs.
#
# The same recipe makes context.registration from a registration source (the facts naming
# one learner's enrolment in one placement), salted with "registration" so a registration
# never equals a statement id. Changing it splits every learner's history in an LRS.


def source_id(kind: str, *facts: str | int | uuid.UUID) -> str:
    """The source id of an event: its kind and the globally unique facts that identify it.

    Facts are joined as a JSON array, so no fact can run into the next one (an issuer URL
    holds ":" and "/"; a sub may hold anything).
    """
    if not kind or not facts:
        raise StatementError("a source id needs a kind and at least one fact")
    if any(isinstance(fact, bool) or fact is None or str(fact) == "" for fact in facts):
        raise StatementError(f"source id facts for {kind!r} must be non-empty: {facts!r}")
    return json.dumps([kind, *(str(fact) for fact in facts)], ensure_ascii=False)


def statement_id(namespace: uuid.UUID, source: str) -> uuid.UUID:
    """The statement id for a source event in one installation: stable, so re-sends are
    idempotent, and distinct from every other installation's ids."""
    if not isinstance(namespace, uuid.UUID):
        raise StatementError("the statement namespace must be a uuid.UUID")
    if not source:
        raise StatementError("source_id must not be empty")
    return uuid.uuid5(namespace, source)


def registration_id(namespace: uuid.UUID, source: str) -> uuid.UUID:
    """The registration UUID of an enrolment in one installation (see the recipe above).

    cmi5 (section 3, Definitions, "Registration") means one learner's enrolment in a
    course, kept across sessions and attempts; here that is a learner in a placement.
    """
    if not isinstance(namespace, uuid.UUID):
        raise StatementError("the statement namespace must be a uuid.UUID")
    if not source:
        raise StatementError("a registration source must not be empty")
    return uuid.uuid5(namespace, json.dumps(["registration", source], ensure_ascii=False))


def build_statement(
    event: LearningEvent,
    *,
    namespace: uuid.UUID,
    actor_format: ActorFormat | None = None,
    platform: str = DEFAULT_PLATFORM,
    iri_base: str | None = None,
) -> dict[str, Any]:
    """Build the statement for ``event`` as a JSON-ready dict.

    ``namespace`` is the installation's statement namespace (see the recipe above).
    ``iri_base`` is the operator's base for the IRIs we mint (``xapi.iris``); without it
    they stay under the placeholder ``vocabulary.CX_BASE``. It never affects the id.
    The actor is identified as ``actor_format`` says, by default as the learner's own
    ``Learner.actor_format`` (an LTI account unless their platform chose otherwise).

    "version", "stored" and "authority" are left out: the LRS sets them (xAPI 1.0.3
    Part Two, 2.4.8-2.4.10). Raises ``StatementError`` when the event cannot make a valid
    statement (e.g. ``MBOX`` without an email, an extension key that is not an IRI).
    """
    try:
        statement = tincan.Statement(
            id=statement_id(namespace, event.source_id),
            actor=_agent(event.learner, actor_format or event.learner.actor_format),
            verb=tincan.Verb(
                id=event.verb.iri,
                display=tincan.LanguageMap({vocabulary.DISPLAY_LANGUAGE: event.verb.display}),
            ),
            object=_activity(event.object),
            context=_context(event, platform, namespace),
            timestamp=_utc(event.timestamp),
        )
        if event.result is not None:
            statement.result = _result(event.result)
        data: dict[str, Any] = statement.as_version("1.0.3")
    except (TypeError, ValueError) as err:
        # tincan raises plain TypeError/ValueError on values it cannot take.
        if isinstance(err, StatementError):
            raise
        raise StatementError(f"cannot build statement for {event.source_id!r}: {err}") from err

    # The LRS assigns the version (xAPI 1.0.3 Part Two, 2.4.10); tincan fills in its own.
    data.pop("version", None)
    # One canonical form: RFC 3339 in UTC with a "Z" and milliseconds, the precision an
    # LRS must keep (Part Two, 4.5). tincan's isoformat() would switch between
    # "+00:00" with and without microseconds, which makes golden files and equality
    # checks on re-sends brittle.
    data["timestamp"] = _format_timestamp(event.timestamp)
    _check_json(data, event.source_id)
    if iri_base is not None:
        data = rebase(data, iri_base)

    problems = validate_statement(data)
    if problems:
        raise StatementError(
            f"statement for {event.source_id!r} is not valid xAPI 1.0.3: " + "; ".join(problems)
        )
    return data


def activity_object(activity: Activity, iri_base: str | None = None) -> dict[str, Any]:
    """An activity as the JSON object a statement carries (id, definition), e.g. to serve
    at the activity's own IRI."""
    data: dict[str, Any] = _activity(activity).as_version("1.0.3")
    return rebase(data, iri_base) if iri_base is not None else data


def mbox(email: str) -> str:
    """The mailto IRI for an email, domain lower-cased (Part Two, 2.3.1: domains are case
    insensitive, and lower case is the recommended form)."""
    local, sep, domain = email.strip().rpartition("@")
    if not sep or not local or not domain:
        raise StatementError(f"not an email address: {email!r}")
    return f"mailto:{local}@{domain.lower()}"


def mbox_sha1sum(email: str) -> str:
    """SHA1 hex of the mailto IRI (Part Two, 2.4.2.3), so the same person hashed by another
    tool gives the same value."""
    # SHA1 is what the spec prescribes for this identifier, not a security choice.
    return hashlib.sha1(mbox(email).encode("utf-8"), usedforsecurity=False).hexdigest()


def _agent(learner: Learner, actor_format: ActorFormat) -> Any:
    fields: dict[str, Any] = {}
    if learner.name:
        fields["name"] = learner.name
    if actor_format is ActorFormat.ACCOUNT:
        fields["account"] = tincan.AgentAccount(home_page=learner.issuer, name=learner.sub)
    else:
        if not learner.email:
            raise StatementError(
                f"actor format {actor_format.value!r} needs the learner's email, and the "
                f"launch for sub {learner.sub!r} gave none; use ActorFormat.ACCOUNT"
            )
        if actor_format is ActorFormat.MBOX:
            fields["mbox"] = mbox(learner.email)
        else:
            fields["mbox_sha1sum"] = mbox_sha1sum(learner.email)
    return tincan.Agent(**fields)


def _activity(activity: Activity) -> Any:
    definition: dict[str, Any] = {
        "name": tincan.LanguageMap({activity.language: activity.name}),
        "type": activity.type,
    }
    if activity.description:
        definition["description"] = tincan.LanguageMap({activity.language: activity.description})
    if activity.interaction is not None:
        definition.update(_interaction(activity.interaction, activity.language))
    return tincan.Activity(id=activity.id, definition=tincan.ActivityDefinition(**definition))


def _interaction(interaction: Interaction, language: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"interaction_type": interaction.interaction_type}
    if interaction.correct_responses:
        fields["correct_responses_pattern"] = list(interaction.correct_responses)
    for name in ("choices", "source", "target", "scale", "steps"):
        components = getattr(interaction, name)
        if components:
            fields[name] = tincan.InteractionComponentList(
                [
                    tincan.InteractionComponent(
                        id=component_id, description=tincan.LanguageMap({language: text})
                    )
                    for component_id, text in components
                ]
            )
    return fields


def _context(event: LearningEvent, platform: str, namespace: uuid.UUID) -> Any:
    activities: dict[str, Any] = {
        # Part Two, 2.4.6.2: category SHOULD name the profile the statement follows.
        "category": tincan.ActivityList(
            [
                tincan.Activity(
                    id=vocabulary.PROFILE_VERSION_IRI,
                    definition=tincan.ActivityDefinition(type=vocabulary.PROFILE),
                ),
                *(_activity(a) for a in event.categories),
            ]
        )
    }
    if event.parents:
        activities["parent"] = tincan.ActivityList([_activity(a) for a in event.parents])
    if event.grouping:
        activities["grouping"] = tincan.ActivityList([_activity(a) for a in event.grouping])
    extensions = dict(event.extensions)
    if event.content_version is not None:
        extensions[vocabulary.CONTENT_VERSION] = event.content_version
    context = tincan.Context(
        context_activities=tincan.ContextActivities(**activities), platform=platform
    )
    if event.registration is not None:
        context.registration = event.registration
    elif event.registration_source is not None:
        context.registration = registration_id(namespace, event.registration_source)
    if event.language:
        context.language = event.language
    if extensions:
        context.extensions = tincan.Extensions(extensions)
    return context


def _result(result: Result) -> Any:
    fields: dict[str, Any] = {}
    if result.has_score:
        score = {
            key: value
            for key, value in (
                ("raw", result.score_raw),
                ("min", result.score_min),
                ("max", result.score_max),
                ("scaled", result.score_scaled),
            )
            if value is not None
        }
        fields["score"] = tincan.Score(**score)
    for key in ("success", "completion", "duration", "response"):
        value = getattr(result, key)
        if value is not None:
            fields[key] = value
    if result.extensions:
        fields["extensions"] = tincan.Extensions(dict(result.extensions))
    return tincan.Result(**fields)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StatementError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _format_timestamp(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_json(data: Mapping[str, Any], source_id: str) -> None:
    # Extension values come from callers; catch a datetime or a set here, with the event
    # named, rather than at send time in a worker.
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise StatementError(
            f"statement for {source_id!r} is not JSON-serialisable: {err}"
        ) from err
