"""Who a statement names: a stored launch row of any age must give a valid actor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from lti_tool.recording import learner_of
from lti_tool.store.models import Launch, Platform
from tests.unit.xapi.catalogue import NAMESPACE
from xapi import vocabulary
from xapi.events import Activity, ActorFormat, LearningEvent
from xapi.statements import build_statement


def _launch(
    actor_format: str, email: str | None, name: str | None = "Lee", actor_name: str = "include"
) -> Launch:
    platform = Platform(
        id=1, issuer="https://lms.example.test", actor_format=actor_format, actor_name=actor_name
    )
    return Launch(platform=platform, sub="learner-1", email=email, name=name)


@pytest.mark.parametrize("actor_format", ["mbox", "mbox_sha1sum"])
@pytest.mark.parametrize("email", [None, "", "not-an-email", "a@b", "lee@example.test\x00"])
def test_rows_without_a_usable_email_give_the_account_actor(
    actor_format: str, email: str | None
) -> None:
    # Rows stored before launches were checked may hold anything in the email column.
    learner = learner_of(_launch(actor_format, email, name="Lee\x00 Learner"))
    assert learner.actor_format is ActorFormat.ACCOUNT
    statement = build_statement(
        LearningEvent(
            source_id="t:1",
            verb=vocabulary.EXPERIENCED,
            learner=learner,
            object=Activity(id="https://cx.example.test/a/1", type=vocabulary.COURSE, name="A"),
            timestamp=datetime.now(UTC),
            registration=uuid.uuid4(),
        ),
        namespace=NAMESPACE,
    )
    assert statement["actor"]["account"]["name"] == "learner-1"
    assert statement["actor"]["name"] == "Lee Learner"


def test_a_usable_email_gives_the_platforms_actor() -> None:
    learner = learner_of(_launch("mbox", "lee@example.test"))
    assert learner.actor_format is ActorFormat.MBOX
    assert learner.email == "lee@example.test"


def _actor(launch: Launch) -> dict[str, object]:
    statement = build_statement(
        LearningEvent(
            source_id="t:2",
            verb=vocabulary.EXPERIENCED,
            learner=learner_of(launch),
            object=Activity(id="https://cx.example.test/a/1", type=vocabulary.COURSE, name="A"),
            timestamp=datetime.now(UTC),
        ),
        namespace=NAMESPACE,
    )
    actor: dict[str, object] = statement["actor"]
    return actor


@pytest.mark.parametrize("actor_format", ["account", "mbox", "mbox_sha1sum"])
def test_statements_carry_no_name_unless_the_registration_opts_in(actor_format: str) -> None:
    omitted = _launch(actor_format, "lee@example.test", name="Lee Learner", actor_name="omit")
    assert "name" not in _actor(omitted)
    included = _launch(actor_format, "lee@example.test", name="Lee Learner")
    assert _actor(included)["name"] == "Lee Learner"


def test_a_platform_row_made_before_the_setting_sends_no_name() -> None:
    # A Platform built without the column set (as the migration leaves old rows until
    # the server default applies) must not fall back to sending names.
    launch = Launch(
        platform=Platform(id=1, issuer="https://lms.example.test", actor_format="account"),
        sub="learner-1",
        name="Lee Learner",
    )
    assert learner_of(launch).name is None
