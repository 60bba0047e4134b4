"""The production web server set-up (deploy/gunicorn.conf.py) serving from several workers.

The app is built once in the master before the fork (preload_app); each worker must then
drop the database connections it inherited, or two workers would talk over one socket.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from lti_tool.config import Settings
from lti_tool.demo.ralph import REPO_ROOT, free_port
from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade
from tests.fixtures.stack import isolated_database

pytestmark = pytest.mark.integration


def test_preloaded_workers_share_no_database_connection(tmp_path: Path) -> None:
    with isolated_database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        port = free_port()
        env = Settings(
            base_url=f"http://127.0.0.1:{port}", database_url=url, var_dir=tmp_path
        ).as_env()
        env.update(CXA_BIND=f"127.0.0.1:{port}", CXA_WEB_WORKERS="3", CXA_WEB_THREADS="4")
        log = (tmp_path / "gunicorn.log").open("wb")
        argv = [
            sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "deploy/gunicorn.conf.py"),
            "lti_tool.app:create_app()",
        ]  # fmt: skip
        server = subprocess.Popen(  # noqa: S603 - fixed argv
            argv, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "gunicorn.log").read_text(errors="replace"))
                time.sleep(0.2)

            def fetch(n: int) -> int:
                path = "/healthz" if n % 2 else "/.well-known/jwks.json"
                return requests.get(base + path, timeout=30).status_code

            with ThreadPoolExecutor(12) as pool:
                statuses = list(pool.map(fetch, range(240)))
            assert statuses == [200] * 240, (tmp_path / "gunicorn.log").read_text(errors="replace")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
