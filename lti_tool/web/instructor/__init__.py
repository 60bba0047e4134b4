"""Pages for instructor-type roles: choosing CX Academy content for a course (Deep Linking)."""

from lti_tool.web.instructor.content_picker import bp, open_selection, require_instructor_type

__all__ = ["bp", "open_selection", "require_instructor_type"]
