"""LTI role URIs in plain words, and the checks views use."""

from __future__ import annotations

from collections.abc import Iterable

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

LEARNER = _MEMBERSHIP + "Learner"
INSTRUCTOR = _MEMBERSHIP + "Instructor"
CONTENT_DEVELOPER = _MEMBERSHIP + "ContentDeveloper"
ADMINISTRATOR = _MEMBERSHIP + "Administrator"
# Sub-roles hang off the role URI with a slash (LTI 1.3 appendix A.2.3.1).
INSTITUTION_ADMINISTRATOR = _INSTITUTION + "Administrator"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)

_NAMES = {
    LEARNER: "Learner",
    INSTRUCTOR: "Instructor",
    TEACHING_ASSISTANT: "Teaching assistant",
    CONTENT_DEVELOPER: "Content developer",
    ADMINISTRATOR: "Course administrator",
    _INSTITUTION + "Administrator": "Institution administrator",
    _SYSTEM + "Administrator": "System administrator",
}

_STAFF = {INSTRUCTOR, TEACHING_ASSISTANT, CONTENT_DEVELOPER, ADMINISTRATOR}


def _normalise(role: str) -> str:
    # LTI 1.3 allows the short form ("Instructor") for context roles (LTI 1.3 section A.2.3).
    return role if "#" in role or "/" in role else _MEMBERSHIP + role


def describe_roles(roles: Iterable[str]) -> list[str]:
    names = [_NAMES.get(_normalise(r)) for r in roles]
    return sorted({n for n in names if n}) or ["Guest"]


def is_instructor(roles: Iterable[str]) -> bool:
    return any(_normalise(r) in _STAFF for r in roles)


# Who may choose content for a course (Deep Linking): these roles as context roles (and
# their sub-roles), or as institution or system roles (LTI 1.3 appendix A.2.1 to A.2.3).
_PLACING = frozenset({"Instructor", "ContentDeveloper", "TeachingAssistant", "Administrator"})
_MEMBERSHIP_BASE = _MEMBERSHIP.rstrip("#")


def _placing_role(role: str) -> bool:
    full = _normalise(role)
    base, _, name = full.partition("#")
    if base in (_MEMBERSHIP_BASE, _INSTITUTION.rstrip("#"), _SYSTEM.rstrip("#")):
        return name in _PLACING
    # A context sub-role, membership/{role}#{sub-role}: staff when its parent role is.
    parent = base.removeprefix(_MEMBERSHIP_BASE + "/")
    return parent != base and parent in _PLACING


def is_instructor_type(roles: Iterable[str]) -> bool:
    """Instructor-type: may place CX Academy activities in a course (Deep Linking)."""
    return any(_placing_role(r) for r in roles)


# Organisation-wide roles (LTI 1.3 appendix A.2.1 and A.2.2): the LMS's administrators.
_ORGANISATION_ADMINS = frozenset({INSTITUTION_ADMINISTRATOR, _SYSTEM + "Administrator"})


def is_insight_role(roles: Iterable[str], configured: Iterable[str] = ()) -> bool:
    """L&D: may see goal figures across a whole platform. The LMS's institution or system
    Administrator, or a role the operator configured (CXA_GOALS_INSIGHT_ROLES), matched
    exactly; a course-level Administrator is not enough."""
    allowed = _ORGANISATION_ADMINS | set(configured)
    return any(role in allowed for role in roles)
