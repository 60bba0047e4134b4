"""Personal goals: the learner's goal pages and practice log, the instructor's view of their
course's goals and the organisation-wide L&D view (docs/decisions/0016-goal-privacy.md)."""

from flask import Blueprint

bp = Blueprint("goals", __name__)

# Importing the page modules registers their routes on the blueprint.
from lti_tool.web.goals import learner, staff  # noqa: E402, F401

__all__ = ["bp"]
