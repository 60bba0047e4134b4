"""Flask application factory for the CX Academy tool."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from lti_tool.config import Settings
from lti_tool.errors import ConfigError
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.installation import statement_namespace
from lti_tool.store.keys import ensure_active_key
from lti_tool.store.outbox import register_destinations
from lti_tool.web import (
    admin,
    assessment,
    badges,
    branding,
    course,
    errors,
    goals,
    health,
    home,  # noqa: F401 (importing it registers the home page on learner.bp)
    instructor,
    language,
    launch_session,
    learner,
    limits,
    lti,
    placement,
    progress,
    quiz,
    regional,
    registration,
    scenario,
    xapi_iris,
    xapi_profile,
)
from lti_tool.web import db as web_db
from lti_tool.web.framing import RegistrationCache

# Largest request body we accept: LTI launches and our forms are a few kilobytes.
MAX_CONTENT_LENGTH = 256 * 1024
# HSTS lifetime in production: a year, the usual preload minimum. No includeSubDomains: other
# hosts of the operator's domain are not ours to force onto https.
HSTS = "max-age=31536000"


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app; tests pass their own settings (and may share services)."""
    settings = settings or (services.settings if services else Settings.from_env())
    services = services or Services.build(settings)
    logging.basicConfig(level=settings.log_level)

    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        # Our own pages never rely on the Flask session cookie (see web/launch_session.py).
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_SAMESITE="None" if settings.secure_cookies else "Lax",
    )
    app.extensions["cxa"] = services

    # The first key is made here so the JWKS is never empty; the schema must exist already
    # (`cxa db upgrade`): the app never creates tables behind Alembic's back.
    try:
        with transaction(services.sessions) as session:
            ensure_active_key(session, settings.key_encryption_secret)
            # Before the first request: a statement recorded at once must already fan out
            # to every configured LRS, not wait for a worker to register them (decision 0004).
            register_destinations(session, [d.name for d in settings.destinations])
            # Read once here, so no request pays for it and a database without its
            # installation row stops the start-up instead of the first learner's request.
            statement_namespace(session)
    except (OperationalError, ProgrammingError) as err:
        raise ConfigError(
            f"the database at {services.engine.url!r} has no CX Academy schema "
            "(or is unreachable): run `cxa db upgrade`"
        ) from err

    # Parsed here rather than on the first page, so a server that loads the app before it
    # forks (gunicorn's preload_app) parses the curriculum once for all its workers.
    learner.shipped_catalog()

    web_db.init_app(app)
    errors.init_app(app)
    launch_session.init_app(app)
    language.init_app(app)
    regional.init_app(app)
    blueprints = (lti.bp, learner.bp, course.bp, quiz.bp, scenario.bp, assessment.bp, progress.bp)
    for blueprint in (
        *blueprints,
        placement.bp,
        instructor.bp,
        health.bp,
        xapi_profile.bp,
        xapi_iris.bp,
        registration.bp,
        badges.bp,
        admin.bp,
        goals.bp,
        branding.bp,
    ):
        app.register_blueprint(blueprint)

    registrations = RegistrationCache(services.sessions, settings.frame_ancestors_extra)
    app.extensions["cxa_registrations"] = registrations
    limits.init_app(app, settings, lambda: registrations.current().issuers)
    if settings.proxy_hops:
        # Client address and scheme from the proxy's X-Forwarded-* headers, trusting only
        # as many hops as the operator says are ours (a client can forge the rest).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    production = urlsplit(settings.base_url).scheme.lower() == "https"

    @app.after_request
    def security_headers(response: Response) -> Response:
        # LMSs show us in an iframe: only the registered platforms may (web/framing.py).
        frame_ancestors = registrations.current().frame_ancestors
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"form-action 'self'; frame-ancestors {frame_ancestors}; base-uri 'none'; "
            "object-src 'none'",
        )
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return app
