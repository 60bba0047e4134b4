"""Pages for instructor-type roles: choosing CX Academy content for a course (Deep Linking)
and seeing the class (roster, progress, grades, item analysis)."""

# Importing class_view registers its routes on the shared blueprint.
from lti_tool.web.instructor import class_view  # noqa: F401
from lti_tool.web.instructor.content_picker import bp, open_selection, require_instructor_type

__all__ = ["bp", "open_selection", "require_instructor_type"]
