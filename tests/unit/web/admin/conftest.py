"""Console fixtures: an operator account and a signed-in console over the test client."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from lti_tool.services import Services
from lti_tool.store import operators
from lti_tool.store.db import transaction

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(page: Any) -> str:
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, "console forms carry a CSRF token"
    return found.group(1)


@dataclass
class OperatorAccount:
    name: str
    password: str


@dataclass
class Console:
    """A browser signed in to /admin."""

    client: FlaskClient
    operator: OperatorAccount

    def csrf(self, path: str = "/admin/") -> str:
        return csrf_of(self.client.get(path))

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> Any:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf()
        return self.client.post(path, data=form)


def add_operator(services: Services, name: str = "ops") -> OperatorAccount:
    password = secrets.token_urlsafe(16)
    with transaction(services.sessions) as session:
        operators.add_operator(session, name, password)
    return OperatorAccount(name, password)


def sign_in(client: FlaskClient, name: str, password: str, **extra: str) -> Any:
    form = client.get("/admin/sign-in")
    return client.post(
        "/admin/sign-in",
        data={"name": name, "password": password, "csrf_token": csrf_of(form), **extra},
    )


@pytest.fixture
def operator(services: Services) -> OperatorAccount:
    return add_operator(services)


@pytest.fixture
def console(client: FlaskClient, operator: OperatorAccount) -> Console:
    response = sign_in(client, operator.name, operator.password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return Console(client, operator)
