"""xAPI events for instructors' changes to a learner's records (the class view's actions).

Kept apart from recording.py, which owns the learner's own actions; this module reuses its
building blocks (the learner as actor, the activity ids) so the statements line up.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from content.schema import Quiz
from lti_tool.recording import (
    learner_of,
    lms_course_activity,
    quiz_activity,
    registration_source,
)
from lti_tool.store.models import Launch
from xapi import vocabulary
from xapi.events import LearningEvent
from xapi.statements import source_id


def attempt_reset_event(
    learner_launch: Launch,
    quiz: Quiz,
    attempt_id: uuid.UUID,
    instructor: Launch,
    at: datetime,
) -> LearningEvent:
    """An instructor discarded the learner's unfinished attempt: the attempt ends here,
    unscored, so an LRS does not wait for its result. It sits in the learner's enrolment
    (registration) like every statement of theirs, with the attempt in its extension.

    The source id is the attempt's own id: an attempt can be reset once, then it is gone.
    """
    lms = lms_course_activity(learner_launch)
    return LearningEvent(
        source_id=source_id("quiz-attempt-reset", attempt_id),
        verb=vocabulary.TERMINATED,
        learner=learner_of(learner_launch),
        object=quiz_activity(quiz),
        timestamp=at,
        registration_source=registration_source(learner_launch),
        grouping=(lms,) if lms else (),
        language=learner_launch.locale,
        content_version=quiz.content_version,
        extensions={
            vocabulary.ATTEMPT_ID: str(attempt_id),
            **({vocabulary.LTI_CONTEXT_ID: instructor.context_id} if instructor.context_id else {}),
        },
    )
