"""The worker process's Celery app: built from the environment, tasks registered on import.

Start with ``celery -A workers.app worker`` and ``celery -A workers.app beat``.
"""

from __future__ import annotations

from lti_tool.config import Settings
from lti_tool.queue import make_celery

settings = Settings.from_env()
app = make_celery(settings)

from workers import delivery_loop, tasks  # noqa: E402  (registers the tasks on the app above)

tasks.register(app, settings)
# With a Redis state store, each worker process also runs the doorbell's delivery loop.
delivery_loop.install(app, settings)
