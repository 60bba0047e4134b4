"""Our xAPI Profile, served where L&D teams and LRS tools can fetch it."""

from __future__ import annotations

import json

from flask import Blueprint, Response

from lti_tool.web.db import services
from xapi.profile import profile_document

bp = Blueprint("xapi_profile", __name__)


@bp.get("/xapi/profile")
@bp.get("/xapi/profile/v1.0")
def profile() -> Response:
    settings = services().settings
    # The profile's IRI sits under the operator's IRI base, like every concept it defines;
    # with the default base that is this very address.
    document = profile_document(settings.base_url + "/xapi/profile", settings.iri_base)
    response = Response(json.dumps(document, indent=2), mimetype="application/ld+json")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
