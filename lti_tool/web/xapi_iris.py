"""GET on the IRIs we mint: an activity's definition, or one of our profile's concepts.

xAPI 1.0.3 Part Two, 2.4.4.1 recommends that an activity id, when it is a URL the
provider controls, resolves to the activity's metadata; our IRIs live under the operator's
base (``Settings.iri_base``, by default ``CXA_BASE_URL/xapi/``), so this blueprint answers
there: JSON when the client asks for JSON, a small HTML page for people otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from content.catalog import Catalog
from content.schema import DecisionNode
from lti_tool import recording
from lti_tool.web.db import services
from lti_tool.web.learner import catalog
from xapi import vocabulary
from xapi.events import Activity
from xapi.iris import rebase_iri
from xapi.profile import profile_document
from xapi.statements import activity_object

bp = Blueprint("xapi_iris", __name__)

_JSON_TYPES = ("application/json", "application/ld+json")


def _activities(found: Catalog) -> dict[str, Activity]:
    # Built with the same functions statements use, so what GET returns is what the LRS
    # was sent (canonical IRI -> activity).
    items: list[Activity] = []
    items += [recording.course_activity(c) for c in found.list_courses()]
    items += [recording.module_activity(m) for m in found.list_modules()]
    items += [recording.lesson_activity(lesson) for lesson in found.list_lessons()]
    items += [recording.quiz_activity(q) for q in found.list_quizzes()]
    items += [recording.question_activity(q) for q in found.list_questions()]
    for scenario in found.list_scenarios():
        items.append(recording.scenario_activity(scenario))
        items += [
            recording.decision_activity(scenario, node)
            for node in scenario.nodes
            if isinstance(node, DecisionNode)
        ]
    assessment = found.self_assessment
    if assessment is not None:
        items.append(recording.self_assessment_activity(assessment))
        items += [recording.rating_activity(assessment, s) for s in assessment.statements]
    return {item.id: item for item in items}


def _answer(document: dict[str, Any], title: str, description: str | None) -> Response:
    best = request.accept_mimetypes.best_match(["text/html", *_JSON_TYPES], default="text/html")
    if best in _JSON_TYPES:
        return Response(json.dumps(document, indent=2), mimetype="application/json")
    page = render_template(
        "xapi_iri.html",
        title=title,
        description=description,
        document=json.dumps(document, indent=2, ensure_ascii=False),
    )
    return Response(page, mimetype="text/html")


def _not_ours(iri: str) -> tuple[str, int]:
    page = render_template(
        "xapi_iri.html",
        title="Not one of our xAPI IRIs",
        description=f"CX Academy does not define {iri}.",
        document=None,
    )
    return page, 404


@bp.get("/xapi/activities/<path:rest>")
def activity(rest: str) -> Response | tuple[str, int]:
    base = services().settings.iri_base
    # content.activity_iri puts activities under CX_BASE + "activities"; slugs are plain
    # ([a-z0-9-]), so the path is the canonical IRI's tail as it stands.
    found = _activities(catalog()).get(vocabulary.CX_BASE + "activities/" + rest)
    if found is None:
        return _not_ours(rebase_iri(vocabulary.CX_BASE + "activities/" + rest, base))
    return _answer(activity_object(found, base), found.name, found.description)


@bp.get("/xapi/<any(verbs, 'activity-types', extensions, audiences):group>/<name>")
def concept(group: str, name: str) -> Response | tuple[str, int]:
    settings = services().settings
    iri = rebase_iri(vocabulary.CX_BASE + f"{group}/{name}", settings.iri_base)
    document = profile_document(settings.base_url + "/xapi/profile", settings.iri_base)
    for item in document["concepts"]:
        if item["id"] == iri:
            return _answer(item, item["prefLabel"]["en"], item["definition"]["en"])
    if group == "audiences" and iri == rebase_iri(vocabulary.STAFF, settings.iri_base):
        staff = activity_object(recording.STAFF_CATEGORY, settings.iri_base)
        return _answer(staff, "Staff", "Statements from launches with a staff role.")
    return _not_ours(iri)
