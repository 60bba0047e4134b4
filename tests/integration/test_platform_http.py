"""The bounded platform fetcher against real loopback servers that misbehave on purpose.

Each server is a real socket: a WSGI app served by tests/fixtures/servers.py, or, where the
fault sits below HTTP (headers dripped a byte at a time), a bare socket server.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, Response, jsonify, redirect
from werkzeug.serving import make_server

from lti_tool.egress import EgressPolicy
from lti_tool.lti.platform_http import MAX_BODY_BYTES, PlatformFetchError, fetch_json
from tests.fixtures.servers import serve

pytestmark = pytest.mark.integration

JWKS = {"keys": [{"kid": "k1", "kty": "RSA", "n": "AQAB", "e": "AQAB"}]}
OPEN = EgressPolicy(enforce=False)
# Short enough to keep the suite quick; the drips below would last 20 s without it.
DEADLINE = 1.0
DRIP_SECONDS = 20.0


class Platform:
    """A misbehaving platform; ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.app = Flask("misbehaving-platform")
        self.app.before_request(self._count)
        app = self.app

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(JWKS)

        @app.get("/moved")
        def moved() -> Any:
            return redirect("/jwks", code=302)

        @app.get("/big")
        def big() -> Any:
            return Response(b"[" + b"0," * (512 * 1024) + b"0]", mimetype="application/json")

        @app.get("/big-unannounced")
        def big_unannounced() -> Any:
            def body() -> Iterator[bytes]:
                yield b"["
                for _ in range(1024):
                    yield b"0," * 512
                yield b"0]"

            return Response(body(), mimetype="application/json")  # chunked: no Content-Length

        @app.get("/drip")
        def drip() -> Any:
            def body() -> Iterator[bytes]:
                ends = time.monotonic() + DRIP_SECONDS
                yield b'{"keys": ['
                while time.monotonic() < ends:
                    time.sleep(0.1)
                    yield b" "
                yield b"]}"

            return Response(body(), mimetype="application/json")

    def _count(self) -> None:
        from flask import request

        self.hits[request.path] = self.hits.get(request.path, 0) + 1


@pytest.fixture
def platform() -> Iterator[tuple[Platform, str]]:
    served = Platform()
    with serve(served.app) as base_url:
        yield served, base_url


@contextmanager
def dripper(first: bytes, drip: bytes) -> Iterator[str]:
    """A bare socket server that answers ``first``, then ``drip`` every 0.1 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def run() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(first)
                ends = time.monotonic() + DRIP_SECONDS
                try:
                    while time.monotonic() < ends and not stop.is_set():
                        conn.sendall(drip)
                        time.sleep(0.1)
                except OSError:
                    pass  # the client gave up, as it should

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_a_well_behaved_platform_is_fetched(platform: tuple[Platform, str]) -> None:
    _, base_url = platform

    assert fetch_json(base_url + "/jwks", egress=OPEN) == JWKS


def test_a_dripping_body_is_cut_at_the_deadline(platform: tuple[Platform, str]) -> None:
    _, base_url = platform
    started = time.monotonic()

    with pytest.raises(PlatformFetchError, match="did not answer in full within 1 s"):
        fetch_json(base_url + "/drip", egress=OPEN, deadline=DEADLINE)

    # Every single read is quick, so only a deadline over the whole fetch ends it early.
    assert time.monotonic() - started < DRIP_SECONDS / 2


def test_dripping_headers_are_cut_at_the_deadline() -> None:
    with dripper(b"HTTP/1.1 200 OK\r\n", b"X") as base_url:
        started = time.monotonic()

        with pytest.raises(PlatformFetchError, match="did not answer in full within 1 s"):
            fetch_json(base_url + "/jwks", egress=OPEN, deadline=DEADLINE)

        assert time.monotonic() - started < DRIP_SECONDS / 2


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_a_body_over_the_cap_is_refused(platform: tuple[Platform, str], path: str) -> None:
    _, base_url = platform

    with pytest.raises(PlatformFetchError, match=f"more than {MAX_BODY_BYTES // 1024} KB"):
        fetch_json(base_url + path, egress=OPEN)


def test_a_redirect_is_refused_not_followed(platform: tuple[Platform, str]) -> None:
    served, base_url = platform

    with pytest.raises(PlatformFetchError, match=r"HTTP 302 to /jwks.*register the final URL"):
        fetch_json(base_url + "/moved", egress=OPEN)

    assert served.hits == {"/moved": 1}


def test_production_refuses_a_loopback_platform_before_connecting(
    platform: tuple[Platform, str],
) -> None:
    served, base_url = platform

    with pytest.raises(PlatformFetchError, match="a loopback address"):
        fetch_json(base_url + "/jwks", egress=EgressPolicy(enforce=True))

    assert served.hits == {}


def test_production_fetches_a_loopback_platform_the_operator_allows(
    platform: tuple[Platform, str],
) -> None:
    _, base_url = platform
    allowed = EgressPolicy(enforce=True, allowed_hosts=frozenset({"127.0.0.1"}))

    assert fetch_json(base_url + "/jwks", egress=allowed) == JWKS


def test_a_name_that_turns_private_after_the_check_is_refused_at_connect(
    platform: tuple[Platform, str],
) -> None:
    served, base_url = platform
    port = base_url.rsplit(":", 1)[1]
    # DNS rebinding: the pre-check is told "public", the connection then lands on loopback.
    rebinding = EgressPolicy(enforce=True, resolve=lambda _host: ["93.184.216.34"])

    with pytest.raises(
        PlatformFetchError, match=r"localhost:[0-9]+/jwks points at localhost .*a loopback address"
    ):
        fetch_json(f"http://localhost:{port}/jwks", egress=rebinding)

    assert served.hits == {}


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The misbehaving platform over TLS, its certificate trusted through the CA bundle."""
    cert_file, key_file = _self_signed(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = make_server("127.0.0.1", 0, Platform().app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_tls_platform_is_fetched_through_the_checked_connection(tls_platform: str) -> None:
    allowed = EgressPolicy(enforce=True, allowed_hosts=frozenset({"127.0.0.1"}))

    assert fetch_json(tls_platform + "/jwks", egress=allowed) == JWKS


def test_a_dripping_tls_body_is_cut_at_the_deadline(tls_platform: str) -> None:
    started = time.monotonic()

    with pytest.raises(PlatformFetchError, match="did not answer in full within 1 s"):
        fetch_json(tls_platform + "/drip", egress=OPEN, deadline=DEADLINE)

    assert time.monotonic() - started < DRIP_SECONDS / 2


def test_a_dripping_tls_handshake_is_cut_at_the_deadline() -> None:
    # A TLS record header announcing 16 KB of handshake, whose bytes then trickle in.
    with dripper(b"\x16\x03\x03\x40\x00", b"\x00") as base_url:
        url = base_url.replace("http://", "https://") + "/jwks"
        started = time.monotonic()

        with pytest.raises(PlatformFetchError, match="did not answer in full within 1 s"):
            fetch_json(url, egress=OPEN, deadline=DEADLINE)

        assert time.monotonic() - started < DRIP_SECONDS / 2
