"""Run a real Learning Record Store (Ralph 5.1.0) on loopback for the demo and the tests.

Ralph lives in its own virtualenv (``scripts/setup-ralph.sh``) because its ``lrs`` extra
pins FastAPI, uvicorn and httpx versions the app must not inherit. This module only uses
the standard library so the app side can drive Ralph without importing any of it.

Ralph 5.1.0 facts this module is built around (checked against the real package):

* Its FS LRS backend writes with operation type ``create`` by default, so the first POST
  creates ``fs_lrs.jsonl`` and every later POST answers 500 ("already exists and overwrite
  is not allowed"). No setting changes that in 5.1.0 (it is a class attribute), so the
  bootstrap below switches the class to ``append`` before the app is imported.
* The FS backend records every read and write of its file in a JSON history (meant for
  the ``ralph list --new`` CLI) and rewrites that whole file on each request, so it grows
  without bound; the LRS API never uses it, so the bootstrap turns it off.
* ``ralph runserver`` forces uvicorn's auto-reload, so we run uvicorn ourselves.
* Querying the FS backend: ``?verb=`` and ``?activity=`` never match (the query model
  wraps them in an ``IRI`` RootModel that never equals the stored string); ``since`` and
  ``until`` compare the statement ``timestamp`` (not ``stored``), and a single stored
  timestamp without a time zone makes every later ``since`` query answer 500. Statements
  must therefore always carry a zone-aware timestamp.
* An identical re-send answers 204 only when the statement has its own timestamp; without
  one Ralph stamps "now", the copies differ, and it answers 409.
* A ``statementId`` GET answers ``{"statements": [...]}``, not the bare statement, and
  ``more`` is a server-relative URL (``/xAPI/statements?...&search_after=<id>``).
* Settings are read from ``RALPH_*`` variables and from a ``.env`` in the working
  directory, so the child gets a clean ``RALPH_*`` set and runs inside ``data_dir``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_FILE_NAME = "ralph.log"
AUTH_FILE_NAME = "auth.json"
XAPI_VERSION = "1.0.3"


def default_venv() -> Path:
    """Where ``scripts/setup-ralph.sh`` puts Ralph's virtualenv."""
    return Path(os.environ.get("CXA_RALPH_VENV") or REPO_ROOT / ".venv-ralph")


# Runs with the Ralph venv's interpreter (argv: host port). Kept inline so the child needs
# nothing from this repo on its path (importing lti_tool there would pull in Flask).
_BOOTSTRAP = """
import sys

try:
    # Die with the process that started us, so a killed demo or test run leaves no
    # orphan holding the port. PR_SET_PDEATHSIG = 1; Linux only, best effort elsewhere.
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    if int(sys.argv[3]) and __import__("os").getppid() != int(sys.argv[3]):
        sys.exit("parent exited before Ralph started")
except (OSError, AttributeError):
    pass

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

# Without this only the first write ever succeeds (see lti_tool/demo/ralph.py).
FSLRSBackend.default_operation_type = BaseOperationType.APPEND
# The read/write history serves only the CLI and is rewritten whole on every request.
FSLRSBackend.append_to_history = lambda self, event: None

import uvicorn

uvicorn.run(
    "ralph.api:app",
    host=sys.argv[1],
    port=int(sys.argv[2]),
    log_level="info",
    reload=False,
    access_log=True,
)
"""

# Ralph hashes with bcrypt, which only the Ralph venv has; the password arrives on stdin
# so it never shows in a process listing.
_HASH_SNIPPET = (
    "import sys, bcrypt; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt()).decode())"
)


class RalphError(RuntimeError):
    """Ralph could not be installed, configured, started or reached."""


@dataclass
class RalphConfig:
    """Where and how one Ralph instance runs."""

    port: int
    data_dir: Path
    username: str
    password: str
    host: str = "127.0.0.1"
    venv: Path = field(default_factory=default_venv)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.venv = Path(self.venv)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """The xAPI base URL; statements live at ``<endpoint>statements``."""
        return f"{self.base_url}/xAPI/"

    @property
    def statements_url(self) -> str:
        return f"{self.endpoint}statements"

    @property
    def log_file(self) -> Path:
        return self.data_dir / LOG_FILE_NAME

    @property
    def auth_file(self) -> Path:
        return self.data_dir / AUTH_FILE_NAME

    @property
    def lrs_dir(self) -> Path:
        """The FS backend's storage directory (holds ``fs_lrs.jsonl``)."""
        return self.data_dir / "lrs"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def auth_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS just reported free on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ralph_environment(config: RalphConfig, base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: the caller's minus any ``RALPH_*``, plus ours."""
    env = {k: v for k, v in (base if base is not None else os.environ).items()}
    for key in [k for k in env if k.startswith("RALPH_")]:
        # A stray RALPH_* (Sentry DSN, another backend, scopes) would silently change
        # how this instance behaves; it is configured here and nowhere else.
        del env[key]
    env.update(
        {
            # The filesystem LRS backend: no database to run, and durable across restarts.
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(config.lrs_dir),
            # Ralph's own files default to ~/.config/ralph, shared by every instance.
            "RALPH_APP_DIR": str(config.data_dir),
            "RALPH_AUTH_FILE": str(config.auth_file),
            "RALPH_HISTORY_FILE": str(config.data_dir / "history.json"),
            "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
            "RALPH_RUNSERVER_HOST": config.host,
            "RALPH_RUNSERVER_PORT": str(config.port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    # Never let the Ralph venv's interpreter see the app's packages.
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def hash_password(config: RalphConfig, password: str) -> str:
    """Bcrypt ``password`` with the Ralph venv's bcrypt (the app env has none)."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, our own venv's interpreter
            [str(config.python), "-c", _HASH_SNIPPET],
            input=password.encode(),
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RalphError(f"cannot hash the password with {config.python}: {exc}") from exc
    if result.returncode != 0:
        raise RalphError(
            f"cannot hash the password with {config.python}: "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    return result.stdout.decode().strip()


def write_auth_file(config: RalphConfig) -> Path:
    """Write Ralph's Basic-auth users file with one user allowed to read and write.

    Format: ``ralph/api/auth/basic.py`` (``ServerUsersCredentials``): a JSON list of
    ``{username, hash, scopes, agent}``; the agent becomes each statement's authority.
    """
    users = [
        {
            "username": config.username,
            "hash": hash_password(config, config.password),
            # "all" expands to statements/read and statements/write (ralph/api/auth/user.py)
            "scopes": ["all"],
            "agent": {
                "objectType": "Agent",
                "name": "CX Academy",
                "account": {"name": config.username, "homePage": config.base_url},
            },
        }
    ]
    config.auth_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = config.auth_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(users, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(config.auth_file)
    return config.auth_file


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class RalphServer:
    """One Ralph process serving the FS backend on loopback."""

    def __init__(self, config: RalphConfig) -> None:
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 60.0) -> RalphServer:
        """Start Ralph and return once it answers its heartbeat.

        The child dies with the thread that started it (Linux PDEATHSIG), so start it
        from a thread that lives as long as the server should.
        """
        if self.is_running:
            return self
        cfg = self.config
        if not cfg.python.exists():
            raise RalphError(
                f"Ralph's virtualenv is missing ({cfg.python} not found); "
                "run scripts/setup-ralph.sh"
            )
        if _port_in_use(cfg.host, cfg.port):
            raise RalphError(
                f"{cfg.host}:{cfg.port} is already in use (another Ralph still running?)"
            )
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        cfg.lrs_dir.mkdir(parents=True, exist_ok=True)
        write_auth_file(cfg)
        argv = [
            str(cfg.python),
            "-c",
            _BOOTSTRAP,
            cfg.host,
            str(cfg.port),
            str(os.getpid()),
        ]
        # The parent's handle is closed right after the fork: the child keeps its own, and
        # an open file left on this object would be a ResourceWarning under pytest.
        with cfg.log_file.open("ab") as log:
            log.write(f"\n--- starting Ralph on {cfg.base_url} ---\n".encode())
            log.flush()
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, our own venv
                argv,
                cwd=cfg.data_dir,
                env=ralph_environment(cfg),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: a Ctrl-C in the demo's terminal reaches the runner,
                # which then stops Ralph gracefully instead of both dying mid-write.
                start_new_session=True,
            )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll ``/__heartbeat__`` until it answers 200 (the FS backend is usable)."""
        url = f"{self.config.base_url}/__heartbeat__"
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while True:
            if self._process is None:
                raise RalphError("Ralph was never started")
            code = self._process.poll()
            if code is not None:
                raise RalphError(
                    f"Ralph exited with status {code} before it was ready; "
                    f"see {self.config.log_file}:\n{_tail(self.config.log_file)}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - http only
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                exc.close()
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            if time.monotonic() >= deadline:
                raise RalphError(
                    f"Ralph did not answer {url} within {timeout:.0f}s ({last_error}); "
                    f"see {self.config.log_file}:\n{_tail(self.config.log_file)}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (uvicorn finishes in-flight requests), then SIGKILL after ``timeout``."""
        proc = self._process
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        self._process = None

    def restart(self, timeout: float = 60.0) -> RalphServer:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> RalphServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running else "stopped"
        return f"<RalphServer {self.config.endpoint} {state}>"


# -- CLI: the demo runner spawns this and SIGTERMs it on the way out ------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lti_tool.demo.ralph",
        description="Run Ralph (xAPI LRS, filesystem backend) on loopback until signalled.",
    )
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--data-dir", type=Path, default=Path("var/ralph"))
    parser.add_argument("--username", required=True)
    parser.add_argument(
        "--password",
        default=os.environ.get("CXA_RALPH_PASSWORD"),
        help="or set CXA_RALPH_PASSWORD, which keeps it out of process listings",
    )
    parser.add_argument("--venv", type=Path, default=default_venv())
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to get ready")
    args = parser.parse_args(argv)
    if not args.password:
        parser.error("--password or CXA_RALPH_PASSWORD is required")

    config = RalphConfig(
        port=args.port,
        data_dir=args.data_dir,
        username=args.username,
        password=args.password,
        venv=args.venv,
    )
    server = RalphServer(config)
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)

    try:
        server.start(args.timeout)
    except RalphError as exc:
        print(f"ralph: {exc}", file=sys.stderr)
        return 1
    print(f"ralph: xAPI endpoint {config.endpoint} (log: {config.log_file})", flush=True)
    try:
        while not stop_requested.wait(1.0):
            if not server.is_running:
                print(f"ralph: server exited; see {config.log_file}", file=sys.stderr)
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
