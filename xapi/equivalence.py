"""Whether two serialisations are the same xAPI statement (xAPI 1.0.3 Part Two 2.3.1).

An LRS that answers 409 to a statement id it already holds may hold *this* statement (a
re-send after a lost answer) or a different one that happens to carry the same id. The
spec's "Statement Comparison Requirements" (Part Two 2.3.1) say how to tell: ignore every
difference that the exceptions to statement immutability allow, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["statement_differences"]

# Part Two 2.3.1, first exception: properties the LRS may assign while processing.
# "timestamp" is only the LRS's to assign when the statement came without one (2.4.7).
_LRS_ASSIGNED = frozenset({"id", "authority", "stored", "version"})


def statement_differences(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """The top-level properties in which the LRS's copy differs from ours; [] if the same.

    ``ours`` is what we sent, ``theirs`` what the LRS returns for the same id.
    """
    left = _normalised_statement(ours)
    right = _normalised_statement(theirs)
    if "timestamp" not in ours:
        # The LRS stamped it on arrival (2.4.7): not part of what we asserted.
        right.pop("timestamp", None)
    return sorted(key for key in set(left) | set(right) if left.get(key) != right.get(key))


def _normalised_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in statement.items():
        # Attachments are not part of the statement (2.3.1, sixth exception).
        if key in _LRS_ASSIGNED or key == "attachments":
            continue
        if key == "timestamp":
            result[key] = _instant(value)
        elif key == "actor":
            result[key] = _agent(value, default_type="Agent")
        elif key == "verb":
            result[key] = _verb(value)
        elif key == "object":
            result[key] = _object(value)
        elif key == "context":
            result[key] = _context(value)
        else:
            # result (duration compared as a string: 2.3.1 says it is not an exception).
            result[key] = value
    return result


def _instant(value: Any) -> Any:
    # Serialisation of a timestamp is not part of the statement (2.3.1, fourth exception):
    # the same instant in another zone or with trailing zeros is equal.
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return value
    return parsed.astimezone(UTC)


def _verb(value: Any) -> Any:
    # The verb's "display" is not part of the statement (2.3.1, third exception).
    if not isinstance(value, Mapping):
        return value
    return {k: v for k, v in value.items() if k != "display"}


def _agent(value: Any, *, default_type: str) -> Any:
    if not isinstance(value, Mapping):
        return value
    agent = dict(value)
    # objectType is optional for an actor and means Agent when absent (2.4.2.1).
    agent.setdefault("objectType", default_type)
    mbox = agent.get("mbox")
    if isinstance(mbox, str) and "@" in mbox:
        # The domain of an e-mail address is case-insensitive (2.3.1, seventh exception).
        local, _, domain = mbox.rpartition("@")
        agent["mbox"] = f"{local}@{domain.lower()}"
    members = agent.get("member")
    if isinstance(members, list):
        # Group members are an unordered list (2.3.1, fifth exception).
        normalised = [_agent(m, default_type="Agent") for m in members]
        agent["member"] = sorted(normalised, key=lambda m: json.dumps(m, sort_keys=True))
    return agent


def _activity(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    # An Activity's definition is not part of the statement (2.3.1, second exception);
    # objectType is optional and means Activity when absent (2.4.4.1).
    activity = {k: v for k, v in value.items() if k != "definition"}
    activity.setdefault("objectType", "Activity")
    return activity


def _object(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    kind = value.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        return _agent(value, default_type=str(kind))
    if kind == "StatementRef":
        return {**value, "id": str(value.get("id", "")).lower()}
    if kind == "SubStatement":
        return _normalised_statement(value)
    return _activity(value)


def _context(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    context = dict(value)
    registration = context.get("registration")
    if isinstance(registration, str):
        context["registration"] = registration.lower()  # a UUID: case is not significant
    activities = context.get("contextActivities")
    if isinstance(activities, Mapping):
        normalised: dict[str, Any] = {}
        for kind, listed in activities.items():
            # A single Activity and a one-element array are the same (Part Two 2.4.6.2:
            # the LRS returns arrays).
            items = listed if isinstance(listed, list) else [listed]
            normalised[kind] = [_activity(item) for item in items]
        context["contextActivities"] = normalised
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _agent(context[key], default_type="Agent")
    return context
