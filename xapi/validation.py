"""Strict checks of a statement against xAPI 1.0.3, our gate before anything is sent.

Many LRSs (Ralph among them) accept statements the spec forbids, so an LRS saying 200 is
no proof of validity. ``validate_statement`` is deliberately stricter than the spec's
MUSTs in a few places, each marked "stricter than the spec" below, because what we send
should be readable by *every* conformant LRS and report.

Section numbers refer to xAPI 1.0.3 Part Two (xAPI-Data.md) unless said otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from xapi.events import INTERACTION_TYPES

STATEMENT_KEYS = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
# 2.4.4.3: a SubStatement has no id, stored, version or authority, and names its type.
SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
AGENT_KEYS = frozenset({"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"})
GROUP_KEYS = AGENT_KEYS | {"member"}
IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
ACCOUNT_KEYS = frozenset({"homePage", "name"})
VERB_KEYS = frozenset({"id", "display"})
ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
STATEMENT_REF_KEYS = frozenset({"objectType", "id"})
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
DEFINITION_KEYS = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "interactionType",
        "correctResponsesPattern",
        "extensions",
        *COMPONENT_LISTS,
    }
)
COMPONENT_KEYS = frozenset({"id", "description"})
RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
CONTEXT_KEYS = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})
ATTACHMENT_KEYS = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)

# 2.4.4.1, "Interaction Components": which component lists each interactionType supports.
ALLOWED_COMPONENT_LISTS: Mapping[str, frozenset[str]] = {
    "choice": frozenset({"choices"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
    "true-false": frozenset(),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "numeric": frozenset(),
    "other": frozenset(),
}

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
_SHA1_HEX = re.compile(r"^[0-9a-fA-F]{40}$")
_MAILTO = re.compile(r"^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# RFC 3987 forbids these in an IRI anywhere (they must be percent-encoded).
_IRI_FORBIDDEN = re.compile(r"[\s<>\"{}|\\^`\x00-\x1f\x7f]")
# RFC 5646 section 2.1 "langtag" and "privateuse" productions, with two narrowings
# (stricter than the spec): the irregular grandfathered tags (i-klingon, ...) are
# deprecated, and 4-8 letter primary subtags are reserved or unregistered in the IANA
# registry, so such a tag is a mistake like "english" rather than a language.
_LANGTAG = re.compile(
    r"""^(?:
        [A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}                         # language (+ extlang)
        (?:-[A-Za-z]{4})?                                          # script
        (?:-(?:[A-Za-z]{2}|[0-9]{3}))?                             # region
        (?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*             # variants
        (?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*              # extensions
        (?:-[xX](?:-[A-Za-z0-9]{1,8})+)?                           # private use
      | [xX](?:-[A-Za-z0-9]{1,8})+                                 # private use only
    )$""",
    re.VERBOSE,
)
# 4.6: the ISO 8601:2004 4.4.3.2 duration format ("PnYnMnDTnHnMnS" or "PnW"); the
# alternative format (P0003-04-06T12:30:05) MUST NOT be used.
_N = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"^P(?:{_N}W|(?=\d|T\d)(?:{_N}Y)?(?:{_N}M)?(?:{_N}D)?(?:T(?=\d)(?:{_N}H)?(?:{_N}M)?(?:{_N}S)?)?)$"
)
# 4.5 asks for ISO 8601 and recommends RFC 3339; we require RFC 3339 section 5.6 with an
# explicit offset (stricter than the spec, whose time zone is a SHOULD): a zone-less
# timestamp means different instants to different readers.
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$"
)
_VERSION = re.compile(r"^1\.0(?:\.\d+)?$")
_NUMERIC_BOUND = re.compile(r"^-?\d+(?:\.\d+)?$")
_CHARSTRING_PARAM = re.compile(r"^\{(?:case_matters|order_matters)=(?:true|false)\}")


def validate_statement(statement: Mapping[str, Any]) -> list[str]:
    """Return every way ``statement`` breaks xAPI 1.0.3; an empty list means valid.

    Each problem reads ``"<JSON path>: <what is wrong> (<spec section>)"``, e.g.
    ``"actor.mbox: must be a mailto: IRI with an email address (2.4.2.3)"``.
    """
    checker = _Checker()
    if not isinstance(statement, Mapping):
        checker.add("", "a statement must be a JSON object (2.2)")
        return checker.problems
    checker.nulls(statement, "")
    checker.statement(statement, "", substatement=False)
    return checker.problems


def is_iri(value: object) -> bool:
    """True for an absolute IRI: a scheme, something after it, nothing forbidden (4.3)."""
    return (
        isinstance(value, str)
        and _SCHEME.match(value) is not None
        and len(value) > len(value.split(":", 1)[0]) + 1
        and _IRI_FORBIDDEN.search(value) is None
    )


def is_irl(value: object) -> bool:
    """True for an IRI that locates something: http(s) with a host (4.3, "IRL")."""
    if not is_iri(value):
        return False
    assert isinstance(value, str)  # narrowed by is_iri; kept for the type checker
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_uuid(value: object) -> bool:
    """True for a hyphenated RFC 4122 UUID string (4.4)."""
    return isinstance(value, str) and _UUID.match(value) is not None


def is_language_tag(value: object) -> bool:
    """True for an RFC 5646 language tag (4.2; 2.2 LRS MUST check its token lengths)."""
    return isinstance(value, str) and _LANGTAG.match(value) is not None


def is_duration(value: object) -> bool:
    """True for an ISO 8601 duration in the 4.4.3.2 format (4.6)."""
    return isinstance(value, str) and _DURATION.match(value) is not None


def is_timestamp(value: object) -> bool:
    """True for an RFC 3339 timestamp with an explicit UTC offset (4.5)."""
    if not isinstance(value, str) or _TIMESTAMP.match(value) is None:
        return False
    # RFC 3339 section 4.3: "-00:00" means "offset unknown", the very thing we refuse.
    if value.endswith("-00:00"):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:  # e.g. month 13 or hour 25: the shape is right, the date is not
        return False
    return True


def _is_number(value: object) -> bool:
    # JSON true/false are bools, which Python also counts as ints (2.2: no strings or
    # booleans where numbers are required).
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    """Walks one statement and collects problems; one method per xAPI object kind."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '(statement)'}: {message}")

    # -- generic shapes -------------------------------------------------------------

    def nulls(self, value: object, path: str) -> None:
        """2.2: the LRS MUST reject any null value, except inside extensions."""
        if value is None:
            self.add(path, "null is not allowed outside extensions (2.2)")
        elif isinstance(value, Mapping):
            for key, child in value.items():
                if key != "extensions":
                    self.nulls(child, _key(path, key))
        elif isinstance(value, list):
            for i, child in enumerate(value):
                self.nulls(child, _index(path, i))

    def object_with(self, value: object, path: str, allowed: frozenset[str], what: str) -> bool:
        """Check ``value`` is a JSON object with no keys beyond ``allowed``.

        2.2: keys not allowed by the spec MUST be rejected; that is also how a misspelt
        key (wrong case, 2.2 again) shows up.
        """
        if not isinstance(value, Mapping):
            self.add(path, f"{what} must be a JSON object (2.2)")
            return False
        for key in value:
            if key not in allowed:
                self.add(_key(path, str(key)), f"unknown property in {what} (2.2)")
        return True

    def iri(self, value: object, path: str, section: str) -> None:
        if not is_iri(value):
            self.add(path, f"must be an absolute IRI, got {value!r} ({section}, 4.3)")

    def irl(self, value: object, path: str, section: str) -> None:
        if not is_irl(value):
            self.add(path, f"must be an http(s) IRL, got {value!r} ({section}, 4.3)")

    def uuid(self, value: object, path: str, section: str) -> None:
        if not is_uuid(value):
            self.add(path, f"must be a UUID, got {value!r} ({section}, 4.4)")

    def string(self, value: object, path: str, section: str) -> None:
        if not isinstance(value, str):
            self.add(path, f"must be a string ({section})")

    def boolean(self, value: object, path: str, section: str) -> None:
        if not isinstance(value, bool):
            self.add(path, f"must be true or false ({section}, 2.2)")

    def language_map(self, value: object, path: str, section: str) -> None:
        """4.2: keys are RFC 5646 tags, values strings."""
        if not isinstance(value, Mapping):
            self.add(path, f"must be a language map object ({section}, 4.2)")
            return
        for tag, text in value.items():
            if not is_language_tag(tag):
                self.add(_key(path, str(tag)), "key is not an RFC 5646 language tag (4.2)")
            if not isinstance(text, str):
                self.add(_key(path, str(tag)), "language map values must be strings (4.2)")

    def extensions(self, value: object, path: str) -> None:
        """4.1: an object whose keys are IRIs; values are free JSON."""
        if not isinstance(value, Mapping):
            self.add(path, "extensions must be a JSON object (4.1)")
            return
        for key in value:
            if not is_iri(key):
                self.add(_key(path, str(key)), "extension keys must be IRIs (4.1)")

    def timestamp(self, value: object, path: str, section: str) -> None:
        if not is_timestamp(value):
            self.add(
                path,
                f"must be an ISO 8601 / RFC 3339 timestamp with a time zone, got {value!r} "
                f"({section}, 4.5)",
            )

    # -- statement ------------------------------------------------------------------

    def statement(self, stmt: Mapping[str, Any], path: str, *, substatement: bool) -> None:
        allowed = SUBSTATEMENT_KEYS if substatement else STATEMENT_KEYS
        self.object_with(stmt, path, allowed, "SubStatement" if substatement else "Statement")
        for required in ("actor", "verb", "object"):
            if required not in stmt:
                self.add(_key(path, required), "is required (2.2)")
        if "id" in stmt:
            self.uuid(stmt["id"], _key(path, "id"), "2.4.1")
        if "actor" in stmt:
            self.actor(stmt["actor"], _key(path, "actor"), "2.4.2")
        if "verb" in stmt:
            self.verb(stmt["verb"], _key(path, "verb"))
        if "object" in stmt:
            self.statement_object(stmt["object"], _key(path, "object"), substatement)
        if "result" in stmt:
            self.result(stmt["result"], _key(path, "result"), stmt.get("object"))
        if "context" in stmt:
            self.context(stmt["context"], _key(path, "context"), stmt.get("object"))
        if "timestamp" in stmt:
            self.timestamp(stmt["timestamp"], _key(path, "timestamp"), "2.4.7")
        if "stored" in stmt:
            self.timestamp(stmt["stored"], _key(path, "stored"), "2.4.8")
        if "authority" in stmt:
            self.actor(stmt["authority"], _key(path, "authority"), "2.4.9")
        if "version" in stmt and not (
            isinstance(stmt["version"], str) and _VERSION.match(stmt["version"])
        ):
            self.add(_key(path, "version"), "must be a 1.0.x version string (2.4.10)")
        if "attachments" in stmt:
            self.attachments(stmt["attachments"], _key(path, "attachments"))
        verb = stmt.get("verb")
        obj = stmt.get("object")
        if (
            isinstance(verb, Mapping)
            and verb.get("id") == VOIDED
            and not (isinstance(obj, Mapping) and obj.get("objectType") == "StatementRef")
        ):
            self.add(
                _key(path, "object"), "a voiding statement's object must be a StatementRef (2.3.2)"
            )

    # -- actor ----------------------------------------------------------------------

    def actor(self, actor: object, path: str, section: str) -> None:
        if not isinstance(actor, Mapping):
            self.add(path, f"must be an Agent or Group object ({section})")
            return
        object_type = actor.get("objectType", "Agent")
        if object_type == "Group":
            self.group(actor, path)
        elif object_type == "Agent":
            self.agent(actor, path)
        else:
            self.add(
                _key(path, "objectType"), f"must be 'Agent' or 'Group', got {object_type!r} (2.4.2)"
            )

    def agent(self, agent: Mapping[str, Any], path: str) -> None:
        """2.4.2.1: an Agent has exactly one Inverse Functional Identifier."""
        self.object_with(agent, path, AGENT_KEYS, "Agent")
        ifis = [k for k in IFI_KEYS if k in agent]
        if len(ifis) != 1:
            self.add(
                path,
                f"an Agent must have exactly one of {', '.join(IFI_KEYS)}; found "
                f"{len(ifis)} ({', '.join(ifis) or 'none'}) (2.4.2.1, 2.4.2.3)",
            )
        self.ifis(agent, path)

    def group(self, group: Mapping[str, Any], path: str) -> None:
        """2.4.2.2: anonymous groups list members; identified groups have one IFI."""
        self.object_with(group, path, GROUP_KEYS, "Group")
        ifis = [k for k in IFI_KEYS if k in group]
        if len(ifis) > 1:
            self.add(
                path, f"a Group must not have more than one IFI; found {', '.join(ifis)} (2.4.2.2)"
            )
        members = group.get("member")
        if not ifis and (not isinstance(members, list) or not members):
            self.add(_key(path, "member"), "an anonymous Group must list its members (2.4.2.2)")
        if "member" in group:
            if not isinstance(members, list):
                self.add(_key(path, "member"), "must be an array of Agents (2.4.2.2)")
            else:
                for i, member in enumerate(members):
                    member_path = _index(_key(path, "member"), i)
                    if isinstance(member, Mapping) and member.get("objectType") == "Group":
                        self.add(member_path, "a Group must not contain Groups (2.4.2.2)")
                    elif isinstance(member, Mapping):
                        self.agent(member, member_path)
                    else:
                        self.add(member_path, "must be an Agent object (2.4.2.2)")
        self.ifis(group, path)

    def ifis(self, actor: Mapping[str, Any], path: str) -> None:
        """2.4.2.3 formats of each IFI, and 2.4.2.4 for the account object."""
        if "name" in actor:
            self.string(actor["name"], _key(path, "name"), "2.4.2.1")
        if "mbox" in actor and not (
            isinstance(actor["mbox"], str) and _MAILTO.match(actor["mbox"])
        ):
            self.add(_key(path, "mbox"), "must be a mailto: IRI with an email address (2.4.2.3)")
        if "mbox_sha1sum" in actor and not (
            isinstance(actor["mbox_sha1sum"], str) and _SHA1_HEX.match(actor["mbox_sha1sum"])
        ):
            self.add(_key(path, "mbox_sha1sum"), "must be 40 hex digits of a SHA1 (2.4.2.3)")
        if "openid" in actor:
            self.iri(actor["openid"], _key(path, "openid"), "2.4.2.3")
        if "account" in actor:
            account = actor["account"]
            account_path = _key(path, "account")
            if self.object_with(account, account_path, ACCOUNT_KEYS, "account"):
                assert isinstance(account, Mapping)  # narrowed by object_with
                if "homePage" not in account:
                    self.add(_key(account_path, "homePage"), "is required (2.4.2.4)")
                else:
                    self.irl(account["homePage"], _key(account_path, "homePage"), "2.4.2.4")
                if not isinstance(account.get("name"), str) or not account.get("name"):
                    self.add(_key(account_path, "name"), "must be a non-empty string (2.4.2.4)")

    # -- verb -----------------------------------------------------------------------

    def verb(self, verb: object, path: str) -> None:
        if not self.object_with(verb, path, VERB_KEYS, "Verb"):
            return
        assert isinstance(verb, Mapping)
        if "id" not in verb:
            self.add(_key(path, "id"), "is required (2.4.3)")
        else:
            self.iri(verb["id"], _key(path, "id"), "2.4.3")
        if "display" in verb:
            self.language_map(verb["display"], _key(path, "display"), "2.4.3")

    # -- object ---------------------------------------------------------------------

    def statement_object(self, obj: object, path: str, in_substatement: bool) -> None:
        if not isinstance(obj, Mapping):
            self.add(path, "must be a JSON object (2.4.4)")
            return
        object_type = obj.get("objectType", "Activity")
        if object_type == "Activity":
            self.activity(obj, path)
        elif object_type in ("Agent", "Group"):
            # 2.4.4.2: an Agent or Group as object MUST say so in objectType.
            self.actor(obj, path, "2.4.4.2")
        elif object_type == "StatementRef":
            self.statement_ref(obj, path)
        elif object_type == "SubStatement":
            if in_substatement:
                self.add(path, "a SubStatement must not contain a SubStatement (2.4.4.3)")
            else:
                self.statement(obj, path, substatement=True)
        else:
            self.add(_key(path, "objectType"), f"unknown objectType {object_type!r} (2.4.4)")

    def statement_ref(self, ref: object, path: str) -> None:
        if not self.object_with(ref, path, STATEMENT_REF_KEYS, "StatementRef"):
            return
        assert isinstance(ref, Mapping)
        if ref.get("objectType") != "StatementRef":
            self.add(_key(path, "objectType"), "must be 'StatementRef' (2.4.4.3)")
        self.uuid(ref.get("id"), _key(path, "id"), "2.4.4.3")

    def activity(self, activity: object, path: str) -> None:
        if not self.object_with(activity, path, ACTIVITY_KEYS, "Activity"):
            return
        assert isinstance(activity, Mapping)
        if activity.get("objectType", "Activity") != "Activity":
            self.add(_key(path, "objectType"), "must be 'Activity' here (2.4.4.1)")
        if "id" not in activity:
            self.add(_key(path, "id"), "is required (2.4.4.1)")
        else:
            self.iri(activity["id"], _key(path, "id"), "2.4.4.1")
        if "definition" in activity:
            self.definition(activity["definition"], _key(path, "definition"))

    def definition(self, definition: object, path: str) -> None:
        if not self.object_with(definition, path, DEFINITION_KEYS, "Activity Definition"):
            return
        assert isinstance(definition, Mapping)
        for key in ("name", "description"):
            if key in definition:
                self.language_map(definition[key], _key(path, key), "2.4.4.1")
        if "type" in definition:
            self.iri(definition["type"], _key(path, "type"), "2.4.4.1")
        if "moreInfo" in definition:
            self.irl(definition["moreInfo"], _key(path, "moreInfo"), "2.4.4.1")
        if "extensions" in definition:
            self.extensions(definition["extensions"], _key(path, "extensions"))
        self.interaction(definition, path)

    def interaction(self, definition: Mapping[str, Any], path: str) -> None:
        """2.4.4.1 "Interaction Activities": type, component lists, response patterns."""
        interaction_type = definition.get("interactionType")
        lists_present = [k for k in COMPONENT_LISTS if k in definition]
        if interaction_type is None:
            if lists_present or "correctResponsesPattern" in definition:
                self.add(
                    _key(path, "interactionType"),
                    "is required when correctResponsesPattern or component lists are used "
                    "(2.4.4.1)",
                )
            return
        if interaction_type not in INTERACTION_TYPES:
            self.add(
                _key(path, "interactionType"),
                f"must be one of {sorted(INTERACTION_TYPES)}, got {interaction_type!r} (2.4.4.1)",
            )
            return
        allowed = ALLOWED_COMPONENT_LISTS[interaction_type]
        component_ids: dict[str, list[str]] = {}
        for name in lists_present:
            list_path = _key(path, name)
            if name not in allowed:
                self.add(
                    list_path,
                    f"is not a component list of a {interaction_type!r} interaction (2.4.4.1)",
                )
            component_ids[name] = self.components(definition[name], list_path)
        if "correctResponsesPattern" in definition:
            patterns = definition["correctResponsesPattern"]
            patterns_path = _key(path, "correctResponsesPattern")
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                self.add(patterns_path, "must be an array of strings (2.4.4.1)")
            else:
                for i, pattern in enumerate(patterns):
                    self.response(
                        interaction_type, pattern, component_ids, _index(patterns_path, i)
                    )

    def components(self, components: object, path: str) -> list[str]:
        """Check an interaction component list; return its ids for pattern checks."""
        if not isinstance(components, list):
            self.add(path, "must be an array of interaction components (2.4.4.1)")
            return []
        ids: list[str] = []
        for i, component in enumerate(components):
            item_path = _index(path, i)
            if not self.object_with(component, item_path, COMPONENT_KEYS, "interaction component"):
                continue
            assert isinstance(component, Mapping)
            component_id = component.get("id")
            # Ids are strings without whitespace (2.4.4.1 SHOULD NOT; stricter than the
            # spec because whitespace makes response patterns ambiguous to read).
            if (
                not isinstance(component_id, str)
                or not component_id
                or re.search(r"\s", component_id)
            ):
                self.add(
                    _key(item_path, "id"), "must be a non-empty string without whitespace (2.4.4.1)"
                )
                continue
            if component_id in ids:
                self.add(
                    _key(item_path, "id"), f"duplicate component id {component_id!r} (2.4.4.1)"
                )
            ids.append(component_id)
            if "description" in component:
                self.language_map(
                    component["description"], _key(item_path, "description"), "2.4.4.1"
                )
        return ids

    def response(
        self,
        interaction_type: str,
        pattern: str,
        component_ids: Mapping[str, Sequence[str]],
        path: str,
    ) -> None:
        """Check one response pattern (or learner response) against 2.4.4.1 "Response
        Patterns" and against the ids the definition declares."""

        def known(ids_of: str, item: str) -> bool:
            # Only checkable when the list is present in this definition.
            return ids_of not in component_ids or item in component_ids[ids_of]

        def report(message: str) -> None:
            self.add(path, f"{message} for a {interaction_type!r} interaction (2.4.4.1)")

        if interaction_type == "true-false":
            if pattern not in ("true", "false"):
                report("must be 'true' or 'false'")
        elif interaction_type in ("choice", "sequencing"):
            items = pattern.split("[,]")
            if pattern == "" or any(not item for item in items):
                report("must be choice ids delimited by [,]")
            for item in items:
                if item and not known("choices", item):
                    report(f"names {item!r}, which is not in choices")
        elif interaction_type == "likert":
            if not pattern or not known("scale", pattern):
                report(f"names {pattern!r}, which is not in scale")
        elif interaction_type == "matching":
            for pair in pattern.split("[,]"):
                parts = pair.split("[.]")
                if len(parts) != 2 or not all(parts):
                    report(f"pair {pair!r} must be source[.]target")
                    continue
                if not known("source", parts[0]):
                    report(f"names {parts[0]!r}, which is not in source")
                if not known("target", parts[1]):
                    report(f"names {parts[1]!r}, which is not in target")
        elif interaction_type == "performance":
            body = _CHARSTRING_PARAM.sub("", pattern)
            for step in body.split("[,]"):
                parts = step.split("[.]", 1)
                if len(parts) != 2 or not parts[0]:
                    report(f"step {step!r} must be stepId[.]response")
                elif not known("steps", parts[0]):
                    report(f"names {parts[0]!r}, which is not in steps")
        elif interaction_type == "numeric":
            bounds = pattern.split("[:]")
            if (
                len(bounds) > 2
                or not any(bounds)
                or not all(_NUMERIC_BOUND.match(b) for b in bounds if b)
            ):
                report("must be a number or a min[:]max range")
        # fill-in, long-fill-in and other accept any string.

    # -- result ---------------------------------------------------------------------

    def result(self, result: object, path: str, statement_object: object) -> None:
        if not self.object_with(result, path, RESULT_KEYS, "Result"):
            return
        assert isinstance(result, Mapping)
        if "score" in result:
            self.score(result["score"], _key(path, "score"))
        for key in ("success", "completion"):
            if key in result:
                self.boolean(result[key], _key(path, key), "2.4.5")
        if "response" in result:
            response = result["response"]
            self.string(response, _key(path, "response"), "2.4.5")
            self.learner_response(response, _key(path, "response"), statement_object)
        if "duration" in result and not is_duration(result["duration"]):
            self.add(
                _key(path, "duration"),
                f"must be an ISO 8601 duration like PT1M30S, got {result['duration']!r} (4.6)",
            )
        if "extensions" in result:
            self.extensions(result["extensions"], _key(path, "extensions"))

    def learner_response(self, response: object, path: str, statement_object: object) -> None:
        """2.4.4.1: the learner's response uses the same format as correctResponsesPattern."""
        if not isinstance(response, str) or not isinstance(statement_object, Mapping):
            return
        definition = statement_object.get("definition")
        if not isinstance(definition, Mapping):
            return
        interaction_type = definition.get("interactionType")
        if interaction_type not in INTERACTION_TYPES:
            return
        ids = {
            name: [c["id"] for c in definition[name] if isinstance(c, Mapping) and "id" in c]
            for name in COMPONENT_LISTS
            if isinstance(definition.get(name), list)
        }
        self.response(interaction_type, response, ids, path)

    def score(self, score: object, path: str) -> None:
        """2.4.5.1: scaled in [-1, 1]; min < max; raw between them."""
        if not self.object_with(score, path, SCORE_KEYS, "Score"):
            return
        assert isinstance(score, Mapping)
        numbers: dict[str, float] = {}
        for key in ("scaled", "raw", "min", "max"):
            if key in score:
                if _is_number(score[key]):
                    numbers[key] = float(score[key])
                else:
                    self.add(_key(path, key), "must be a number (2.4.5.1, 2.2)")
        if "scaled" in numbers and not -1.0 <= numbers["scaled"] <= 1.0:
            self.add(_key(path, "scaled"), "must be between -1 and 1 inclusive (2.4.5.1)")
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and not low < high:
            self.add(_key(path, "min"), "must be less than max (2.4.5.1)")
        if raw is not None and low is not None and raw < low:
            self.add(_key(path, "raw"), "must not be below min (2.4.5.1)")
        if raw is not None and high is not None and raw > high:
            self.add(_key(path, "raw"), "must not be above max (2.4.5.1)")

    # -- context --------------------------------------------------------------------

    def context(self, context: object, path: str, statement_object: object) -> None:
        if not self.object_with(context, path, CONTEXT_KEYS, "Context"):
            return
        assert isinstance(context, Mapping)
        if "registration" in context:
            self.uuid(context["registration"], _key(path, "registration"), "2.4.6.1")
        if "instructor" in context:
            self.actor(context["instructor"], _key(path, "instructor"), "2.4.6")
        if "team" in context:
            team = context["team"]
            if not isinstance(team, Mapping) or team.get("objectType") != "Group":
                self.add(_key(path, "team"), "must be a Group (2.4.6)")
            else:
                self.group(team, _key(path, "team"))
        if "contextActivities" in context:
            self.context_activities(context["contextActivities"], _key(path, "contextActivities"))
        object_is_activity = (
            isinstance(statement_object, Mapping)
            and statement_object.get("objectType", "Activity") == "Activity"
        )
        for key in ("revision", "platform"):
            if key in context:
                self.string(context[key], _key(path, key), "2.4.6")
                if not object_is_activity:
                    self.add(
                        _key(path, key), "is only allowed when the object is an Activity (2.4.6)"
                    )
        if "language" in context and not is_language_tag(context["language"]):
            self.add(_key(path, "language"), "must be an RFC 5646 language tag (2.4.6)")
        if "statement" in context:
            self.statement_ref(context["statement"], _key(path, "statement"))
        if "extensions" in context:
            self.extensions(context["extensions"], _key(path, "extensions"))

    def context_activities(self, value: object, path: str) -> None:
        if not self.object_with(value, path, CONTEXT_ACTIVITY_KEYS, "contextActivities"):
            return
        assert isinstance(value, Mapping)
        for key, activities in value.items():
            if key not in CONTEXT_ACTIVITY_KEYS:
                continue
            item_path = _key(path, key)
            # Stricter than the spec: 2.4.6.2 still accepts a lone Activity for 0.95
            # compatibility, but providers SHOULD send arrays, and LRSs return arrays.
            if not isinstance(activities, list):
                self.add(item_path, "must be an array of Activities (2.4.6.2)")
                continue
            for i, activity in enumerate(activities):
                self.activity(activity, _index(item_path, i))

    # -- attachments ----------------------------------------------------------------

    def attachments(self, value: object, path: str) -> None:
        if not isinstance(value, list):
            self.add(path, "must be an array of Attachments (2.4.11)")
            return
        for i, attachment in enumerate(value):
            item_path = _index(path, i)
            if not self.object_with(attachment, item_path, ATTACHMENT_KEYS, "Attachment"):
                continue
            assert isinstance(attachment, Mapping)
            for required in ("usageType", "display", "contentType", "length", "sha2"):
                if required not in attachment:
                    self.add(_key(item_path, required), "is required (2.4.11)")
            checks: dict[str, Callable[[object, str], None]] = {
                "usageType": lambda v, p: self.iri(v, p, "2.4.11"),
                "display": lambda v, p: self.language_map(v, p, "2.4.11"),
                "description": lambda v, p: self.language_map(v, p, "2.4.11"),
                "contentType": lambda v, p: self.string(v, p, "2.4.11"),
                "sha2": lambda v, p: self.string(v, p, "2.4.11"),
                "fileUrl": lambda v, p: self.irl(v, p, "2.4.11"),
            }
            for key, check in checks.items():
                if key in attachment:
                    check(attachment[key], _key(item_path, key))
            length = attachment.get("length")
            if "length" in attachment and (not isinstance(length, int) or isinstance(length, bool)):
                self.add(_key(item_path, "length"), "must be an integer (2.4.11)")


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _index(path: str, index: int) -> str:
    return f"{path}[{index}]"
