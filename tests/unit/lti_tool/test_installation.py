"""Each installation makes statement ids in a namespace of its own, kept with its data."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session

from content import load_catalog
from content.scoring import score_question
from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.errors import ConfigError
from lti_tool.recording import (
    course_completed_event,
    knowledge_check_answered_event,
    launched_event,
    lesson_experienced_event,
    record_event,
)
from lti_tool.services import Services
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.installation import (
    Installation,
    require_statement_namespace,
    statement_namespace,
)
from lti_tool.store.learning import LearnerKey
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import Launch, OutboxRow, Platform
from lti_tool.store.platforms import PlatformSpec, add_platform
from tests.conftest import embedded_settings

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# The same launch id in both databases: the worst case, every fact of every event equal.
LAUNCH_ID = uuid.UUID("6a0f3e2d-4b5c-4d7e-9f81-2a3b4c5d6e7f")
SUBMISSION_ID = uuid.UUID("3f1c2b7a-9d4e-4f6a-8b2c-1e5d7a9c0b3f")


@contextmanager
def installation(path: Path) -> Iterator[Engine]:
    """A database as `cxa db upgrade` leaves it on a new installation."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def record_a_learners_day(engine: Engine) -> set[str]:
    """Register the same LMS, launch the same learner, record the same actions."""
    catalog = load_catalog()
    course = catalog.require_course("service-foundations")
    lesson = catalog.require_lesson("active-listening")
    module = catalog.require_module("listening-and-empathy")
    question = catalog.require_question("listening-interrupt-myth")
    with transaction(make_session_factory(engine)) as session:
        platform = add_platform(
            session,
            PlatformSpec(
                name="Moodle",
                issuer="https://moodle.example.edu",
                client_id="cxa",
                auth_login_url="https://moodle.example.edu/auth",
                auth_token_url="https://moodle.example.edu/token",
                key_set_url="https://moodle.example.edu/certs",
                deployment_ids=("1",),
            ),
        )
        assert platform.id == 1  # the row id every new database hands out first
        launch = Launch(
            id=LAUNCH_ID,
            platform=platform,
            deployment_id="1",
            sub="2",
            message_type="LtiResourceLinkRequest",
            claims={},
            resource_link_id="link-1",
        )
        session.add(launch)
        session.flush()
        scored = score_question(question, "false")
        for learning_event in (
            launched_event(launch, AT),
            lesson_experienced_event(launch, course, module, lesson, AT),
            knowledge_check_answered_event(
                launch, course, lesson, question, "false", scored, SUBMISSION_ID, AT
            ),
            course_completed_event(launch, course, AT),
        ):
            assert record_event(session, learning_event, owner=LearnerKey.of(launch))
    with make_session_factory(engine)() as session:
        return set(session.scalars(select(OutboxRow.statement_id)))


def test_two_installations_with_identical_rows_make_disjoint_statement_ids(
    tmp_path: Path,
) -> None:
    with (
        installation(tmp_path / "first.db") as first,
        installation(tmp_path / "second.db") as second,
    ):
        first_ids = record_a_learners_day(first)
        second_ids = record_a_learners_day(second)
    assert len(first_ids) == len(second_ids) == 4
    assert first_ids.isdisjoint(second_ids)


def test_a_restored_database_keeps_its_namespace_and_so_its_ids(tmp_path: Path) -> None:
    with installation(tmp_path / "original.db") as original:
        recorded = record_a_learners_day(original)
        with make_session_factory(original)() as session:
            namespace = require_statement_namespace(session)
    shutil.copy(tmp_path / "original.db", tmp_path / "restored.db")
    restored = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        upgrade(restored)  # a later release migrating the restored copy keeps the row
        with make_session_factory(restored)() as session:
            assert statement_namespace(session) == namespace
            session.execute(delete(OutboxRow))
            session.commit()
        # Re-recording the very same events gives the very same ids: re-sends stay duplicates.
        with transaction(make_session_factory(restored)) as session:
            session.execute(delete(Launch))
            session.execute(delete(Platform))
        assert record_a_learners_day(restored) == recorded
    finally:
        restored.dispose()


def test_the_namespace_is_read_once_per_process_not_per_statement(tmp_path: Path) -> None:
    with installation(tmp_path / "cxa.db") as engine:
        queries: list[str] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            queries.append(statement)

        sessions = make_session_factory(engine)
        with sessions() as session:
            statement_namespace(session)
        before = len([q for q in queries if "installation" in q])
        record_a_learners_day(engine)
        after = len([q for q in queries if "installation" in q])
    assert before == 1
    assert after == before


def test_the_app_will_not_start_on_a_database_without_its_installation_row(
    tmp_path: Path,
) -> None:
    settings: Settings = embedded_settings(tmp_path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        session.execute(delete(Installation))
    engine.dispose()
    services = Services.build(settings)
    try:
        with pytest.raises(ConfigError, match="installation"):
            create_app(services=services)
    finally:
        services.close()


def test_each_migrated_database_gets_a_namespace_of_its_own(tmp_path: Path) -> None:
    namespaces = set()
    for name in ("a.db", "b.db"):
        with installation(tmp_path / name) as engine, Session(engine) as session:
            namespaces.add(require_statement_namespace(session))
            assert session.scalar(select(Installation.id)) == 1
    assert len(namespaces) == 2
