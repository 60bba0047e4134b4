"""An LRS that wants OAuth2 client credentials gets a bearer token, configured per destination."""

from __future__ import annotations

import json

import pytest
import responses

from lti_tool.config import Settings
from lti_tool.errors import ConfigError
from workers.tasks import client_for

LRS = "https://lrs.example.com/xAPI/"
TOKEN = "https://auth.example.com/oauth2/token"


def _destinations(**extra: str) -> dict[str, str]:
    entry = {"name": "watershed", "endpoint": LRS, **extra}
    return {"CXA_LRS_DESTINATIONS": json.dumps([entry])}


@responses.activate
def test_the_worker_posts_with_a_bearer_token_from_the_token_endpoint() -> None:
    settings = Settings.from_env(
        _destinations(token_url=TOKEN, client_id="cxa", client_secret="s3cret")
    )
    (destination,) = settings.destinations
    responses.post(
        TOKEN, json={"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}
    )
    posted = responses.post(LRS + "statements", json=["id-1"])
    with client_for(destination) as client:
        assert client.post_statements([{"id": "id-1"}]).delivered
    assert posted.calls[0].request.headers["Authorization"] == "Bearer tok-1"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"token_url": TOKEN}, "go together"),
        ({"token_url": TOKEN, "client_id": "a"}, "go together"),
        (
            {
                "token_url": TOKEN,
                "client_id": "a",
                "client_secret": "b",
                "username": "u",
                "password": "p",
            },
            "not both",
        ),
        ({"token_url": "ftp://x", "client_id": "a", "client_secret": "b"}, "token_url"),
    ],
)
def test_incomplete_or_mixed_credentials_are_refused(extra: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        Settings.from_env(_destinations(**extra))
