"""Dynamic Registration end to end over HTTP: an operator's invitation, the demo LMS's
"Add LTI Advantage", the tool's registration, and a launch of the new registration."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from lti_tool.app import create_app
from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms
from lti_tool.demo.ralph import free_port
from lti_tool.services import Services
from lti_tool.store import registrations
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import Platform, PlatformState, RegistrationInvitation
from tests.conftest import embedded_settings
from tests.fixtures.servers import serve

pytestmark = pytest.mark.integration

_FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"', re.S)
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


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
    try:
        with (
            serve(create_app(services=services), port=tool_port),
            serve(create_demo_lms(lms), port=lms_port),
        ):
            yield Stack(settings.base_url, lms.base_url, services)
    finally:
        services.close()


def invite(stack: Stack) -> str:
    with transaction(stack.services.sessions) as session:
        created = registrations.create_invitation(
            session, lifetime=timedelta(hours=1), name="Demo LMS (registered itself)"
        )
    return f"{stack.tool_url}/lti/register/{created.token}"


def add_tool_in_lms(stack: Stack, registration_url: str) -> requests.Response:
    """The LMS administrator pastes the invitation URL and clicks "Add LTI Advantage"."""
    return requests.get(
        stack.lms_url + "/register-tool", params={"url": registration_url}, timeout=30
    )


def post_form(browser: requests.Session, page: requests.Response) -> requests.Response:
    action = _FORM.search(page.text)
    assert action, page.text[:1500]
    fields = {name: html.unescape(value) for name, value in _INPUT.findall(page.text)}
    return browser.post(html.unescape(action.group(1)), data=fields, timeout=30)


def test_an_invited_lms_registers_itself_and_its_learner_launches(stack: Stack) -> None:
    registered = add_tool_in_lms(stack, invite(stack))

    assert registered.status_code == 200, registered.text[:2000]
    assert "CX Academy is registered" in registered.text
    assert "lti-close.js" in registered.text
    with stack.services.sessions() as session:
        platform = session.scalars(select(Platform)).one()
        client_id = platform.client_id
        assert platform.name == "Demo LMS (registered itself)"
        assert platform.issuer == stack.lms_url
        assert platform.state is PlatformState.ACTIVE
        [deployment] = platform.deployments
        assert deployment.deployment_id.startswith("dr-deployment-")
        invitation = session.scalars(select(RegistrationInvitation)).one()
        assert invitation.used_at is not None and invitation.platform_id == platform.id

    ada = requests.Session()
    form_page = ada.get(f"{stack.lms_url}/dr/launch/{client_id}/ada/cx-academy", timeout=30)
    assert form_page.status_code == 200, form_page.text[:1500]
    home = post_form(ada, form_page)
    assert home.status_code == 200, home.text[:1500]
    assert "/lti/" not in home.url  # landed on the learner's pages, not an error


def test_an_invitation_registers_only_once(stack: Stack) -> None:
    url = invite(stack)
    assert add_tool_in_lms(stack, url).status_code == 200

    again = add_tool_in_lms(stack, url)

    assert again.status_code == 403
    assert "already used" in again.text
    with stack.services.sessions() as session:
        assert len(session.scalars(select(Platform)).all()) == 1


def test_a_reused_registration_token_is_refused_by_the_lms(stack: Stack) -> None:
    first = requests.get(
        stack.lms_url + "/register-tool",
        params={"url": invite(stack)},
        allow_redirects=False,
        timeout=30,
    )
    tool_page = first.headers["Location"]
    assert requests.get(tool_page, timeout=30).status_code == 200
    # The same token with a fresh invitation: only the LMS's one-time token stops it.
    second_invitation = invite(stack)
    replay = requests.get(second_invitation + "?" + tool_page.split("?", 1)[1], timeout=30)

    assert replay.status_code == 400
    assert "registration token was refused" in replay.text
