"""The learner's pages after a launch."""

from __future__ import annotations

from flask import Blueprint, render_template

from lti_tool.lti.roles import describe_roles, is_instructor
from lti_tool.web.launch_session import require_launch

bp = Blueprint("learner", __name__)


@bp.get("/s/<token>/")
def home(token: str) -> str:
    launch = require_launch(token)
    return render_template(
        "home.html",
        launch=launch,
        token=token,
        role_names=describe_roles(launch.roles),
        instructor=is_instructor(launch.roles),
    )
