"""Celery tasks: thin wrappers, named by verb_noun, over the plain functions in this package."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from lti_tool.config import Settings
from lti_tool.queue import TASK_DELIVER_OUTBOX, TASK_SWEEP
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.state import purge_expired_state
from workers.delivery import deliver_outbox
from xapi.lrs import LRSClient

log = logging.getLogger(__name__)

_services: Services | None = None
_client: LRSClient | None = None


def _runtime(settings: Settings) -> tuple[Services, LRSClient | None]:
    # Built lazily in the worker child process, never at import (prefork would share sockets).
    global _services, _client
    if _services is None:
        _services = Services.build(settings)
        if settings.lrs_endpoint:
            _client = LRSClient(
                settings.lrs_endpoint,
                username=settings.lrs_username or None,
                password=settings.lrs_password or None,
            )
    return _services, _client


def register(app: Celery, settings: Settings) -> None:
    # A batch POST answers within the LRS client's read timeout (15 s); 10 minutes covers a long
    # backlog, and the hard limit stops a wedged task from holding its worker forever.
    @app.task(name=TASK_DELIVER_OUTBOX, soft_time_limit=600, time_limit=660)
    def deliver_statements(**_: Any) -> dict[str, int]:
        services, client = _runtime(settings)
        if client is None:
            log.info("no LRS configured (CXA_LRS_ENDPOINT): statements stay in the outbox")
            return {"sent": 0, "dead": 0, "deferred": 0}
        report = deliver_outbox(services.sessions, client, batch_size=settings.lrs_batch_size)
        return {"sent": report.sent, "dead": report.dead, "deferred": report.deferred}

    @app.task(name=TASK_SWEEP, soft_time_limit=60, time_limit=90)
    def sweep_outbox() -> None:
        """Periodic: catches rows whose kick was lost, and clears expired launch state."""
        services, _ = _runtime(settings)
        with transaction(services.sessions) as session:
            purge_expired_state(session)
        deliver_statements.delay()
