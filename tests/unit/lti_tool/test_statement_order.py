"""Statements of one transaction get strictly increasing timestamps in the order recorded."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from lti_tool import recording
from tests.unit.xapi.catalogue import STATEMENT_KINDS
from xapi.events import LearningEvent

AT = datetime(2026, 11, 30, 12, 0, 0, 500, tzinfo=UTC)


def _at(moment: datetime) -> LearningEvent:
    return dataclasses.replace(STATEMENT_KINDS["answered_choice"], timestamp=moment)


def test_ties_and_clock_steps_back_are_moved_one_millisecond_on() -> None:
    with Session(create_engine("sqlite://")) as session:
        session.execute(text("select 1"))  # begins the transaction
        stamps = [
            recording._after_previous(session, _at(moment)).timestamp
            for moment in (AT, AT, AT - timedelta(seconds=1), AT + timedelta(seconds=5))
        ]
    ms = timedelta(milliseconds=1)
    assert stamps == [AT, AT + ms, AT + 2 * ms, AT + timedelta(seconds=5)]


def test_a_new_transaction_keeps_its_own_timestamps() -> None:
    with Session(create_engine("sqlite://")) as session:
        session.execute(text("select 1"))
        recording._after_previous(session, _at(AT))
        session.commit()
        session.execute(text("select 1"))
        later = recording._after_previous(session, _at(AT))
    assert later.timestamp == AT
