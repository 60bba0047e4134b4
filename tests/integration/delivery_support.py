"""The delivery stack for reliability tests: a migrated database, a real Celery worker (with
its beat, so the sweep runs) that can be SIGKILLed, learners recording events through
``recording.record_event``, and a proxy that holds the LRS's answers back.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from lti_tool.config import Settings
from lti_tool.demo.ralph import RalphServer, free_port
from lti_tool.queue import TASK_DELIVER_OUTBOX
from lti_tool.recording import record_event
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.learning import LearnerKey
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import OutboxRow, OutboxStatus
from tests.conftest import embedded_settings
from tests.fixtures.ralph import ralph_statements
from tests.fixtures.servers import serve
from tests.fixtures.stack import Worker, isolated_database, redis_url_or_embedded
from tests.unit.xapi.catalogue import STATEMENT_KINDS
from xapi.events import Learner


@dataclass
class DeliveryStack:
    """One test's database, producer side (the web's role) and worker environment."""

    settings: Settings
    services: Services
    worker_env: dict[str, str]
    folder: Path
    learner: Learner
    recorded: list[str] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)

    def start_worker(self, **env: str) -> Worker:
        worker = Worker({**self.worker_env, **env}, self.folder, f"worker{len(self.workers)}")
        self.workers.append(worker)
        return worker

    def record(self, count: int, *, kick: bool = True) -> None:
        """``count`` learner actions, each committed and kicked as a web request does."""
        template = STATEMENT_KINDS["launched"]
        for _ in range(count):
            event = replace(
                template,
                source_id=f"it:{uuid.uuid4()}",
                learner=self.learner,
                timestamp=datetime.now(UTC),
            )
            with transaction(self.services.sessions) as session:
                record_event(session, event, owner=LearnerKey(1, event.learner.sub))
                self.recorded.append(
                    session.scalars(
                        select(OutboxRow.statement_id).order_by(OutboxRow.id.desc())
                    ).first()
                    or ""
                )
            if kick:
                self.kick()

    def kick(self) -> None:
        # Like lti_tool.web.db.kick_delivery: best effort, the sweep covers a lost message.
        # A broker that is down is part of some scenarios.
        with suppress(Exception):
            self.services.celery.send_task(TASK_DELIVER_OUTBOX, retry=False)

    def counts(self) -> dict[OutboxStatus, int]:
        with self.services.sessions() as session:
            return dict(
                session.execute(  # type: ignore[arg-type]
                    select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
                ).all()
            )

    def wait_until(self, done: Callable[[], bool], what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                logs = "\n".join(w.log()[-3000:] for w in self.workers)
                pytest.fail(f"timed out waiting for {what}; counts={self.counts()}\n{logs}")
            time.sleep(0.25)

    def wait_settled(self, timeout: float = 90) -> None:
        """Until no row is pending any more."""
        self.wait_until(lambda: self.counts().get(OutboxStatus.PENDING, 0) == 0, "delivery")

    def lrs_ids(self, ralph: RalphServer) -> list[str]:
        """Ids of this test's statements stored in Ralph, duplicates included."""
        mine = {"homePage": self.learner.issuer, "name": self.learner.sub}
        return [s["id"] for s in ralph_statements(ralph) if s["actor"].get("account") == mine]


@contextmanager
def delivery_stack(
    tmp_path: Path,
    lrs_endpoint: str,
    ralph: RalphServer,
    *,
    broker_url: str | None = None,
    doorbell: bool = False,
) -> Iterator[DeliveryStack]:
    """Everything but the worker, which each test starts (and kills) itself.

    ``broker_url`` overrides the producer's broker only, to record while it is unreachable.
    ``doorbell``: Redis is the state store too, so commits ring the delivery doorbell.
    """
    redis_url = redis_url_or_embedded()
    if doorbell and redis_url is None:
        pytest.fail("the delivery doorbell needs Redis (CXA_TEST_REDIS_URL)", pytrace=False)
    with ExitStack() as stack:
        database_url = stack.enter_context(isolated_database(tmp_path))
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        settings = embedded_settings(
            tmp_path,
            database_url=database_url,
            broker_url=redis_url or "filesystem://localhost/",
            lrs_endpoint=lrs_endpoint,
            lrs_username=ralph.config.username,
            lrs_password=ralph.config.password,
            state_store_url=redis_url if doorbell else "",
        )
        producer = settings.with_overrides(broker_url=broker_url) if broker_url else settings
        services = Services.build(producer)
        stack.callback(services.close)
        delivery = DeliveryStack(
            settings=settings,
            services=services,
            worker_env={
                **settings.as_env(),
                # Short clocks so a test sees sweeps and recoveries within seconds.
                "CXA_OUTBOX_SWEEP_SECONDS": "1",
                "CXA_LRS_MAX_BACKOFF_SECONDS": "2",
                "CXA_LRS_MAX_ATTEMPTS": "1000",
            },
            folder=tmp_path,
            learner=Learner(issuer="https://lms.it.example", sub=f"it-{uuid.uuid4().hex}"),
        )
        try:
            yield delivery
        finally:
            for worker in delivery.workers:
                worker.stop()


@dataclass
class SlowLRS:
    """A proxy in front of Ralph that forwards each POST at once but answers only after
    ``delay`` seconds, so a test can kill the worker after the LRS stored a batch and
    before the worker heard about it: the worst moment for a duplicate."""

    target: str
    delay: float = 0.0
    forwarded: threading.Event = field(default_factory=threading.Event)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ["PATH_INFO"]
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {
            name: environ[key]
            for key, name in (
                ("HTTP_AUTHORIZATION", "Authorization"),
                ("CONTENT_TYPE", "Content-Type"),
                ("HTTP_X_EXPERIENCE_API_VERSION", "X-Experience-API-Version"),
            )
            if key in environ
        }
        answer = requests.request(
            environ["REQUEST_METHOD"],
            self.target + path + (f"?{query}" if query else ""),
            data=body,
            headers=headers,
            timeout=30,
        )
        if environ["REQUEST_METHOD"] == "POST":
            self.forwarded.set()
            time.sleep(self.delay)
        start_response(
            f"{answer.status_code} {answer.reason}",
            [("Content-Type", answer.headers.get("Content-Type", "application/json"))],
        )
        return [answer.content]


@contextmanager
def slow_lrs(ralph: RalphServer, delay: float) -> Iterator[tuple[SlowLRS, str]]:
    proxy = SlowLRS(ralph.config.base_url, delay)
    with serve(proxy, port=free_port()) as url:
        yield proxy, url + ralph.config.endpoint.removeprefix(ralph.config.base_url)
