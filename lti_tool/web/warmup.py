"""Work a web process would otherwise repeat after every fork: compiling the page templates
and importing what Celery loads on the first task sent.

With gunicorn's preload_app the master builds the app once and forks the workers; doing this
work there means each worker inherits it instead of repeating it on its first requests
(issue 12: launch CPU).
"""

from __future__ import annotations

from celery import Celery
from flask import Flask


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
