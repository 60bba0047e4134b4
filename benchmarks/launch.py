"""Full LTI 1.3 launches against CX Academy as deploy/ runs it, beside a bare pylti1p3 tool.

What runs, all on loopback:
- CX Academy under gunicorn with deploy/gunicorn.conf.py, on PostgreSQL (a fresh schema),
  Redis as broker and state store, a Celery worker delivering to a real LRS (Ralph);
- the baseline (benchmarks/baseline_app.py) under the same gunicorn settings;
- one demo LMS per tool (the platform side, under gunicorn; its CPU is not counted).

Each launch is what a browser does: the LMS's launch link (third-party initiated login),
the tool's login redirect, the LMS's authorization endpoint, the auto-submitted id_token
form_post and the landing page, with a fresh cookie jar. Launches run at a chosen
concurrency; nothing is warmed up first, so per-process start-up work (first page, caches)
counts as it would after a deploy.

CPU is read from /proc (utime + stime, children's included) before and after each run: the
tool's gunicorn master and workers, and separately the Celery worker, PostgreSQL (postmaster
and backends, so anything else using this PostgreSQL at the time counts too) and Redis.

With ``--floor`` it also runs benchmarks/floor_app.py (gunicorn and Flask answering the same
requests with no work) and prints that floor, per launch of three requests and of two.

Run: ``.venv/bin/python -m benchmarks.launch [--launches 500] [--concurrency 8] [--floor]``
(needs ``pip install -e '.[bench]'``, PostgreSQL and Redis on 127.0.0.1; a few minutes).
The last line is always ``launch: ours X ms CPU, baseline Y ms CPU, ratio R; p99 ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lti_tool.config import Settings
from lti_tool.demo import lms
from lti_tool.demo.ralph import RalphConfig, RalphServer, free_port
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
PERSONAS = ("ada", "sam")
LINK = next(iter(lms.LINKS))
UNLIMITED = "1000000/minute"


# --- processes and their CPU ------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    return raw[raw.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def cpu_seconds(root_pids: list[int]) -> float:
    """CPU of these processes and all their descendants, reaped children included."""
    tree = _children()
    total, stack, seen = 0, list(root_pids), set()
    while stack:
        pid = stack.pop()
        if pid in seen or (fields := _stat(pid)) is None:
            continue
        seen.add(pid)
        # Fields 14-17 of /proc/PID/stat (utime, stime, cutime, cstime), counted from 3.
        total += sum(int(value) for value in fields[11:15])
        stack.extend(tree.get(pid, []))
    return total / TICKS


def pids_named(name: str) -> list[int]:
    """Processes whose command is ``name`` and whose parent is not (the roots of a tree)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm == name and (fields := _stat(int(entry.name))):
                found[int(entry.name)] = int(fields[1])
    return [pid for pid, parent in found.items() if parent not in found]


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start(name: str, argv: list[str], env: dict[str, str], logs: Path) -> Child:
    log = (logs / f"{name}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        argv,
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Child(name, process)


def wait_http(url: str, child: Child, logs: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            break
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{child.name} did not come up at {url}:\n{log_tail(logs, child.name)}")


def log_tail(logs: Path, name: str) -> str:
    return (logs / f"{name}.log").read_text(errors="replace")[-3000:]


def gunicorn(app: str, port: int) -> list[str]:
    bind = ["--bind", f"127.0.0.1:{port}"]
    return [str(BIN / "gunicorn"), "-c", str(REPO / "deploy/gunicorn.conf.py"), *bind, app]


# --- the stack ------------------------------------------------------------------------------


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    schema = f"cxa_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class System:
    """One tool under test: where its demo LMS starts launches, how to tell it landed, and
    which processes' CPU is its own."""

    name: str
    lms_url: str
    landed: Callable[[requests.Response], bool]
    web: Child
    logs: Path


def start_ours(
    stack: ExitStack, database_url: str, redis_url: str, folder: Path
) -> tuple[System, Child]:
    port, lms_port = free_port(), free_port()
    ralph = stack.enter_context(
        RalphServer(
            RalphConfig(
                port=free_port(),
                data_dir=folder / "ralph",
                username="bench",
                password=secrets.token_urlsafe(16),
            )
        )
    )
    settings = Settings(
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        broker_url=redis_url,
        state_store_url=redis_url,
        lrs_endpoint=ralph.config.endpoint,
        lrs_username=ralph.config.username,
        lrs_password=ralph.config.password,
        var_dir=folder / "var",
        log_level="WARNING",
        task_queue=f"bench-{uuid.uuid4().hex[:8]}",
        demo_lms_url=f"http://127.0.0.1:{lms_port}",
        # Every launch comes from one loopback address for one issuer; the limits stay on (their
        # cost is counted) but high enough that they never refuse a benchmark launch.
        rate_limit_per_client=UNLIMITED,
        rate_limit_per_platform=UNLIMITED,
    )
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        config = lms.DemoLMSConfig(
            base_url=settings.demo_lms_url, tool_url=settings.base_url, data_dir=folder / "lms"
        )
        with transaction(make_session_factory(engine)) as session:
            lms.register_with_tool(session, config)
    finally:
        engine.dispose()
    env = settings.as_env()
    logs = folder / "logs"
    web = start("ours-web", gunicorn("lti_tool.app:create_app()", port), env, logs)
    stack.callback(web.stop)
    worker = start(
        "ours-worker",
        [str(BIN / "celery"), "-A", "workers.app", "worker", "--concurrency", "1",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env,
        logs,
    )  # fmt: skip
    stack.callback(worker.stop)
    platform = start(
        "ours-lms", gunicorn("lti_tool.demo.lms:create_demo_lms_from_env()", lms_port), env, logs
    )
    stack.callback(platform.stop)
    wait_http(settings.base_url + "/healthz", web, logs)
    wait_http(settings.demo_lms_url + "/jwks", platform, logs)
    system = System(
        name="ours",
        lms_url=settings.demo_lms_url,
        landed=lambda r: r.status_code == 200 and "/s/" in r.url,
        web=web,
        logs=logs,
    )
    return system, worker


def start_baseline(stack: ExitStack, redis_url: str, folder: Path) -> System:
    port, lms_port = free_port(), free_port()
    base_url, lms_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{lms_port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings = {
        "base_url": base_url,
        "secret_key": secrets.token_urlsafe(32),
        "redis_url": redis_url,
        "private_key_pem": pem,
        "private_keys": [[lms_url, lms.CLIENT_ID]],
        "platforms": {
            lms_url: [
                {
                    "default": True,
                    "client_id": lms.CLIENT_ID,
                    "auth_login_url": lms_url + "/auth",
                    "auth_token_url": lms_url + "/token",
                    "key_set_url": lms_url + "/jwks",
                    "deployment_ids": [lms.DEPLOYMENT_ID],
                }
            ]
        },
    }
    logs = folder / "logs"
    web = start(
        "baseline-web",
        gunicorn("benchmarks.baseline_app:create_app()", port),
        {"BENCH_BASELINE_SETTINGS": json.dumps(settings)},
        logs,
    )
    stack.callback(web.stop)
    # The demo LMS, pointed at the baseline's login and launch URLs instead of ours.
    platform = start(
        "baseline-lms",
        [
            *gunicorn("benchmarks.launch:baseline_lms()", lms_port),
        ],
        {"BENCH_LMS_URL": lms_url, "BENCH_TOOL_URL": base_url, "BENCH_LMS_DIR": str(folder)},
        logs,
    )
    stack.callback(platform.stop)
    wait_http(base_url + "/healthz", web, logs)
    wait_http(lms_url + "/jwks", platform, logs)
    return System(
        name="baseline",
        lms_url=lms_url,
        landed=lambda r: r.status_code == 200 and "baseline-landing" in r.text,
        web=web,
        logs=logs,
    )


class _BaselineLMSConfig(lms.DemoLMSConfig):
    # The bare tool serves /login and /launch rather than /lti/login and /lti/launch.
    @property
    def tool_login_url(self) -> str:
        return self.tool_url + "/login"

    @property
    def tool_launch_url(self) -> str:
        return self.tool_url + "/launch"


def baseline_lms() -> object:
    """Gunicorn entry point of the baseline's platform (settings from the benchmark)."""
    return lms.create_demo_lms(
        _BaselineLMSConfig(
            base_url=os.environ["BENCH_LMS_URL"],
            tool_url=os.environ["BENCH_TOOL_URL"],
            data_dir=Path(os.environ["BENCH_LMS_DIR"]) / "baseline-lms",
        )
    )


# --- the browser ------------------------------------------------------------------------------


class _FormFinder(HTMLParser):
    """The first POST form of a page with its fields: what a browser auto-submits."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None and values.get("method", "").lower() == "post":
            self.action, self._inside = values.get("action", ""), True
        elif tag == "input" and self._inside and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


class LaunchFailed(Exception):
    """Raised when a launch does not reach the tool's landing page."""


def one_launch(system: System, persona: str) -> float:
    started = time.perf_counter()
    with requests.Session() as browser:
        answer = browser.get(f"{system.lms_url}/launch/{persona}/{LINK}", timeout=60)
        for _ in range(4):
            form = _FormFinder()
            form.feed(answer.text)
            if form.action is None or system.landed(answer):
                break
            answer = browser.post(
                requests.compat.urljoin(answer.url, form.action), data=form.fields, timeout=60
            )
        if not system.landed(answer):
            # The error page names the check that failed; keep it, so a failure is a lead.
            reason = " ".join(re.sub(r"<[^>]+>", " ", answer.text).split())[:300]
            raise LaunchFailed(f"{answer.status_code} at {answer.url}: {reason}")
    return time.perf_counter() - started


@dataclass
class Figures:
    launches: int
    seconds: float
    latencies: list[float]
    failures: list[str]
    cpu: dict[str, float]

    def percentile(self, p: int) -> float:
        # Over the launches that landed; failures are printed beside the figures.
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000

    def cpu_ms(self, part: str) -> float:
        return self.cpu[part] / self.launches * 1000


def drive(system: System, launches: int, concurrency: int, parts: dict[str, list[int]]) -> Figures:
    before = {name: cpu_seconds(pids) for name, pids in parts.items()}
    latencies: list[float] = []
    failures: list[str] = []

    def attempt(n: int) -> None:
        try:
            latencies.append(one_launch(system, PERSONAS[n % len(PERSONAS)]))
        except (LaunchFailed, requests.RequestException) as err:
            failures.append(str(err))

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(attempt, range(launches)))
    seconds = time.perf_counter() - started
    after = {name: cpu_seconds(pids) for name, pids in parts.items()}
    if failures:
        # A failed launch is reported, never hidden: its CPU still counts in the totals.
        print(f"{system.name}: {len(failures)} of {launches} launches failed, e.g. {failures[0]}")
        print(log_tail(system.logs, system.web.name))
    return Figures(launches, seconds, latencies, failures, {k: after[k] - before[k] for k in parts})


def report(name: str, figures: Figures) -> None:
    print(
        f"{name}: {figures.launches / figures.seconds:.1f} launches/s, "
        f"{len(figures.failures)} failed; "
        f"p50 {figures.percentile(50):.0f} ms, p95 {figures.percentile(95):.0f} ms, "
        f"p99 {figures.percentile(99):.0f} ms"
    )
    print(
        "  CPU ms per launch: "
        + ", ".join(f"{part} {figures.cpu_ms(part):.1f}" for part in figures.cpu)
    )


# --- the framework floor (--floor) -------------------------------------------------------------


def floor_launch(base_url: str, pages: int) -> float:
    """The requests a launch makes to a tool, answered by benchmarks/floor_app.py: the login
    redirect, the id_token form_post (a body the size of the demo LMS's), and the landing
    page after a 303 (``pages`` 3) or in the POST's answer (2)."""
    started = time.perf_counter()
    with requests.Session() as browser:
        query = {"iss": "https://lms.example", "login_hint": "ada", "target_link_uri": base_url}
        browser.get(base_url + "/login", params=query, allow_redirects=False, timeout=60)
        form = {"id_token": secrets.token_urlsafe(1200), "state": secrets.token_urlsafe(32)}
        if pages == 3:
            answer = browser.post(base_url + "/launch", data=form, timeout=60)
            ok = answer.status_code == 200 and "/s/" in answer.url
        else:
            answer = browser.post(base_url + "/launch-page", data=form, timeout=60)
            ok = answer.status_code == 200
        if not ok or "floor-landing" not in answer.text:
            raise LaunchFailed(f"{answer.status_code} at {answer.url}")
    return time.perf_counter() - started


def measure_floor(stack: ExitStack, folder: Path, launches: int, concurrency: int) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = folder / "logs"
    web = start("floor-web", gunicorn("benchmarks.floor_app:create_app()", port), {}, logs)
    stack.callback(web.stop)
    wait_http(base_url + "/healthz", web, logs)
    for pages in (3, 2):
        before = cpu_seconds([web.process.pid])
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(floor_launch, [base_url] * launches, [pages] * launches))
        spent = (cpu_seconds([web.process.pid]) - before) / launches * 1000
        print(f"floor: {pages} requests per launch, {spent:.1f} ms CPU per launch (no work)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--launches", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CXA_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("CXA_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure gunicorn and Flask alone answering a launch's requests",
    )
    args = parser.parse_args(argv)
    if args.launches < 100:
        parser.error("--launches must be at least 100 for a p99 to mean anything")

    with tempfile.TemporaryDirectory(prefix="cxa-launch-bench-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        (folder / "logs").mkdir()
        database_url = stack.enter_context(postgres_schema(args.database_url))
        ours, worker = start_ours(stack, database_url, args.redis_url, folder)
        baseline = start_baseline(stack, args.redis_url, folder)
        shared = {"postgres": pids_named("postgres"), "redis": pids_named("redis-server")}
        print(
            f"{args.launches} launches per tool at concurrency {args.concurrency}, "
            f"{os.cpu_count()} CPUs, gunicorn with deploy/gunicorn.conf.py, no warm-up"
        )
        mine = drive(
            ours,
            args.launches,
            args.concurrency,
            {"web": [ours.web.process.pid], "worker": [worker.process.pid], **shared},
        )
        report("ours", mine)
        theirs = drive(
            baseline, args.launches, args.concurrency, {"web": [baseline.web.process.pid], **shared}
        )
        report("baseline", theirs)
        if args.floor:
            measure_floor(stack, folder, args.launches, args.concurrency)
    ours_ms, baseline_ms = mine.cpu_ms("web"), theirs.cpu_ms("web")
    print(
        f"launch: ours {ours_ms:.1f} ms CPU, baseline {baseline_ms:.1f} ms CPU, "
        f"ratio {ours_ms / baseline_ms:.2f}; p99 ours {mine.percentile(99):.0f} ms, "
        f"baseline {theirs.percentile(99):.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
