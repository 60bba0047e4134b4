"""A statement cut down to the members progress counting reads, stored beside the statement.

The goal engine reads a handful of members of each statement (id, actor, verb id, object id,
type and objectType, timestamp or stored, the score, and three of our extensions). Decoding
the whole statement to find them cost more than the counting itself; the outbox stores this
summary with every row, so the engine decodes a few hundred bytes instead.

A summary has the shape of a statement (the same member names and nesting, with everything
else left out), so a reader of statements reads a summary the same way and gets the same
answer; `tests/unit/workers/test_goal_summary.py` holds the goal engine's reader to that.
Members are copied as they are, valid or not: judging them stays with the reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xapi import vocabulary

# Our extensions are rebased under each operator's IRI base (xapi.iris), so they are kept by
# what follows the placeholder base, as the goal engine recognises them.
_EXTENSION_ENDINGS = tuple(
    iri[len(vocabulary.CX_BASE) - 1 :]
    for iri in (vocabulary.PRACTICE_DATE, vocabulary.SKILL_SCORES, vocabulary.SKILL_RATINGS)
)


def summarize(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The members of ``statement`` that progress counting reads, in the statement's shape."""
    summary = {
        name: statement[name]
        for name in ("id", "actor", "timestamp", "stored")
        if name in statement
    }
    verb = statement.get("verb")
    if verb is not None:
        summary["verb"] = _pick(verb, ("id",))
    target = statement.get("object")
    if target is not None:
        kept = _pick(target, ("id", "objectType"))
        if isinstance(target, Mapping) and "definition" in target:
            kept["definition"] = _pick(target["definition"], ("type",))
        summary["object"] = kept
    context = statement.get("context")
    if isinstance(context, Mapping) and "extensions" in context:
        summary["context"] = {"extensions": _extensions(context["extensions"])}
    result = statement.get("result")
    if isinstance(result, Mapping):
        kept = {}
        if "score" in result:
            kept["score"] = _pick(result["score"], ("scaled",))
        if "extensions" in result:
            kept["extensions"] = _extensions(result["extensions"])
        summary["result"] = kept
    return summary


def _pick(value: Any, names: tuple[str, ...]) -> Any:
    # Anything but an object is kept whole: the reader rejects it as it would in the statement.
    if not isinstance(value, Mapping):
        return value
    return {name: value[name] for name in names if name in value}


def _extensions(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return {
        key: item
        for key, item in value.items()
        if isinstance(key, str) and key.endswith(_EXTENSION_ENDINGS)
    }
