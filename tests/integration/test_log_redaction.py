"""gunicorn as deployed (deploy/gunicorn.conf.py) logs learner traffic without session tokens.

A launch, page views, a refusal and a request carrying a session URL as its Referer go
through real gunicorn on loopback; its access and error log (one file here) must show each
request under the token's short reference and never the token itself. Reading the log is
the point of this test: what it must not contain is the feature.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from lti_tool.config import Settings
from lti_tool.demo.ralph import REPO_ROOT, free_port
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.platforms import add_platform
from lti_tool.web.redaction import session_reference
from tests.conftest import embedded_settings
from tests.fixtures.platform import CLAIM, TestPlatform
from tests.fixtures.servers import HttpClient
from tests.fixtures.stack import isolated_database

pytestmark = pytest.mark.integration

GUNICORN_CONF = REPO_ROOT / "deploy" / "gunicorn.conf.py"


@contextmanager
def deployed_gunicorn(settings: Settings, port: int, log: Path) -> Iterator[str]:
    """`gunicorn -c deploy/gunicorn.conf.py` as the Dockerfile runs it, on loopback."""
    env = {
        **os.environ,
        **settings.as_env(),
        "CXA_BIND": f"127.0.0.1:{port}",
        "CXA_WEB_WORKERS": "1",
        "CXA_WEB_THREADS": "2",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [
                *(sys.executable, "-m", "gunicorn"),
                *("-c", str(GUNICORN_CONF), "lti_tool.app:create_app()"),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited early:\n{log.read_text()}", pytrace=False)
            try:
                if requests.get(base_url + "/healthz", timeout=2).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer:\n{log.read_text()}", pytrace=False)
            time.sleep(0.3)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_deployed_gunicorn_logs_no_session_token(
    tmp_path: Path, platform: TestPlatform
) -> None:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with isolated_database(tmp_path) as database_url:
        settings = embedded_settings(
            tmp_path, base_url=f"http://127.0.0.1:{port}", database_url=database_url
        )
        engine = make_engine(database_url)
        upgrade(engine)
        with transaction(make_session_factory(engine)) as session:
            add_platform(session, platform.spec())
        engine.dispose()

        with deployed_gunicorn(settings, port, log) as base_url:
            launch_url = base_url + "/lti/launch"
            client = HttpClient(base_url)
            try:
                login = platform.login(client, target_link_uri=launch_url)
                claims = platform.claims(login.nonce)
                claims[CLAIM + "target_link_uri"] = launch_url
                launched = client.post(
                    "/lti/launch", data={"id_token": platform.sign(claims), "state": login.state}
                )
            finally:
                client.close()
            assert launched.status_code == 303, launched.get_data(as_text=True)
            session_path = urlsplit(launched.headers["Location"]).path
            token = session_path.strip("/").split("/")[1]
            landing = requests.get(base_url + session_path, timeout=10)
            missing = requests.get(base_url + session_path + "no-such-page", timeout=10)
            # The browser sends the session URL as Referer to our own pages (same-origin).
            styled = requests.get(
                base_url + "/static/cxa.css",
                headers={"Referer": base_url + session_path},
                timeout=10,
            )

    assert landing.status_code == 200
    assert landing.headers["Cache-Control"] == "no-store"
    assert missing.status_code == 404
    assert styled.status_code == 200
    text = log.read_text()
    reference = session_reference(token)
    assert token not in text
    # The requests were logged, under the token's reference: access lines and the refusal.
    assert f'"GET /s/~{reference}/ HTTP/1.1" 200' in text, text
    assert f"refused GET /s/~{reference}/no-such-page" in text, text
    assert f'"{base_url}/s/~{reference}/"' in text, text
