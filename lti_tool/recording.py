"""The one interface every learner action goes through on its way to the LRS.

A view builds a ``LearningEvent`` and calls ``record_event`` inside its own transaction;
the statement lands in the outbox with the learner's change, or not at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from lti_tool.store import outbox
from lti_tool.store.models import Launch
from xapi import vocabulary
from xapi.events import Activity, ActorFormat, Learner, LearningEvent
from xapi.statements import build_statement

#: Session.info flag that tells the commit helper a delivery task is worth sending.
OUTBOX_TOUCHED = "cxa_outbox_touched"

# ADL activity type for a link followed from elsewhere (here: the LMS placement).
LINK_ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/link"

# Namespace of the placement ids below: changing it changes every placement's activity id.
_PLACEMENT_NAMESPACE = uuid.UUID("5d7a1c1e-3f7b-4a53-9a43-8f3cfc3f6d11")


def record_event(
    session: Session, event: LearningEvent, actor_format: ActorFormat = ActorFormat.ACCOUNT
) -> bool:
    """Queue the event's statement; False if this very event was recorded before."""
    added = outbox.add_statement(session, build_statement(event, actor_format=actor_format))
    session.info[OUTBOX_TOUCHED] = True
    return added


def learner_of(launch: Launch) -> Learner:
    return Learner(
        issuer=launch.platform.issuer, sub=launch.sub, name=launch.name, email=launch.email
    )


def lms_course_activity(launch: Launch) -> Activity | None:
    """The LMS course the launch came from, as a grouping activity L&D can filter on."""
    if not launch.context_id:
        return None
    key = f"{launch.platform.issuer}|{launch.deployment_id}|{launch.context_id}"
    return Activity(
        id=vocabulary.CX_BASE + f"activities/lms-context/{uuid.uuid5(_PLACEMENT_NAMESPACE, key)}",
        type=vocabulary.COURSE,
        name=launch.context_title or "LMS course",
    )


def placement_activity(launch: Launch) -> Activity:
    """The link the learner clicked in the LMS (platform, deployment, resource link)."""
    key = f"{launch.platform.issuer}|{launch.deployment_id}|{launch.resource_link_id}"
    return Activity(
        id=vocabulary.CX_BASE + f"activities/placement/{uuid.uuid5(_PLACEMENT_NAMESPACE, key)}",
        type=LINK_ACTIVITY_TYPE,
        name=launch.resource_link_title or "CX Academy",
    )


def launched_event(launch: Launch, at: datetime) -> LearningEvent:
    course = lms_course_activity(launch)
    extensions = {vocabulary.LTI_RESOURCE_LINK_ID: launch.resource_link_id}
    if launch.context_id:
        extensions[vocabulary.LTI_CONTEXT_ID] = launch.context_id
    return LearningEvent(
        source_id=f"launch:{launch.id}",
        verb=vocabulary.LAUNCHED,
        learner=learner_of(launch),
        object=placement_activity(launch),
        timestamp=at,
        registration=launch.id,
        grouping=(course,) if course else (),
        language=launch.locale,
        extensions=extensions,
    )
