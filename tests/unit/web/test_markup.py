"""Lesson Markdown is rendered, and nothing executable survives."""

from __future__ import annotations

from content import load_catalog
from lti_tool.web.markup import render_markdown


def test_markdown_becomes_html() -> None:
    html = render_markdown("## Steps\n\n- **Listen** first\n- [Guide](https://example.org)")
    assert "<h2>Steps</h2>" in html
    assert "<strong>Listen</strong>" in html
    assert 'href="https://example.org"' in html
    assert "noopener" in html


def test_script_and_event_handlers_do_not_survive() -> None:
    html = render_markdown(
        "Hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        '<a href="javascript:alert(1)" onclick="x()">click</a>\n\n'
        '<div style="position:fixed">over</div><iframe src="https://evil"></iframe>'
    )
    lowered = html.lower()
    for needle in ("<script", "onerror", "onclick", "javascript:", "<iframe", "style=", "<img"):
        assert needle not in lowered, html


def test_every_shipped_lesson_renders_without_raw_html_loss() -> None:
    for lesson in load_catalog().list_lessons():
        html = render_markdown(lesson.body)
        assert html.strip(), lesson.id
        assert "<script" not in html
