"""The production install path: the image's `pip install .`, then compose's worker and beat.

The tree is copied as deploy/Dockerfile's COPY lines say and installed as its RUN line
says (non-editable, into a fresh venv, without the dev tools), then the worker and beat
run with the commands deploy/compose.yaml gives them, against the real Redis broker. A
dependency that only the dev install happens to bring (kombu's Redis transport needs
``packaging``, which pytest brings) fails here as it would in the image.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from lti_tool.config import Settings
from lti_tool.demo.ralph import REPO_ROOT
from lti_tool.queue import TASK_SWEEP, make_celery
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import LaunchState, utcnow
from tests.conftest import embedded_settings
from tests.fixtures.stack import isolated_database, redis_url_or_embedded

pytestmark = pytest.mark.integration

DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
COMPOSE = REPO_ROOT / "deploy" / "compose.yaml"


def copy_like_the_dockerfile(app_dir: Path) -> list[str]:
    """Copy what the Dockerfile copies into ``app_dir`` (its WORKDIR); return its pip argv."""
    pip_argv: list[str] = []
    for line in DOCKERFILE.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "COPY":
            assert not any(w.startswith("--from") for w in words), f"multi-stage: {line}"
            # Flags such as --chown change owners, not what is copied.
            *sources, destination = [w for w in words[1:] if not w.startswith("--")]
            for source in sources:
                origin = REPO_ROOT / source
                target = app_dir / destination
                if destination.endswith("/") or len(sources) > 1:
                    target = target / Path(source).name
                target.parent.mkdir(parents=True, exist_ok=True)
                if origin.is_dir():
                    shutil.copytree(
                        origin, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                    )
                else:
                    shutil.copy2(origin, target)
        elif words[0] == "RUN" and "pip" in words and "install" in words:
            command = words[1 : words.index("&&")] if "&&" in words else words[1:]
            pip_argv = command[command.index("install") :]
    assert pip_argv, "deploy/Dockerfile has no RUN pip install line"
    # The only change: reuse the local pip cache, so the test takes seconds, not minutes.
    return [arg for arg in pip_argv if arg != "--no-cache-dir"]


def compose_command(service: str) -> list[str]:
    command = yaml.safe_load(COMPOSE.read_text())["services"][service]["command"]
    assert isinstance(command, list), f"compose service {service} has no command list"
    return [str(word) for word in command]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(app dir, venv) with the project installed as the image installs it."""
    root = tmp_path_factory.mktemp("image")
    app_dir = root / "app"
    app_dir.mkdir()
    pip_argv = copy_like_the_dockerfile(app_dir)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    result = subprocess.run(  # noqa: S603 - argv from our own Dockerfile
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *pip_argv],
        cwd=app_dir,
        capture_output=True,
        text=True,
        timeout=600,
        env={**clean_env(venv), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    return app_dir, venv


def clean_env(venv: Path) -> dict[str, str]:
    """What the image's processes see: the venv first on PATH, nothing of the dev venv."""
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR")}
    # pip's own configuration (an index mirror, say) is how this machine reaches PyPI.
    keep.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
    return {**keep, "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"}


class Process:
    """A compose command run from the image's WORKDIR, in its own process group."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log_file = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - argv from our compose file
                argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@contextmanager
def running(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[Process]:
    process = Process(argv, cwd, env, log)
    try:
        yield process
    finally:
        process.stop()


def wait_until(condition: Callable[[], bool], process: Process, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if not process.running():
            pytest.fail(f"{what}: the process exited early:\n{process.log()}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s:\n{process.log()}", pytrace=False)
        time.sleep(0.3)


def add_expired_state(settings: Settings, key: str) -> None:
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            session.add(
                LaunchState(key=key, value="{}", expires_at=utcnow() - timedelta(minutes=1))
            )
    finally:
        engine.dispose()


def state_is_gone(settings: Settings, key: str) -> Callable[[], bool]:
    def check() -> bool:
        engine = make_engine(settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                return session.scalar(select(LaunchState.key).where(LaunchState.key == key)) is None
        finally:
            engine.dispose()

    return check


def test_the_image_install_runs_a_worker_and_beat_against_redis(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    app_dir, venv = installed
    # Redis as in production; where scripts/test could not have it, the embedded broker
    # (the transports test below still proves the Redis transport imports).
    redis_url = redis_url_or_embedded()
    with isolated_database(tmp_path) as database_url:
        settings = embedded_settings(
            tmp_path,
            database_url=database_url,
            broker_url=redis_url or "filesystem://localhost/",
            state_store_url=redis_url or "",
            # Beat's only schedule is the sweep: once a second shows beat at work quickly.
            outbox_sweep_seconds=1,
        )
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        env = {**clean_env(venv), **settings.as_env()}

        worker_argv = [*compose_command("worker"), "-n", f"install-{uuid.uuid4().hex[:8]}@%h"]
        beat_argv = compose_command("beat")
        # compose keeps beat's schedule in the container's /tmp; this test gets its own file.
        beat_argv[beat_argv.index("-s") + 1] = str(tmp_path / "celerybeat-schedule")

        with running(worker_argv, app_dir, env, tmp_path / "worker.log") as worker:
            # 1. The worker consumes a task sent to the broker (beat is not running yet).
            add_expired_state(settings, "sent-task")
            sender = make_celery(settings)
            try:
                sender.send_task(TASK_SWEEP)
            finally:
                sender.close()
            wait_until(state_is_gone(settings, "sent-task"), worker, "worker ran the sweep", 90)

            # 2. Beat starts and schedules the sweep, which the worker then runs.
            with running(beat_argv, app_dir, env, tmp_path / "beat.log") as beat:
                add_expired_state(settings, "beat-task")
                wait_until(state_is_gone(settings, "beat-task"), beat, "beat scheduled a sweep", 60)
                assert beat.running() and worker.running()


@pytest.mark.parametrize(
    ("url", "module"),
    [
        ("redis://127.0.0.1:1/0", "kombu.transport.redis"),
        ("amqp://guest:guest@127.0.0.1:1//", "kombu.transport.pyamqp"),
    ],
)
def test_the_image_install_has_the_production_broker_transports(
    installed: tuple[Path, Path], url: str, module: str
) -> None:
    # Building a transport imports its libraries without connecting (no RabbitMQ here).
    _, venv = installed
    code = f"from kombu import Connection; print(type(Connection({url!r}).transport).__module__)"
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(venv),
        cwd=venv,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == module


def test_the_image_install_holds_the_migrations_and_pages(installed: tuple[Path, Path]) -> None:
    # Run outside the WORKDIR, so only the installed package can answer.
    _, venv = installed
    code = (
        "import lti_tool.store.migrate as m, lti_tool.app as a, pathlib; "
        "print(len(list((m.MIGRATIONS_DIR / 'versions').glob('0*.py')))); "
        "print((pathlib.Path(a.__file__).parent / 'web/templates/lesson.html').is_file())"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(venv),
        cwd=venv,
    )
    assert result.returncode == 0, result.stderr
    versions = len(list((REPO_ROOT / "lti_tool/store/migrations/versions").glob("0*.py")))
    assert result.stdout.split() == [str(versions), "True"]
