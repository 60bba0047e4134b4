"""Landing, course, module and lesson pages; the lesson view and knowledge-check statements."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import activity_iri, load_catalog
from lti_tool.store.knowledge_check import KnowledgeCheckSubmission
from tests.unit.web.conftest import LearnerBrowser, ours, outbox_statements, verbs

COURSE = "service-foundations"
# True/false options keep their order (True first) and, like every option, travel as their
# place on the page, never as an id that could hint at the answer.
TRUE, FALSE = "o0", "o1"


def test_home_lists_the_real_catalogue(learner: LearnerBrowser) -> None:
    page = learner.get("").get_data(as_text=True)
    for course in load_catalog().list_courses():
        assert course.title.replace("'", "&#39;") in page
        assert f"/courses/{course.id}/" in page
    assert "/self-assessment" in page


def test_course_page_lists_modules_lessons_quiz_and_roleplays(learner: LearnerBrowser) -> None:
    page = learner.get(f"courses/{COURSE}/").get_data(as_text=True)
    catalog = load_catalog()
    for lesson in catalog.list_course_lessons(COURSE):
        assert f"/courses/{COURSE}/lessons/{lesson.id}" in page
    assert f"/courses/{COURSE}/quiz" in page
    assert f"/courses/{COURSE}/scenarios/double-charge" in page
    assert f"/courses/{COURSE}/progress" in page


def test_module_page(learner: LearnerBrowser) -> None:
    response = learner.get(f"courses/{COURSE}/modules/listening-and-empathy")
    assert response.status_code == 200
    assert "Active listening on every contact" in response.get_data(as_text=True)


def test_lesson_page_renders_markdown_with_previous_and_next(learner: LearnerBrowser) -> None:
    order = [lesson.id for lesson in load_catalog().list_course_lessons(COURSE)]
    page = learner.get(f"courses/{COURSE}/lessons/{order[1]}").get_data(as_text=True)
    assert "<h2>" in page
    assert re.search(rf'rel="prev" href="[^"]*/lessons/{order[0]}"', page)
    assert re.search(rf'rel="next" href="[^"]*/lessons/{order[2]}"', page)
    first = learner.get(f"courses/{COURSE}/lessons/{order[0]}").get_data(as_text=True)
    assert 'rel="prev"' not in first
    last = learner.get(f"courses/{COURSE}/lessons/{order[-1]}").get_data(as_text=True)
    assert re.search(r'rel="next" href="[^"]*/quiz"', last)


def test_opening_a_lesson_records_experienced_once_per_launch(
    learner: LearnerBrowser, session: Session
) -> None:
    learner.get(f"courses/{COURSE}/lessons/active-listening")
    learner.get(f"courses/{COURSE}/lessons/active-listening")
    experienced = [s for s in outbox_statements(session) if s["verb"]["id"].endswith("experienced")]
    assert len(experienced) == 1
    statement = experienced[0]
    catalog = load_catalog()
    assert statement["object"]["id"] == ours(
        activity_iri(catalog.require_lesson("active-listening"))
    )
    context = statement["context"]["contextActivities"]
    assert context["parent"][0]["id"] == ours(
        activity_iri(catalog.require_module("listening-and-empathy"))
    )
    grouping = [a["id"] for a in context["grouping"]]
    assert ours(activity_iri(catalog.require_course(COURSE))) in grouping
    assert any("lms-context" in iri for iri in grouping)
    assert (
        statement["context"]["extensions"][
            ours("https://cx-academy.example/xapi/extensions/content-version")
        ]
        == catalog.require_course(COURSE).content_version
    )
    assert statement["context"]["registration"]


def test_unknown_course_module_and_lesson_are_404_pages(learner: LearnerBrowser) -> None:
    for path in (
        "courses/no-such-course/",
        "courses/no-such-course/quiz",
        "courses/no-such-course/progress",
        f"courses/{COURSE}/modules/nope",
        f"courses/{COURSE}/lessons/nope",
        # A real lesson, but of another course.
        f"courses/{COURSE}/lessons/growth-mindset",
        f"courses/{COURSE}/scenarios/late-return-refund",
    ):
        response = learner.get(path)
        assert response.status_code == 404, path
        assert "reference" in response.get_data(as_text=True)


def test_pages_need_a_valid_session_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/s/forged-token/courses/{COURSE}/")
    assert response.status_code == 401


def test_knowledge_check_gives_feedback_and_records_answers(
    learner: LearnerBrowser, session: Session
) -> None:
    page = learner.get(f"courses/{COURSE}/lessons/active-listening").get_data(as_text=True)
    # Nothing in the form decides a statement id: those come from the server's record.
    assert 'name="submission"' not in page
    question = load_catalog().require_question("listening-interrupt-myth")
    data = [("q.listening-interrupt-myth", FALSE)]
    response = learner.post(f"courses/{COURSE}/lessons/active-listening/check", data)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for option in question.options:
        assert option.feedback.split(".")[0] in text
    assert verbs(session).count("answered") == 1
    answered = next(s for s in outbox_statements(session) if s["verb"]["id"].endswith("answered"))
    assert answered["result"]["response"] == "false"
    assert answered["result"]["success"] is True
    assert answered["object"]["definition"]["interactionType"] == "true-false"
    record = session.scalars(select(KnowledgeCheckSubmission)).one()
    assert record.lesson_id == "active-listening"
    assert record.responses == {"listening-interrupt-myth": "false"}


def answered_ids(session: Session) -> list[str]:
    return [s["id"] for s in outbox_statements(session) if s["verb"]["id"].endswith("answered")]


def test_a_replayed_submission_id_cannot_suppress_a_later_answer(
    learner: LearnerBrowser, session: Session
) -> None:
    # The field pages rendered before this release carried; a learner can send any value.
    replayed = ("submission", "3f1c2b7a-9d4e-4f6a-8b2c-1e5d7a9c0b3f")
    path = f"courses/{COURSE}/lessons/active-listening/check"
    assert learner.post(path, [replayed, ("q.listening-interrupt-myth", FALSE)]).status_code == 200
    assert learner.post(path, [replayed, ("q.listening-interrupt-myth", TRUE)]).status_code == 200
    # The same answers again later are a new answer too, not a duplicate of the first.
    assert learner.post(path, [replayed, ("q.listening-interrupt-myth", FALSE)]).status_code == 200
    ids = answered_ids(session)
    assert len(ids) == len(set(ids)) == 3
    responses = [
        s["result"]["response"]
        for s in outbox_statements(session)
        if s["verb"]["id"].endswith("answered")
    ]
    assert responses == ["false", "true", "false"]


def test_a_forged_submission_id_cannot_suppress_another_learners_answer(
    learner: LearnerBrowser, other_learner: LearnerBrowser, session: Session
) -> None:
    forged = ("submission", "3f1c2b7a-9d4e-4f6a-8b2c-1e5d7a9c0b3f")
    path = f"courses/{COURSE}/lessons/active-listening/check"
    # One learner answers first with a chosen id; the other's later answer must still count.
    assert learner.post(path, [forged, ("q.listening-interrupt-myth", TRUE)]).status_code == 200
    assert (
        other_learner.post(path, [forged, ("q.listening-interrupt-myth", FALSE)]).status_code == 200
    )
    statements = [s for s in outbox_statements(session) if s["verb"]["id"].endswith("answered")]
    assert len({s["id"] for s in statements}) == 2
    assert sorted(s["actor"]["account"]["name"] for s in statements) == ["learner-1", "learner-2"]


def test_knowledge_check_refuses_questions_from_elsewhere(
    learner: LearnerBrowser, session: Session
) -> None:
    response = learner.post(
        f"courses/{COURSE}/lessons/active-listening/check",
        [("q.empathy-bereavement", "a")],
    )
    assert response.status_code == 400
    assert "answered" not in verbs(session)
    assert session.scalars(select(KnowledgeCheckSubmission)).first() is None
