"""The class view over real HTTP with the demo LMS: the instructor opens it after a learner
passed the quiz and sees that learner, the roster's member who never launched, the
Inactive one (read through the LMS's NRPS endpoint with a client-credentials token), and
the grade sync state once the worker has sent the score."""

from __future__ import annotations

import re

import pytest

from tests.integration import test_grade_sync as grade_sync

pytestmark = pytest.mark.integration

# The grade sync stack: tool, demo LMS and a real Celery worker on loopback.
stack = grade_sync.stack


def test_the_instructor_sees_the_class_with_roster_and_grade_sync(
    stack: grade_sync.Stack,
) -> None:
    learner = stack.launch_from_lms("ada")
    grade_sync.take_quiz(learner, stack, correct=True)
    stack.wait_until_sent(1)

    instructor = stack.launch_from_lms("grace")
    home = instructor.get("").get_data(as_text=True)
    assert "instructor/class" in str(home)
    page = instructor.get("instructor/class")
    assert page.status_code == 200
    text = str(page.get_data(as_text=True))
    assert "Class list from your LMS, read" in text
    ada = re.search(r"Ada Okafor.*?</tr>", text, re.S)
    assert ada and "Completed" in ada.group(0) and "Synced" in ada.group(0)
    noor = re.search(r"Noor Haddad.*?</tr>", text, re.S)
    assert noor and "Never opened CX Academy" in noor.group(0)
    assert re.search(r"Ivan Petrov\s*<span class=\"tag\">Inactive", text)
    # The instructor is not listed as a learner.
    assert "Grace Mendes</th>" not in text

    # A learner of the same course is refused.
    assert learner.get("instructor/class").status_code == 403
