"""How long a lesson takes, worked out from its words rather than stated by its author.

Authors' estimates ran about three times too long (issue 11): a 300-word lesson with three
practice questions was listed at 12 minutes. Counting words keeps the figure honest when a
lesson is edited, and one rule serves the lesson page, the course page and the picker.
"""

from __future__ import annotations

import math
import re

#: Silent reading of plain instructional prose by adults (a deliberately modest figure:
#: studies of non-fiction put the average nearer 240).
WORDS_PER_MINUTE = 200
#: One short single-screen question: read, think, answer.
MINUTES_PER_QUESTION = 1.0

# A word is a run of letters or digits, allowing inner apostrophes and hyphens, so Markdown
# marks (#, *, -, >, links' brackets) are not counted as words.
_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")


def count_words(markdown: str) -> int:
    """The words in a Markdown text, its syntax left out."""
    # Link targets are not read; their text is.
    text = re.sub(r"\]\([^)]*\)", "]", markdown)
    return len(_WORD.findall(text))


def lesson_minutes(body: str, questions: int) -> int:
    """Whole minutes to read ``body`` and answer ``questions`` practice questions (at least 1)."""
    minutes = count_words(body) / WORDS_PER_MINUTE + questions * MINUTES_PER_QUESTION
    return max(1, math.ceil(minutes))
