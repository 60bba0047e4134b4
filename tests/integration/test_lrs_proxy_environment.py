"""The LRS client reads proxy settings once, yet follows them as requests would: through the
proxy named in HTTP_PROXY, straight to a host listed in NO_PROXY."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.servers import serve
from xapi.lrs import LRSClient, Outcome

pytestmark = pytest.mark.integration


class Recorder:
    """A WSGI app that stores every POST it gets and answers like an LRS."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        batch = json.loads(environ["wsgi.input"].read(length) or b"[]")
        self.seen.append((environ.get("HTTP_HOST", ""), environ["PATH_INFO"]))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps([s["id"] for s in batch]).encode()]


STATEMENT = {
    "id": "1b0f6f3c-8a1e-4d7b-a0c4-2f1f6d0e7a11",
    "actor": {"mbox": "mailto:sam@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
    "object": {"id": "https://cx.example/activities/1"},
}


def test_posts_go_through_the_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = Recorder()
    with serve(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with LRSClient("http://lrs.invalid/xAPI/", username="u", password="p") as client:
            for _ in range(2):  # the second request uses what the first looked up
                assert client.post_statements([STATEMENT]).outcome is Outcome.STORED
    assert proxy.seen == [("lrs.invalid", "/xAPI/statements")] * 2


def test_a_host_in_no_proxy_is_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    lrs, proxy = Recorder(), Recorder()
    with serve(lrs) as lrs_url, serve(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with LRSClient(lrs_url + "/xAPI/", username="u", password="p") as client:
            assert client.post_statements([STATEMENT]).outcome is Outcome.STORED
    assert proxy.seen == []
    assert [path for _, path in lrs.seen] == ["/xAPI/statements"]
