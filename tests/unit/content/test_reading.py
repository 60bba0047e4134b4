"""Reading times come from the words on the page, not from the author's guess."""

from __future__ import annotations

import pytest

from content import load_catalog
from content.reading import MINUTES_PER_QUESTION, WORDS_PER_MINUTE, count_words, lesson_minutes


def test_markdown_syntax_is_not_counted_as_words() -> None:
    text = (
        "## Summary\n\n- **Let them finish.** See [the guide](https://example.org/a-b).\n"
        "> It's step-by-step."
    )
    assert count_words(text) == 9  # Summary Let them finish See the guide It's step-by-step


@pytest.mark.parametrize(
    ("words", "questions", "minutes"),
    [(0, 0, 1), (200, 0, 1), (201, 0, 2), (300, 3, 5), (1000, 2, 7)],
)
def test_minutes_round_up_reading_plus_questions(words: int, questions: int, minutes: int) -> None:
    assert lesson_minutes(" ".join(["word"] * words), questions) == minutes


def test_every_shipped_lesson_is_timed_from_its_words() -> None:
    for lesson in load_catalog().list_lessons():
        words = count_words(lesson.body)
        expected = words / WORDS_PER_MINUTE + len(lesson.knowledge_check) * MINUTES_PER_QUESTION
        assert lesson.estimated_minutes - 1 < expected <= lesson.estimated_minutes
        # The stated times ran 10 to 15 minutes for about 300 words; these are a third.
        assert lesson.estimated_minutes <= 8, lesson.id
