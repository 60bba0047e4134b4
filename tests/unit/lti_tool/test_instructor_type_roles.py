"""Who may choose content for a course: instructor-type roles (Deep Linking)."""

from __future__ import annotations

import pytest

from lti_tool.lti.roles import is_instructor_type

V2 = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    "role",
    [
        "Instructor",
        "ContentDeveloper",
        "Administrator",
        V2 + "membership#Instructor",
        V2 + "membership#ContentDeveloper",
        V2 + "membership#Administrator",
        V2 + "membership/Instructor#TeachingAssistant",
        V2 + "membership/Instructor#Grader",
        V2 + "institution/person#Instructor",
        V2 + "institution/person#Administrator",
        V2 + "system/person#Administrator",
    ],
)
def test_instructor_type_roles(role: str) -> None:
    assert is_instructor_type([role])


@pytest.mark.parametrize(
    "role",
    [
        "Learner",
        "Mentor",
        V2 + "membership#Learner",
        V2 + "membership/Learner#Learner",
        V2 + "institution/person#Student",
        V2 + "system/person#User",
        "http://example.test/membership#Instructor",
    ],
)
def test_other_roles_are_not(role: str) -> None:
    assert not is_instructor_type([role])


def test_one_instructor_type_role_among_others_is_enough() -> None:
    assert is_instructor_type(["Learner", V2 + "institution/person#Administrator"])
    assert not is_instructor_type([])
