"""Lesson Markdown to HTML that is safe to show: no script, no event handlers, no styles."""

from __future__ import annotations

from functools import cache

import markdown
import nh3
from markupsafe import Markup

# What lesson authors need and nothing more: headings, text, lists, tables, code, links.
ALLOWED_TAGS = frozenset(
    {
        "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "strong", "em", "b", "i", "code", "pre",
        "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th",
        "td", "a", "abbr",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}, "td": set()}


def render_markdown(text: str) -> Markup:
    """Render Markdown, then sanitise: the sanitiser, not the Markdown parser, is the guard."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        # Links leave the LMS frame in a new context without handing it our page.
        link_rel="noopener noreferrer",
    )
    return Markup(cleaned)  # noqa: S704 - sanitised by nh3 on the line above


@cache
def render_lesson(lesson_id: str, body: str) -> Markup:
    """Lessons are immutable once loaded, so each is rendered once per process."""
    return render_markdown(body)
