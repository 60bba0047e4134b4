"""Pages for instructor-type roles: choosing CX Academy content for a course (Deep Linking),
seeing the class (roster, progress, grades, item analysis) and reviewing one learner's
submission (LTI Submission Review)."""

# Importing these registers their routes on the shared blueprint.
from lti_tool.web.instructor import class_view, submission_review  # noqa: F401
from lti_tool.web.instructor.content_picker import bp, open_selection, require_instructor_type

__all__ = ["bp", "open_selection", "require_instructor_type"]
