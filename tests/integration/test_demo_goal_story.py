"""The goals-and-badges story of the README, clicked through `make run` over HTTP.

The learner persona launches from the demo LMS (fresh cookie jar), rates mentoring lowest in
the self-assessment and sets the goal it suggests, sets a quiz goal too, passes the quiz and
sees that goal's progress move, logs a mentoring session, sees the mentoring goal achieved
and downloads its badge. Progress is the worker's (goal engine) doing, so the pages are
polled with a bounded wait. The badge is checked with PyJWT against the key document the
tool serves, never with our own signing code.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jwt
import pytest
import requests

from content import load_catalog
from lti_tool.badges.baking import extract_png
from tests.fixtures.browser import launch_from_demo_lms
from tests.integration.test_demo_command import running_demo
from tests.unit.web.conftest import answer_fields

pytestmark = pytest.mark.integration

COURSE = "service-foundations"
#: How long the worker may take to count a record towards a goal (kick or 2 s beat sweep).
PROGRESS_WAIT = 90.0


class _Form(HTMLParser):
    """The fields a browser would submit from the first form whose action contains ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.done = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done and self.action in a.get("action", ""):
            self.inside = True
        if not self.inside or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields[a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button"):
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.fields.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True


def form_fields(page: str, action: str) -> dict[str, str]:
    parser = _Form(action)
    parser.feed(page)
    assert parser.done, f"no form posting to {action!r} on the page"
    return parser.fields


def link(page: str, pattern: str) -> str:
    found = re.search(rf'href="([^"]*{pattern}[^"]*)"', page)
    assert found, f"no link matching {pattern!r} on the page"
    return unescape(found.group(1))


class Learner:
    """The persona's browser after the launch: pages under its session, forms with the CSRF
    token the page itself carries."""

    def __init__(self, browser: requests.Session, base: str) -> None:
        self.browser = browser
        self.base = base

    def url(self, path: str) -> str:
        return urljoin(self.base, path)

    def get(self, path: str) -> requests.Response:
        answer = self.browser.get(self.url(path), timeout=20)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:600])
        return answer

    def post(self, path: str, data: dict[str, str] | list[tuple[str, str]]) -> requests.Response:
        """Post a form; a 303 is followed like a browser does, any other answer is a failure."""
        answer = self.browser.post(self.url(path), data=data, timeout=30, allow_redirects=False)
        assert answer.status_code == 303, (path, answer.status_code, answer.text[:1500])
        return self.get(answer.headers["Location"])

    def wait_for(self, path: str, text: str) -> str:
        deadline = time.monotonic() + PROGRESS_WAIT
        while True:
            page = self.get(path).text
            if text in page:
                return page
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never showed on {path} within {PROGRESS_WAIT:.0f}s")
            time.sleep(1)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_the_learner_sets_goals_progresses_achieves_one_and_downloads_its_badge(
    tmp_path: Path,
) -> None:
    catalog = load_catalog()
    with running_demo(tmp_path) as demo, requests.Session() as browser:
        lms_url, port = demo.lms_url, demo.port
        landing = launch_from_demo_lms(lms_url, persona="ada", browser=browser)
        assert landing.status == 200, landing.text[:800]
        assert f"127.0.0.1:{port}/s/" in landing.url
        base = re.sub(r"(/s/[^/]+/).*", r"\1", landing.url)
        ada = Learner(browser, base)

        # The self-assessment, mentoring rated lowest.
        page = ada.get("self-assessment").text
        assessment = catalog.require_self_assessment()
        ratings = {
            f"q.{s.id}": "1" if s.skill == "mentoring" else "4" for s in assessment.statements
        }
        ada.post("self-assessment", {**ratings, "csrf_token": csrf(page)})

        # Its suggestion on "My goals", adopted with a target of one session.
        goals = ada.get("goals").text
        assert "You rated Mentoring and coaching 1.0 of 5 in your self-assessment." in goals
        suggested = link(goals, r"goals/new\?template=")
        template = catalog.get_goal_template(suggested.rsplit("=", 1)[1])
        assert template is not None and template.skill == "mentoring"
        assert template.metric == "practice_logged"
        form = ada.get(suggested).text
        fields = form_fields(form, "goals/new")
        assert fields["template"] == template.id
        mentoring_goal = ada.post("goals/new", {**fields, "target": "1"})
        assert "Your goal is set." in mentoring_goal.text
        mentoring_url = mentoring_goal.url
        assert "Progress: 0 of 1" in mentoring_goal.text

        # A goal of one's own: two passed quizzes.
        fields = form_fields(ada.get("goals/new").text, "goals/new")
        fields.update(
            {
                "title": "Pass two quizzes",
                "specific": "Pass the course quiz twice with at least 80% to make it stick.",
                "relevance": "Knowing the procedures cold shortens every call.",
                "metric": "quizzes_passed",
                "p.quizzes_passed.min_score": "0.8",
                "target": "2",
                "unit": "quizzes",
            }
        )
        quiz_goal = ada.post("goals/new", fields)
        assert "Progress: 0 of 2 quizzes (0%)" in quiz_goal.text
        quiz_url = quiz_goal.url

        # The quiz, passed: the quiz goal moves to 1 of 2, once the worker has counted it.
        intro = ada.get(f"courses/{COURSE}/quiz").text
        attempt = ada.post(f"courses/{COURSE}/quiz/attempts", {"csrf_token": csrf(intro)})
        found = re.search(r"/attempts/([0-9a-f-]{36})", attempt.url)
        assert found, attempt.url
        attempt_id = found.group(1)
        # The questions drawn for this attempt, as the page names them.
        questions = [
            q.id
            for q in catalog.list_questions()
            if re.search(rf'name="q\.{re.escape(q.id)}[".]', attempt.text)
        ]
        assert questions, attempt.text[:800]
        answers = answer_fields(questions, attempt_id, correct=True)
        review = ada.post(
            f"attempts/{attempt_id}",
            [*answers, ("action", "submit"), ("csrf_token", csrf(attempt.text))],
        )
        assert "You passed." in review.text
        ada.wait_for(quiz_url, "Progress: 1 of 2 quizzes (50%)")

        # A mentoring session logged: the mentoring goal is achieved and a badge issued.
        practice = ada.get("practice").text
        logged = ada.post(
            "practice",
            {
                "csrf_token": csrf(practice),
                "kind": str(template.metric_params["kind"]),
                "happened_on": datetime.now(UTC).date().isoformat(),
                "note": "Shadowed a senior agent's escalations for an hour.",
                "share_note": "yes",
            },
        )
        assert "Practice logged." in logged.text
        achieved = ada.wait_for(mentoring_url, "Achieved")
        assert "Progress: 1 of 1" in achieved

        # The badge, as a VC-JWT and baked into a PNG.
        mine = ada.get("badges/").text
        assert template.title in mine or "badge" in mine.lower()
        compact = ada.get(link(mine, r"\.jwt")).text.strip()
        png = ada.get(link(mine, r"\.png"))
        assert png.headers["Content-Type"].startswith("image/png")
        assert extract_png(png.content) == compact

        # Verified by PyJWT with the key the issuer's kid dereferences to.
        header = jwt.get_unverified_header(compact)
        assert header["alg"] == "RS256"
        assert header["kid"].startswith(f"http://127.0.0.1:{port}/badges/keys/")
        key_document = requests.get(header["kid"], timeout=10)
        assert key_document.status_code == 200
        public = jwt.PyJWK(json.loads(key_document.text))
        claims: dict[str, Any] = jwt.decode(
            compact, key=public.key, algorithms=["RS256"], options={"verify_aud": False}
        )
        assert claims["iss"] == claims["issuer"]["id"]
        assert claims["credentialSubject"]["achievement"]["name"]
        # A payload changed after signing must fail the same check.
        head, _body, signature = compact.split(".")
        changed = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "someone-else"}).encode())
        forged = f"{head}.{changed.decode().rstrip('=')}.{signature}"
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(forged, key=public.key, algorithms=["RS256"], options={"verify_aud": False})

        # The instructor persona of the same demo course reads the note Ada shared.
        with requests.Session() as grace_browser:
            grace = launch_from_demo_lms(lms_url, persona="grace", browser=grace_browser)
            assert grace.status == 200, grace.text[:800]
            staff_page = Learner(grace_browser, re.sub(r"(/s/[^/]+/).*", r"\1", grace.url))
            class_goals = staff_page.get("instructor/goals").text
            assert "Shadowed a senior agent&#39;s escalations for an hour." in class_goals
