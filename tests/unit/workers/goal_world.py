"""A small world for goal-engine tests: platforms, learners with launches, goals, and
statements as the app records them (real builders) or as other tools send them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.catalog import Catalog
from content.loader import load_catalog
from lti_tool import goal_events, recording
from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.goals import Goal, PracticeEntry
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import Launch, OutboxRow, Platform
from xapi import vocabulary
from xapi.events import LearningEvent
from xapi.statements import build_statement

CATALOG: Catalog = load_catalog()
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
NAMESPACE = uuid.UUID("8f1d2c3b-4a5e-4f60-9b7c-1d2e3f4a5b6c")
EXTERNAL_VERB = "https://w3id.org/xapi/video/verbs/watched"
EXTERNAL_TYPE = "https://w3id.org/xapi/video/activity-type/video"


@dataclass
class GoalWorld:
    services: Services
    launches: dict[str, Launch] = field(default_factory=dict)
    platform_id: int = 0
    clock: datetime = START + timedelta(days=1)

    def add_platform(
        self, actor_format: str = "account", issuer: str = "https://lms.example"
    ) -> int:
        with transaction(self.services.sessions) as session:
            platform = Platform(
                name="LMS",
                issuer=issuer,
                client_id=f"client-{uuid.uuid4().hex[:6]}",
                auth_login_url=issuer + "/auth",
                auth_token_url=issuer + "/token",
                key_set_url=issuer + "/jwks",
                actor_format=actor_format,
            )
            session.add(platform)
            session.flush()
            self.platform_id = platform.id
            return platform.id

    def add_learner(
        self, sub: str, *, email: str | None = None, platform_id: int | None = None
    ) -> Launch:
        with transaction(self.services.sessions) as session:
            launch = Launch(
                platform_id=platform_id or self.platform_id,
                deployment_id="d1",
                sub=sub,
                email=email,
                roles=[],
                context_id="course-1",
                resource_link_id="link-1",
                message_type="LtiResourceLinkRequest",
                claims={},
            )
            session.add(launch)
            session.flush()
            session.refresh(launch, ["platform"])
            self.launches[sub] = launch
            return launch

    def key(self, sub: str) -> LearnerKey:
        return LearnerKey.of(self.launches[sub])

    def add_goal(
        self, sub: str, metric: str, params: dict[str, Any], target: float, **extra: Any
    ) -> int:
        launch = self.launches[sub]
        with transaction(self.services.sessions) as session:
            goal = Goal(
                platform_id=launch.platform_id,
                sub=sub,
                title=f"{metric} goal",
                metric_key=metric,
                metric_params=params,
                target=target,
                starts_at=extra.pop("starts_at", START),
                due_at=extra.pop("due_at", START + timedelta(days=60)),
                **extra,
            )
            session.add(goal)
            session.flush()
            return goal.id

    def goal(self, goal_id: int) -> Goal:
        with self.services.sessions() as session:
            found = session.get(Goal, goal_id)
            assert found is not None
            return found

    def tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    # --- statements the app records --------------------------------------------------------

    def record(self, sub: str, event: LearningEvent) -> dict[str, Any]:
        with transaction(self.services.sessions) as session:
            recording.record_event(session, event, owner=self.key(sub))
            return self.last_statement(session)

    @staticmethod
    def last_statement(session: Session) -> dict[str, Any]:
        row = session.scalars(select(OutboxRow).order_by(OutboxRow.id.desc()).limit(1)).one()
        return row.statement

    def lesson(self, sub: str, lesson_id: str, at: datetime | None = None) -> dict[str, Any]:
        lesson = CATALOG.require_lesson(lesson_id)
        course = CATALOG.get_course_of_lesson(lesson_id)
        assert course is not None
        module = next(m for m in course.modules if lesson_id in m.lessons)
        launch = self.fresh_launch(sub)
        return self.record(
            sub,
            recording.lesson_experienced_event(launch, course, module, lesson, at or self.tick()),
        )

    def fresh_launch(self, sub: str) -> Launch:
        # Lesson statements are once per launch: a new launch id makes a new visit.
        old = self.launches[sub]
        copy = Launch(
            id=uuid.uuid4(),
            platform=old.platform,
            platform_id=old.platform_id,
            deployment_id=old.deployment_id,
            sub=sub,
            email=old.email,
            roles=[],
            context_id=old.context_id,
            resource_link_id=old.resource_link_id,
            message_type=old.message_type,
            claims={},
        )
        return copy

    def quiz(self, sub: str, scaled: float, at: datetime | None = None) -> dict[str, Any]:
        from content.scoring import QuizScore

        course = CATALOG.require_course("service-foundations")
        quiz = course.quiz
        assert quiz is not None
        score = QuizScore(scaled * 10, 0.0, 10.0, scaled, scaled >= quiz.pass_mark, ())
        return self.record(
            sub,
            recording.quiz_result_event(
                self.launches[sub],
                course,
                quiz,
                score,
                uuid.uuid4(),
                timedelta(minutes=5),
                at or self.tick(),
            ),
        )

    def practice(self, sub: str, kind: str, happened_on: date | None = None) -> dict[str, Any]:
        entry = PracticeEntry(
            public_id=uuid.uuid4(),
            platform_id=self.launches[sub].platform_id,
            sub=sub,
            kind=kind,
            happened_on=happened_on or self.clock.date(),
        )
        return self.record(
            sub, goal_events.practice_logged_event(self.launches[sub], entry, CATALOG, self.tick())
        )

    # --- statements from elsewhere -----------------------------------------------------------

    def external(
        self, actor: dict[str, Any], at: datetime | None = None, **changes: Any
    ) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "actor": actor,
            "verb": {"id": EXTERNAL_VERB, "display": {"en-US": "watched"}},
            "object": {
                "id": f"https://videos.example/v/{uuid.uuid4().hex[:8]}",
                "definition": {"type": EXTERNAL_TYPE},
            },
            "timestamp": (at or self.tick()).isoformat().replace("+00:00", "Z"),
        }
        statement.update(changes)
        return statement

    def account(self, sub: str) -> dict[str, Any]:
        return {
            "objectType": "Agent",
            "account": {"homePage": self.launches[sub].platform.issuer, "name": sub},
        }

    def add_raw(self, statement: dict[str, Any], sub: str | None = None, **row: Any) -> int:
        """Put a statement in the outbox directly (ids chosen by the test, if given)."""
        with transaction(self.services.sessions) as session:
            owner = self.key(sub) if sub else None
            values = {
                "destination": row.pop("destination", "default"),
                "statement_id": statement["id"],
                "statement": statement,
                "platform_id": owner.platform_id if owner else None,
                "sub": owner.sub if owner else None,
                **row,
            }
            added = OutboxRow(**values)
            session.add(added)
            session.flush()
            return added.id

    def void(self, sub: str, statement_id: str) -> dict[str, Any]:
        statement = {
            "id": str(uuid.uuid4()),
            "actor": self.account(sub),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement_id},
            "timestamp": self.tick().isoformat().replace("+00:00", "Z"),
        }
        with transaction(self.services.sessions) as session:
            outbox.add_statement(session, statement, owner=(self.key(sub).platform_id, sub))
        return statement

    def goal_statements(self, verb: vocabulary.Verb) -> list[dict[str, Any]]:
        with self.services.sessions() as session:
            rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
            seen: dict[str, dict[str, Any]] = {}
            for row in rows:
                # Our own verbs sit under the installation's IRI base.
                wanted = verb.iri.removeprefix(vocabulary.CX_BASE)
                if row.statement["verb"]["id"].endswith(wanted):
                    seen.setdefault(row.statement_id, row.statement)
            return list(seen.values())


def built(event: LearningEvent) -> dict[str, Any]:
    return build_statement(event, namespace=NAMESPACE)
