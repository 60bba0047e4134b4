"""Migration 0010: existing attempts and runs get the placement of the launch they were
started in, and a downgrade folds the per-placement numbering back into one sequence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from lti_tool.store.db import make_engine
from lti_tool.store.learning import placement_key
from lti_tool.store.migrate import downgrade, upgrade
from tests.fixtures.stack import isolated_database

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@contextmanager
def database(tmp_path: Path, kind: str) -> Iterator[Engine]:
    sqlite = nullcontext(f"sqlite:///{tmp_path / 'placement.db'}")
    with sqlite if kind == "sqlite" else isolated_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def tables(engine: Engine) -> dict[str, sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    return dict(metadata.tables)


def attempt(launch_id: Any, number: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": new_id(launch_id),
        "platform_id": 1,
        "sub": "learner-1",
        "launch_id": launch_id,
        "course_id": "service-foundations",
        "quiz_id": "service-foundations-quiz",
        "content_version": "1.0.0",
        "number": number,
        "question_ids": [],
        "responses": {},
        "status": "submitted",
        "started_at": T0 + timedelta(minutes=number),
        **extra,
    }


def new_id(like: Any) -> Any:
    # Reflected tables carry SQLite's UUIDs as their stored 32-digit hex text.
    return uuid.uuid4().hex if isinstance(like, str) else uuid.uuid4()


@pytest.mark.parametrize("kind", ["configured", "sqlite"])
def test_existing_rows_get_their_launchs_placement_and_come_back_down_renumbered(
    tmp_path: Path, kind: str
) -> None:
    with database(tmp_path, kind) as engine:
        upgrade(engine, "0009")
        t = tables(engine)
        week1, week2 = uuid.uuid4(), uuid.uuid4()
        if kind == "sqlite":
            week1, week2 = week1.hex, week2.hex  # type: ignore[assignment]
        with engine.begin() as conn:
            conn.execute(
                t["platform"].insert(),
                {
                    "id": 1,
                    "name": "LMS",
                    "issuer": "https://lms.example",
                    "client_id": "tool",
                    "auth_login_url": "https://lms.example/auth",
                    "auth_token_url": "https://lms.example/token",
                    "key_set_url": "https://lms.example/jwks",
                    "created_at": T0,
                },
            )
            for launch_id, link in ((week1, "link-1"), (week2, None)):
                conn.execute(
                    t["launch"].insert(),
                    {
                        "id": launch_id,
                        "platform_id": 1,
                        "deployment_id": "dep-1",
                        "sub": "learner-1",
                        "roles": [],
                        "context_id": "course-7",
                        "resource_link_id": link,
                        "message_type": "LtiResourceLinkRequest",
                        "claims": {},
                        "created_at": T0,
                    },
                )
            conn.execute(t["quiz_attempt"].insert(), [attempt(week1, 1), attempt(week2, 2)])
            conn.execute(
                t["scenario_run"].insert(),
                {
                    "id": new_id(week2),
                    "platform_id": 1,
                    "sub": "learner-1",
                    "launch_id": week2,
                    "course_id": "service-foundations",
                    "scenario_id": "double-charge",
                    "content_version": "1.0.0",
                    "choices": [],
                    "steps": 0,
                    "status": "in_progress",
                    "skill_scores": {},
                    "started_at": T0,
                },
            )

        upgrade(engine, "0010")

        t = tables(engine)
        with engine.begin() as conn:
            rows = conn.execute(
                sa.select(t["quiz_attempt"].c.launch_id, t["quiz_attempt"].c.placement)
            ).all()
            placed = {launch_id: placement for launch_id, placement in rows}
            run_placement = conn.execute(sa.select(t["scenario_run"].c.placement)).scalar_one()
            # Attempt numbers now restart per placement: a first attempt in the second link.
            conn.execute(t["quiz_attempt"].insert(), attempt(week2, 1, placement=placed[week2]))
        assert placed == {
            week1: placement_key("dep-1", "course-7", "link-1"),
            week2: placement_key("dep-1", "course-7", None),
        }
        assert run_placement == placed[week2]

        downgrade(engine, "0009")

        t = tables(engine)
        assert "placement" not in t["quiz_attempt"].c
        with engine.begin() as conn:
            numbers = (
                conn.execute(
                    sa.select(t["quiz_attempt"].c.number).order_by(t["quiz_attempt"].c.started_at)
                )
                .scalars()
                .all()
            )
            # The learner-wide numbering and its unique constraint are back.
            with pytest.raises(sa.exc.IntegrityError):
                conn.execute(t["quiz_attempt"].insert(), attempt(week1, 1))
        assert numbers == [1, 2, 3]
