"""The LRS client's direct POST path (http.client, no proxy) against real loopback sockets:
connections are kept alive and reused, a connection the LRS closed while idle costs a resend
rather than a failed batch, and refusals, silences and redirects are classified as on the
requests path."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.test_platform_http import _self_signed
from xapi.lrs import LRSClient, Outcome

pytestmark = pytest.mark.integration

STATEMENT = {
    "id": "1b0f6f3c-8a1e-4d7b-a0c4-2f1f6d0e7a11",
    "actor": {"mbox": "mailto:sam@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
    "object": {"id": "https://cx.example/activities/1"},
}


@dataclass
class RawLRS:
    """A bare HTTP/1.1 server on a socket: each connection is handed to ``handle``."""

    handle: Callable[[socket.socket, RawLRS], None]
    connections: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)


def read_request(conn: socket.socket, lrs: RawLRS) -> list[str] | None:
    """One request's headers (stored) and the ids in its JSON body; None at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        body += conn.recv(65536)
    lrs.requests.append(headers)
    return [s["id"] for s in json.loads(body)]


def answer(conn: socket.socket, status: str, body: bytes, extra: str = "") -> None:
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


@contextmanager
def raw_lrs(
    handle: Callable[[socket.socket, RawLRS], None], tls: ssl.SSLContext | None = None
) -> Iterator[tuple[RawLRS, str]]:
    lrs = RawLRS(handle)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            lrs.connections += 1
            threading.Thread(target=lambda c=conn: _handled(c, lrs, tls), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield lrs, f"{'https' if tls else 'http'}://127.0.0.1:{port}/xAPI/"
    finally:
        listener.close()


def _handled(conn: socket.socket, lrs: RawLRS, tls: ssl.SSLContext | None) -> None:
    with conn, suppress(ssl.SSLError, OSError):  # a client refusing our certificate hangs up
        if tls is None:
            lrs.handle(conn, lrs)
            return
        with tls.wrap_socket(conn, server_side=True) as wrapped:
            lrs.handle(wrapped, lrs)


def keep_alive(conn: socket.socket, lrs: RawLRS) -> None:
    while (ids := read_request(conn, lrs)) is not None:
        answer(conn, "200 OK", json.dumps(ids).encode())


def one_request_then_hang_up(conn: socket.socket, lrs: RawLRS) -> None:
    # Answers as if the connection stayed open, then closes it: an LRS's idle timeout.
    ids = read_request(conn, lrs)
    if ids is not None:
        answer(conn, "200 OK", json.dumps(ids).encode())


def test_posts_share_one_kept_alive_connection_and_carry_the_headers() -> None:
    with (
        raw_lrs(keep_alive) as (lrs, endpoint),
        LRSClient(endpoint, username="u", password="p") as client,
    ):
        for _ in range(3):
            assert client.post_statements([STATEMENT]).outcome is Outcome.STORED
    assert lrs.connections == 1
    first = lrs.requests[0]
    assert first["authorization"].startswith("Basic ")
    assert first["x-experience-api-version"] == "1.0.3"
    assert first["content-type"] == "application/json"


def test_a_connection_closed_by_the_lrs_while_idle_costs_a_resend_not_a_failure() -> None:
    with (
        raw_lrs(one_request_then_hang_up) as (lrs, endpoint),
        LRSClient(endpoint, username="u", password="p") as client,
    ):
        assert client.post_statements([STATEMENT]).outcome is Outcome.STORED
        # The first connection is closed now; the client finds out on its next POST.
        assert client.post_statements([STATEMENT]).outcome is Outcome.STORED
    assert lrs.connections >= 2


def test_nothing_listening_is_unavailable() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # the port is free and refuses connections
    with LRSClient(f"http://127.0.0.1:{port}/xAPI/", username="u", password="p") as client:
        result = client.post_statements([STATEMENT])
    assert (result.outcome, result.status) == (Outcome.UNAVAILABLE, None)
    assert "connect" in result.detail


def test_an_lrs_that_never_answers_times_out_as_unavailable() -> None:
    release = threading.Event()

    def silent(conn: socket.socket, lrs: RawLRS) -> None:
        read_request(conn, lrs)
        release.wait(10)

    with raw_lrs(silent) as (_, endpoint):
        with LRSClient(endpoint, username="u", password="p", timeout=(1.0, 0.5)) as client:
            result = client.post_statements([STATEMENT])
        release.set()
    assert (result.outcome, result.status) == (Outcome.UNAVAILABLE, None)
    assert "timed out" in result.detail


def test_a_redirect_is_reported_not_followed() -> None:
    def moved(conn: socket.socket, lrs: RawLRS) -> None:
        read_request(conn, lrs)
        answer(conn, "301 Moved Permanently", b"", "Location: https://elsewhere.example/\r\n")

    with (
        raw_lrs(moved) as (lrs, endpoint),
        LRSClient(endpoint, username="u", password="p") as client,
    ):
        result = client.post_statements([STATEMENT])
    assert (result.outcome, result.status) == (Outcome.REJECTED, 301)
    assert "elsewhere.example" in result.detail
    assert len(lrs.requests) == 1


def test_an_overloaded_lrs_is_unavailable_with_its_retry_after() -> None:
    def overloaded(conn: socket.socket, lrs: RawLRS) -> None:
        read_request(conn, lrs)
        answer(conn, "503 Service Unavailable", b'{"detail": "busy"}', "retry-after: 7\r\n")

    with (
        raw_lrs(overloaded) as (_, endpoint),
        LRSClient(endpoint, username="u", password="p") as client,
    ):
        result = client.post_statements([STATEMENT])
    assert (result.outcome, result.status, result.retry_after) == (Outcome.UNAVAILABLE, 503, 7.0)


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_https_checks_the_certificate_against_the_environments_bundle(
    tls: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    context, cert_file = tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
    with (
        raw_lrs(keep_alive, context) as (lrs, endpoint),
        LRSClient(endpoint, username="u", password="p") as client,
    ):
        assert client.post_statements([STATEMENT]).outcome is Outcome.STORED
        assert client.post_statements([STATEMENT]).outcome is Outcome.STORED
    assert lrs.connections == 1


def test_https_refuses_a_certificate_nobody_vouches_for(
    tls: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    context, _ = tls
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with (
        raw_lrs(keep_alive, context) as (lrs, endpoint),
        LRSClient(endpoint, username="u", password="p") as client,
    ):
        result = client.post_statements([STATEMENT])
    assert (result.outcome, result.status) == (Outcome.UNAVAILABLE, None)
    assert "certificate" in result.detail.lower()
    assert lrs.requests == []  # nothing was sent to it
