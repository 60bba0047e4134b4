"""Work a web process would otherwise repeat after every fork: compiling the page templates.

With gunicorn's preload_app the master builds the app once and forks the workers; compiling
every template there means each worker inherits the compiled code instead of compiling the
same templates again on its first requests (issue 12: launch CPU).
"""

from __future__ import annotations

from flask import Flask


def precompile_templates(app: Flask) -> int:
    """Load every page template into the app's Jinja cache; returns how many were loaded."""
    env = app.jinja_env
    names = [n for n in env.list_templates() if n.endswith((".html", ".txt", ".xml"))]
    for name in names:
        env.get_template(name)
    return len(names)
