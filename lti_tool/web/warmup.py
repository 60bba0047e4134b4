"""Work a web process would otherwise repeat after every fork: compiling the page templates
and the launch's SQL, loading Babel's locale data, reading the registrations and importing
what Celery loads on the first task sent.

With gunicorn's preload_app the master builds the app once and forks the workers; doing this
work there means each worker inherits it instead of repeating it on its first requests
(issue 12: launch CPU).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from babel import Locale
from babel.core import get_global
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from celery import Celery
from flask import Flask

from lti_tool.store import goals, platforms, sessions
from lti_tool.store.branding import get_brand
from lti_tool.store.learning import LearnerKey, get_latest_self_assessment
from lti_tool.web.framing import RegistrationCache
from lti_tool.web.language import DEFAULT, SHIPPED
from lti_tool.web.learner import catalog
from lti_tool.web.progress import path_progress


def precompile_templates(app: Flask) -> int:
    """Load every page template into the app's Jinja cache; returns how many were loaded."""
    env = app.jinja_env
    names = [n for n in env.list_templates() if n.endswith((".html", ".txt", ".xml"))]
    for name in names:
        env.get_template(name)
    return len(names)


def prepare_task_sending(celery: Celery) -> None:
    """Import the modules Celery and kombu load lazily on the first task sent (the loader,
    AMQP and event machinery, the broker's transport), without connecting to the broker:
    a connection made before the fork would be shared by every worker."""
    _ = celery.loader, celery.backend, celery.amqp.router, celery.events.Dispatcher
    with celery.connection_for_write() as connection:
        # Instantiates the transport class (importing kombu.transport.redis); no socket yet.
        _ = connection.transport


def prepare_regional_formats() -> list[str]:
    """Load Babel's data for each language we ship, bare and in its most likely region
    (CLDR likely subtags: en and en_US), by formatting with it once; returns the locales.

    Babel unpickles and merges a locale's data on first use, per process: about 25 ms of
    every worker's first page otherwise. Other regions still load on first use."""
    likely: Mapping[str, str] = get_global("likely_subtags")
    loaded = []
    for language in dict.fromkeys((DEFAULT, *SHIPPED)):
        for tag in dict.fromkeys((language, likely.get(language, language))):
            locale = Locale.parse(tag)
            format_decimal(1234.5, locale=locale)
            format_percent(0.5, locale=locale)
            format_date(date(2026, 1, 31), format="medium", locale=locale)
            loaded.append(str(locale))
    return loaded


def prepare_registrations(registrations: RegistrationCache) -> None:
    """Read the registrations (frame-ancestors, rate-limit keys) once before the fork: each
    worker starts with the list, and refreshes it on the usual schedule."""
    registrations.current()


def prepare_queries(app: Flask) -> None:
    """Run the reads of a launch and of its landing page once, for no one, and roll back.

    SQLAlchemy keeps each statement's compiled form on the engine, which the workers
    inherit: otherwise every worker compiles each of them on its first launch (about 8% of
    the web processes' CPU over a 300-launch run after a deploy). The three writes of a
    launch are left to it: nothing is written here."""
    services = app.extensions["cxa"]
    nobody = LearnerKey(platform_id=0, sub="")
    with app.app_context(), services.sessions() as session:
        platforms.get_platform(session, "", "", with_deployments=True)
        sessions.get_session(session, "")
        path_progress(session, nobody, catalog().list_courses_in_path())
        get_latest_self_assessment(session, nobody)
        goals.list_goals(session, nobody)
        get_brand(session, 0, "")
        session.rollback()


def prepare(app: Flask) -> None:
    """All of the above for a WSGI app gunicorn preloaded; apps that are not ours (the
    benchmark's bare pylti1p3 baseline) get only what applies to any Flask app."""
    if not isinstance(app, Flask):
        return
    precompile_templates(app)
    services = app.extensions.get("cxa")
    if services is None:
        return
    prepare_regional_formats()
    prepare_task_sending(services.celery)
    prepare_queries(app)
    registrations = app.extensions.get("cxa_registrations")
    if registrations is not None:
        prepare_registrations(registrations)
