"""Deep Linking end to end over HTTP: the demo LMS asks, the instructor picks a quiz with a
line item, the LMS verifies the signed answer against the tool's JWKS and lists the link,
and a learner who opens it lands on the quiz."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from lti_tool.app import create_app
from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms, register_with_tool
from lti_tool.demo.ralph import free_port
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from tests.conftest import embedded_settings
from tests.fixtures.servers import serve

pytestmark = pytest.mark.integration

QUIZ = "quiz:service-foundations-quiz"
_FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"', re.S)
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_PLACED = re.compile(r'href="(/placed/[0-9a-f]+/launch/ada)"')


@dataclass
class Stack:
    tool_url: str
    lms_url: str
    services: Services


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    tool_port, lms_port = free_port(), free_port()
    settings = embedded_settings(tmp_path, base_url=f"http://127.0.0.1:{tool_port}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    lms = DemoLMSConfig(f"http://127.0.0.1:{lms_port}", settings.base_url, tmp_path / "lms")
    services = Services.build(settings)
    with transaction(services.sessions) as session:
        register_with_tool(session, lms)
    try:
        with (
            serve(create_app(services=services), port=tool_port),
            serve(create_demo_lms(lms), port=lms_port),
        ):
            yield Stack(settings.base_url, lms.base_url, services)
    finally:
        services.close()


def post_form(browser: requests.Session, page: requests.Response) -> requests.Response:
    """What the auto-submitting page's script (or its button) does: post its hidden fields."""
    action = _FORM.search(page.text)
    assert action, page.text[:1500]
    fields = {name: html.unescape(value) for name, value in _INPUT.findall(page.text)}
    return browser.post(html.unescape(action.group(1)), data=fields, timeout=30)


def deep_link_as_grace(stack: Stack) -> tuple[requests.Session, requests.Response]:
    """Grace clicks "Add CX Academy content": login, the LMS's id_token, the picker."""
    grace = requests.Session()
    form_page = grace.get(stack.lms_url + "/deep-link/grace", timeout=30)
    assert form_page.status_code == 200, form_page.text[:1500]
    picker = post_form(grace, form_page)
    assert picker.status_code == 200, picker.text[:1500]
    assert picker.url.endswith("/instructor/content")
    return grace, picker


def choose_quiz(grace: requests.Session, picker: requests.Response) -> requests.Response:
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', picker.text)
    assert csrf
    response = grace.post(
        picker.url,
        data=[
            ("csrf_token", csrf.group(1)),
            ("item", QUIZ),
            (f"opt.{QUIZ}.graded", "yes"),
            (f"opt.{QUIZ}.pass_mark", "80"),
            (f"opt.{QUIZ}.attempts", "2"),
            (f"opt.{QUIZ}.draw", "10"),
            (f"opt.{QUIZ}.counts", "best"),
            ("action", "place"),
        ],
        timeout=30,
    )
    assert response.status_code == 200, response.text[:1500]
    assert 'id="deep-link-return"' in response.text
    return response


def test_an_instructor_places_a_graded_quiz_and_a_learner_lands_on_it(stack: Stack) -> None:
    grace, picker = deep_link_as_grace(stack)
    returned = choose_quiz(grace, picker)

    placed = post_form(grace, returned)

    assert placed.status_code == 200, placed.text[:1500]
    assert placed.url == stack.lms_url + "/deep-link/return"
    assert "1 activity placed" in placed.text
    assert "Service Foundations final quiz (graded, out of 100)" in placed.text
    assert "1 CX Academy activity added." in placed.text

    course = requests.get(stack.lms_url + "/", timeout=30)
    assert QUIZ in course.text
    assert "gradebook column" in course.text
    launch_path = _PLACED.search(course.text)
    assert launch_path, course.text[-2000:]

    ada = requests.Session()
    form_page = ada.get(stack.lms_url + launch_path.group(1), timeout=30)
    landing = post_form(ada, form_page)

    assert landing.status_code == 200, landing.text[:1500]
    assert landing.url.endswith("/courses/service-foundations/quiz")
    assert "Service Foundations final quiz" in landing.text


def test_the_lms_refuses_a_replayed_or_tampered_response(stack: Stack) -> None:
    grace, picker = deep_link_as_grace(stack)
    returned = choose_quiz(grace, picker)
    token = dict(_INPUT.findall(returned.text))["JWT"]
    header, payload, signature = token.split(".")
    tampered = ".".join(
        [header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )

    refused = grace.post(stack.lms_url + "/deep-link/return", data={"JWT": tampered}, timeout=30)
    assert refused.status_code == 400
    assert "refused" in refused.text

    accepted = grace.post(stack.lms_url + "/deep-link/return", data={"JWT": token}, timeout=30)
    assert accepted.status_code == 200

    replayed = grace.post(stack.lms_url + "/deep-link/return", data={"JWT": token}, timeout=30)
    assert replayed.status_code == 400
    assert "nonce missing or already used" in html.unescape(replayed.text)


def test_cancel_places_nothing(stack: Stack) -> None:
    grace, picker = deep_link_as_grace(stack)
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', picker.text)
    assert csrf
    returned = grace.post(
        picker.url, data={"csrf_token": csrf.group(1), "action": "cancel"}, timeout=30
    )

    result = post_form(grace, returned)

    assert result.status_code == 200
    assert "Nothing placed" in result.text
    assert "No CX Academy content was added." in result.text
    assert "Nothing placed yet." in requests.get(stack.lms_url + "/", timeout=30).text


def test_a_learner_cannot_start_a_deep_linking_request_in_the_demo_lms(stack: Stack) -> None:
    assert requests.get(stack.lms_url + "/deep-link/ada", timeout=30).status_code == 404
