"""The long-lived objects one process needs, built once from Settings (never at import)."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from celery import Celery
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.config import Settings
from lti_tool.lti.state import StateStore, make_state_store
from lti_tool.queue import make_celery
from lti_tool.recording import IRI_BASE
from lti_tool.store.db import make_engine, make_session_factory


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    state: StateStore
    celery: Celery
    # One HTTP session per process: connection reuse for platform JWKS fetches.
    http: requests.Session

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine, info={IRI_BASE: settings.iri_base})
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            state=make_state_store(settings.state_store_url, sessions),
            celery=make_celery(settings),
            http=requests.Session(),
        )

    def close(self) -> None:
        self.http.close()
        close_state = getattr(self.state, "close", None)
        if close_state is not None:
            close_state()
        self.engine.dispose()
