"""LTI role URIs in plain words, and who counts as course staff."""

from __future__ import annotations

import pytest

from lti_tool.lti import roles

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
# LTI 1.3 Core, appendix A.2.3.1: a context sub-role is membership/{role}#{subrole}.
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
SYSTEM_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
INSTITUTION_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("Learner", "Learner"),
        (MEMBERSHIP + "Learner", "Learner"),
        ("Instructor", "Instructor"),
        (MEMBERSHIP + "Instructor", "Instructor"),
        ("ContentDeveloper", "Content developer"),
        (MEMBERSHIP + "Administrator", "Course administrator"),
        (INSTITUTION_ADMIN, "Institution administrator"),
        (SYSTEM_ADMIN, "System administrator"),
        (TEACHING_ASSISTANT, "Teaching assistant"),
    ],
)
def test_each_known_role_has_a_plain_name(role: str, name: str) -> None:
    assert roles.describe_roles([role]) == [name]


def test_names_are_sorted_and_not_repeated() -> None:
    described = roles.describe_roles(["Learner", MEMBERSHIP + "Learner", INSTITUTION_ADMIN])

    assert described == ["Institution administrator", "Learner"]


def test_unknown_roles_are_left_out() -> None:
    assert roles.describe_roles([INSTITUTION_STUDENT, "Learner"]) == ["Learner"]


@pytest.mark.parametrize("unknown", [[], [INSTITUTION_STUDENT], ["Wizard"]])
def test_someone_with_no_known_role_is_a_guest(unknown: list[str]) -> None:
    assert roles.describe_roles(unknown) == ["Guest"]


@pytest.mark.parametrize(
    "staff",
    [
        ["Instructor"],
        [MEMBERSHIP + "Instructor"],
        [TEACHING_ASSISTANT],
        [MEMBERSHIP + "ContentDeveloper"],
        ["Administrator"],
        ["Learner", "Instructor"],
    ],
)
def test_course_staff_count_as_instructors(staff: list[str]) -> None:
    assert roles.is_instructor(staff) is True


@pytest.mark.parametrize(
    "not_staff",
    [
        [],
        ["Learner"],
        [MEMBERSHIP + "Learner"],
        [MEMBERSHIP + "Mentor"],
        [INSTITUTION_STUDENT],
        # An administrator of the institution is not thereby staff of this course.
        [INSTITUTION_ADMIN],
        # A role URI that merely spells "Instructor" is not the Instructor role.
        ["http://example.edu/roles#NotAnInstructor"],
    ],
)
def test_learners_and_others_are_not_instructors(not_staff: list[str]) -> None:
    assert roles.is_instructor(not_staff) is False
