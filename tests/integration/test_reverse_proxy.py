"""deploy/nginx.conf in front of gunicorn: slow clients no longer starve /healthz.

Real nginx runs our config with only its ports, upstream and certificate paths moved to
loopback and a temporary folder; gunicorn runs with deploy/gunicorn.conf.py. nginx comes
from the system (scripts/test installs the Debian package); if it is missing the test
fails and says so, it never skips.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lti_tool.demo.ralph import REPO_ROOT, free_port
from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade
from tests.conftest import embedded_settings

pytestmark = pytest.mark.integration

NGINX_CONF = REPO_ROOT / "deploy" / "nginx.conf"
GUNICORN_CONF = REPO_ROOT / "deploy" / "gunicorn.conf.py"
#: As many slow clients as the audit used: one gunicorn worker's four threads.
SLOW_CLIENTS = 4
#: /healthz must answer well inside this; a starved one never answers at all.
HEALTHZ_TIMEOUT = 5.0


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        pytest.fail(
            "nginx is not installed: `apt-get install nginx` (scripts/test does this as root)",
            pytrace=False,
        )
    return found


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def loopback_config(
    folder: Path, *, https_port: int, http_port: int, upstream: str, cert: Path, key: Path
) -> Path:
    """deploy/nginx.conf with its ports, upstream and file paths moved; nothing else."""
    text = NGINX_CONF.read_text()
    replacements = [
        (r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"server web:8000;", f"server {upstream};"),
        (r"/etc/nginx/certs/fullchain\.pem", str(cert)),
        (r"/etc/nginx/certs/privkey\.pem", str(key)),
        (r"access_log /dev/stdout cxa;", f"access_log {folder / 'access.log'} cxa;"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"deploy/nginx.conf no longer has exactly one {pattern!r}"
    # Temporary files of a non-root run, kept out of the system's folders.
    text = text.replace(
        "http {\n",
        "http {\n"
        + "".join(
            f"    {kind}_temp_path {folder / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
        1,
    )
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> None:
        self.log_file = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def wait_for(self, url: str, *, verify: bool | str = True) -> None:
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"{url}: the server exited:\n{self.log()}", pytrace=False)
            try:
                if requests.get(url, timeout=2, verify=verify).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{url} did not answer within 60 s:\n{self.log()}", pytrace=False)
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def slow_clients(port: int, *, tls: bool, count: int = SLOW_CLIENTS) -> Iterator[None]:
    """Clients that start a request and never finish its headers, as a slowloris does."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with ExitStack() as stack:
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            if tls:
                sock = stack.enter_context(context.wrap_socket(sock))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        # Let the server pick each connection up before the real client comes.
        time.sleep(1.0)
        yield


def healthz_answers(url: str, *, verify: bool | str = True) -> bool:
    try:
        response = requests.get(url, timeout=HEALTHZ_TIMEOUT, verify=verify)
    except requests.Timeout:
        return False
    return response.status_code == 200


def test_slow_clients_do_not_starve_healthz_behind_nginx(tmp_path: Path) -> None:
    nginx = nginx_binary()
    settings = embedded_settings(tmp_path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    web_port, https_port, http_port = free_port(), free_port(), free_port()
    web_env = {
        **os.environ,
        **settings.as_env(),
        "CXA_BIND": f"127.0.0.1:{web_port}",
        # One worker of four threads: what four slow clients were enough to fill.
        "CXA_WEB_WORKERS": "1",
        "CXA_WEB_THREADS": "4",
    }
    gunicorn = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c", str(GUNICORN_CONF), "lti_tool.app:create_app()",
    ]  # fmt: skip
    cert, key = self_signed(tmp_path)
    config = loopback_config(
        tmp_path,
        https_port=https_port,
        http_port=http_port,
        upstream=f"127.0.0.1:{web_port}",
        cert=cert,
        key=key,
    )
    nginx_argv = [
        nginx, "-c", str(config), "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
        "-g", f"daemon off; pid {tmp_path / 'nginx.pid'};",
    ]  # fmt: skip
    direct = f"http://127.0.0.1:{web_port}/healthz"
    proxied = f"https://127.0.0.1:{https_port}/healthz"

    with running(Server(gunicorn, web_env, tmp_path / "gunicorn.log", REPO_ROOT)) as web:
        web.wait_for(direct)
        proxy = Server(nginx_argv, dict(os.environ), tmp_path / "nginx.log", tmp_path)
        with running(proxy):
            proxy.wait_for(proxied, verify=str(cert))

            # Plain http only sends browsers to https.
            redirect = requests.get(
                f"http://127.0.0.1:{http_port}/healthz", allow_redirects=False, timeout=5
            )
            assert redirect.status_code == 301
            assert redirect.headers["Location"].startswith("https://")

            # A session token in the path or the Referer never reaches nginx's access log.
            token = "T0kenT0kenT0kenT0kenT0kenT0kenT0kenT0kenT0k"
            requests.get(
                f"https://127.0.0.1:{https_port}/s/{token}/courses",
                headers={"Referer": f"https://127.0.0.1:{https_port}/s/{token}/"},
                verify=str(cert),
                timeout=5,
            )

            # Through the proxy, slow clients cost gunicorn nothing.
            with slow_clients(https_port, tls=True):
                started = time.monotonic()
                assert healthz_answers(proxied, verify=str(cert)), "healthz starved behind nginx"
                assert time.monotonic() - started < HEALTHZ_TIMEOUT

        access = (tmp_path / "access.log").read_text()
        assert "/s/~redacted/courses" in access
        assert token not in access

        # The same clients straight at gunicorn starve it: what the proxy is there for. (If
        # gunicorn ever times header reads out itself, this line says the test can go.)
        with slow_clients(web_port, tls=False):
            assert not healthz_answers(direct), "gunicorn alone no longer starves"
