"""Bounded requests for JSON to platform URLs: key sets, OpenID configurations, registrations.

A platform URL is fetched on a learner's request path, so a slow, huge or hostile answer
must not hold or exhaust a worker: the body is read by streaming and dropped past a size
cap, one deadline covers connecting, headers and body (a per-read timeout does not: a
server dripping a byte every few seconds never trips it), redirects are refused (they
could lead anywhere, including inside our network), and every connection's peer address
is checked against the egress policy after DNS, so a name that changes to a private
address between registration and fetch is still refused.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from lti_tool.egress import EgressPolicy, EgressRefused
from lti_tool.errors import ToolError

#: Largest body accepted. A JWK Set of a few dozen RSA keys is under 50 KB.
MAX_BODY_BYTES = 256 * 1024
#: Seconds for the whole fetch: connect, request, headers and body together.
DEADLINE_SECONDS = 5.0
# Connecting should take well under a second on a healthy network; leave the rest to reading.
CONNECT_TIMEOUT_SECONDS = 3.05
_CHUNK_BYTES = 16 * 1024


class PlatformFetchError(ToolError):
    """Raised when a platform URL cannot be fetched within our limits or is not JSON."""

    status = 502
    title = "The learning platform could not be reached"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        #: The platform's HTTP status when it answered with an error; None otherwise.
        self.status_code = status_code


class _Connections:
    """The sockets one fetch opened: checked at connect time, cut at the deadline.

    Each is kept as a duplicate descriptor of our own. TLS wrapping detaches the socket
    object urllib3 connected with, so only a descriptor we hold still reaches the
    connection, during the handshake too; and since we close it ourselves, a cut can never
    hit a descriptor number the process has reused for something else.
    """

    def __init__(self, egress: EgressPolicy) -> None:
        self.egress = egress
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False

    @property
    def were_cut(self) -> bool:
        with self._lock:
            return self._cut

    def opened(self, host: str, sock: socket.socket) -> None:
        peer = str(sock.getpeername()[0])
        # The address actually connected to, not the one a resolver said earlier: this is
        # what stops DNS rebinding between the pre-check and the connection.
        reason = self.egress.refusal(host, [peer])
        if reason:
            sock.close()
            raise EgressRefused(reason)
        held = sock.dup()
        with self._lock:
            self._held.append(held)
            cut = self._cut
        if cut:
            _shut(held)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            held = list(self._held)
        for sock in held:
            _shut(sock)

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            sock.close()


def _shut(sock: socket.socket) -> None:
    # shutdown acts on the connection behind every descriptor of it, and wakes a read
    # blocked in another thread (plain or TLS) with end-of-file.
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


def _adapter(connections: _Connections) -> HTTPAdapter:
    def checked(base: type[HTTPConnection]) -> type[HTTPConnection]:
        def _new_conn(self: HTTPConnection) -> socket.socket:
            sock = base._new_conn(self)
            connections.opened(self.host, sock)
            return sock

        return type(f"Checked{base.__name__}", (base,), {"_new_conn": _new_conn})

    http_pool = type(
        "CheckedHTTPConnectionPool",
        (HTTPConnectionPool,),
        {"ConnectionCls": checked(HTTPConnection)},
    )
    https_pool = type(
        "CheckedHTTPSConnectionPool",
        (HTTPSConnectionPool,),
        {"ConnectionCls": checked(HTTPSConnection)},
    )

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    return Adapter(max_retries=0)


def fetch_json(
    url: str,
    *,
    egress: EgressPolicy,
    headers: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> Any:
    """GET ``url`` and parse its JSON body; PlatformFetchError says what went wrong.

    ``max_bytes`` and ``deadline`` default to MAX_BODY_BYTES and DEADLINE_SECONDS.
    """
    return _fetch("GET", url, None, egress, headers, max_bytes, deadline)


def post_json(
    url: str,
    body: Any,
    *,
    egress: EgressPolicy,
    headers: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> Any:
    """POST ``body`` as JSON to ``url`` and parse the JSON answer (200 or 201), within the
    same limits as fetch_json; PlatformFetchError says what went wrong, with the start of
    the platform's error body when it refused."""
    return _fetch("POST", url, body, egress, headers, max_bytes, deadline)


def _fetch(
    method: str,
    url: str,
    payload: Any,
    egress: EgressPolicy,
    headers: Mapping[str, str] | None,
    max_bytes: int | None,
    deadline: float | None,
) -> Any:
    max_bytes = MAX_BODY_BYTES if max_bytes is None else max_bytes
    deadline = DEADLINE_SECONDS if deadline is None else deadline
    try:
        egress.require_public(url)
    except EgressRefused as err:
        raise PlatformFetchError(str(err)) from err
    connections = _Connections(egress)
    timer = threading.Timer(deadline, connections.cut)
    timer.daemon = True
    started = time.monotonic()
    late = PlatformFetchError(f"{url} did not answer in full within {deadline:g} s")
    try:
        with requests.Session() as http:
            adapter = _adapter(connections)
            http.mount("http://", adapter)
            http.mount("https://", adapter)
            timer.start()
            body = _send(http, method, url, payload, headers, max_bytes, deadline)
    except EgressRefused as err:  # the address connected to, checked after DNS
        raise PlatformFetchError(f"{url} {err}") from err
    except (requests.RequestException, OSError) as err:
        if connections.were_cut or time.monotonic() - started >= deadline:
            raise late from err
        raise PlatformFetchError(f"{url} could not be fetched: {_short(err)}") from err
    finally:
        timer.cancel()
        connections.close()
    # A cut connection can look like a body that simply ended: never trust what was cut.
    if connections.were_cut:
        raise late
    try:
        return json.loads(body)
    except ValueError as err:
        raise PlatformFetchError(f"{url} did not answer with JSON") from err


def _send(
    http: requests.Session,
    method: str,
    url: str,
    payload: Any,
    headers: Mapping[str, str] | None,
    max_bytes: int,
    deadline: float,
) -> bytes:
    # Identity encoding: the cap then bounds what we hold, not a compressed size.
    sent = {"Accept": "application/json", "Accept-Encoding": "identity", **(headers or {})}
    timeout = (min(CONNECT_TIMEOUT_SECONDS, deadline), deadline)
    extra: dict[str, Any] = {} if method == "GET" else {"json": payload}
    with http.request(
        method,
        url,
        headers=sent,
        timeout=timeout,
        allow_redirects=False,
        stream=True,
        **extra,
    ) as got:
        if 300 <= got.status_code < 400:
            where = got.headers.get("Location", "nowhere")
            raise PlatformFetchError(
                f"{url} answered with a redirect (HTTP {got.status_code} to {where}); "
                "redirects are not followed: register the final URL"
            )
        if got.status_code != 200 and not (method == "POST" and got.status_code == 201):
            raise PlatformFetchError(
                f"{url} answered HTTP {got.status_code}{_error_detail(got, max_bytes)}",
                status_code=got.status_code,
            )
        declared = got.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise PlatformFetchError(_too_big(url, max_bytes))
        body = bytearray()
        for chunk in got.iter_content(_CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                raise PlatformFetchError(_too_big(url, max_bytes))
        return bytes(body)


def _error_detail(got: requests.Response, max_bytes: int) -> str:
    # A refusal's body often says why (an OAuth error, a registration problem): show the
    # start of it, read within the same cap, never the whole of a hostile answer.
    if got.request.method == "GET":
        return ""
    text = bytearray()
    for chunk in got.iter_content(_CHUNK_BYTES):
        text += chunk
        if len(text) > min(max_bytes, 2048):
            break
    shown = bytes(text[:300]).decode("utf-8", "replace").strip()
    return f": {shown}" if shown else ""


def _too_big(url: str, max_bytes: int) -> str:
    return f"{url} answered with more than {max_bytes // 1024} KB; refused"


def _short(err: Exception) -> str:
    # requests nests urllib3's reasons several levels deep; the innermost says it plainly.
    while err.__context__ is not None and isinstance(err.__context__, Exception):
        err = err.__context__
    return str(err) or type(err).__name__
