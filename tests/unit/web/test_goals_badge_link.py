"""An achieved goal's celebration page leads to the learner's badges (the badges feature's
page); with no badges page installed it links nothing rather than failing."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from lti_tool.app import create_app
from lti_tool.services import Services
from tests.unit.web.conftest import LearnerBrowser
from tests.unit.web.test_goals_pages import set_goal, text


@pytest.fixture(name="app")
def app_with_badges(services: Services) -> Flask:
    app = create_app(services=services)
    if "badges.my_badges" not in app.view_functions:
        # A stand-in for the badges feature's page, where it is not merged in.
        stand_in = Blueprint("badges", __name__)
        stand_in.add_url_rule("/s/<token>/badges/", "my_badges", lambda token: "badges")
        app.register_blueprint(stand_in)
    return app


def test_an_achieved_goal_links_the_badges_page(learner: LearnerBrowser) -> None:
    goal_id = set_goal(learner, target="2")
    learner.post(f"goals/{goal_id}/progress", {"progress": "1"})
    assert "See and download your badge" not in text(learner.get(f"goals/{goal_id}/celebrate"))
    learner.post(f"goals/{goal_id}/progress", {"progress": "2"})
    page = text(learner.get(f"goals/{goal_id}/celebrate"))
    assert "See and download your badge" in page
    assert f'href="{learner.base}badges/"' in page
