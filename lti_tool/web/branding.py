"""The look every page shares: the deployment's organisation name and accent colour, the
logo and the favicon."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, redirect, url_for
from sqlalchemy.exc import SQLAlchemyError

from lti_tool.branding import Brand, parse_accent
from lti_tool.errors import BrandingError
from lti_tool.store.branding import get_brand
from lti_tool.web.db import db
from lti_tool.web.learning_errors import PageNotFoundError

bp = Blueprint("branding", __name__)

# A day: the stylesheet for a colour never changes, only which colour a page links to.
ACCENT_MAX_AGE = 86400


def current_brand() -> Brand:
    """The branding of the launch this request serves; the product's own without one."""
    if "cxa_brand" not in g:
        launch = g.get("cxa_launch")
        try:
            g.cxa_brand = (
                get_brand(db(), launch.platform_id, launch.deployment_id) if launch else Brand()
            )
        except SQLAlchemyError:
            # Error pages render through here too, sometimes because the database just
            # failed: they show the product's own look rather than fail a second time.
            g.cxa_brand = Brand()
    brand: Brand = g.cxa_brand
    return brand


@bp.app_context_processor
def _brand() -> dict[str, Any]:
    return {"brand": current_brand()}


@bp.get("/favicon.ico")
def favicon() -> Any:
    # Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon
    # rather than answering (and logging) a 404 on every first visit.
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/brand/accent/<colour>.css")
def accent_css(colour: str) -> Response:
    """The accent colour as a stylesheet (the Content-Security-Policy allows no inline
    styles). Only colours that pass the contrast check are served."""
    try:
        checked = parse_accent("#" + colour)
    except BrandingError as err:
        raise PageNotFoundError("There is no such colour.") from err
    response = Response(f":root {{ --accent: {checked}; }}\n", mimetype="text/css", status=200)
    response.cache_control.public = True
    response.cache_control.max_age = ACCENT_MAX_AGE
    return response
