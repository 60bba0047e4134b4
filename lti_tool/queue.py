"""The one Celery app definition shared by the web side and the workers.

The web side only sends tasks by name (it never imports ``workers``); the worker
process imports ``workers.tasks``, which registers them on an app built here.
"""

from __future__ import annotations

from celery import Celery

from lti_tool.config import Settings

TASK_DELIVER_OUTBOX = "cxa.deliver_outbox"
TASK_SWEEP = "cxa.sweep"
TASK_SEND_GRADES = "cxa.send_grades"
TASK_SWEEP_GRADES = "cxa.sweep_grades"
TASK_RECONCILE_GRADES = "cxa.reconcile_grades"
TASK_COUNT_GOAL_PROGRESS = "cxa.count_goal_progress"
TASK_PULL_GOAL_SOURCES = "cxa.pull_goal_sources"
TASK_MARK_MISSED_GOALS = "cxa.mark_missed_goals"


def make_celery(settings: Settings) -> Celery:
    app = Celery("cxa", broker=settings.broker_url, set_as_current=False)
    conf: dict[str, object] = {
        "task_ignore_result": True,
        # A task is acknowledged only after it ran, so a killed worker's task is redelivered;
        # delivery is idempotent (statement ids are deterministic), so a rerun is harmless.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": {
            "sweep": {"task": TASK_SWEEP, "schedule": float(settings.outbox_sweep_seconds)},
            # Grades whose kick was lost, and retries whose back-off has run out.
            "sweep-grades": {
                "task": TASK_SWEEP_GRADES,
                "schedule": float(settings.outbox_sweep_seconds),
            },
            # Read the LMS's results back: lost scores re-sent, instructor overrides noted.
            "reconcile-grades": {
                "task": TASK_RECONCILE_GRADES,
                "schedule": float(settings.grade_reconcile_seconds),
            },
            # Goal progress whose kick was lost, and statements from external LRSs.
            "count-goal-progress": {
                "task": TASK_COUNT_GOAL_PROGRESS,
                "schedule": float(settings.outbox_sweep_seconds),
            },
            "pull-goal-sources": {
                "task": TASK_PULL_GOAL_SOURCES,
                "schedule": float(settings.outbox_sweep_seconds),
            },
            # Deadlines are days apart; a few minutes late is still the right day.
            "mark-missed-goals": {"task": TASK_MARK_MISSED_GOALS, "schedule": 300.0},
        },
        "timezone": "UTC",
        "task_default_queue": settings.task_queue,
        # The web side sends a task after each commit; with the broker down that must fail
        # fast (the sweep delivers later) instead of stalling the learner's request.
        "broker_connection_timeout": 1,
    }
    if settings.broker_url.startswith("filesystem://"):
        # The embedded default: producer and consumer share one folder, no server needed.
        queue_dir = settings.broker_dir / "queue"
        processed_dir = settings.broker_dir / "processed"
        control_dir = settings.broker_dir / "control"
        for folder in (queue_dir, processed_dir, control_dir):
            folder.mkdir(parents=True, exist_ok=True)
        conf["broker_transport_options"] = {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(processed_dir),
            "store_processed": False,
            # Broadcast (pidbox) exchanges; kombu's default is ./control in the working dir.
            "control_folder": str(control_dir),
            # kombu looks for new files once a second by default; every hop (a kick, then
            # the goal engine behind the delivery task) waited up to that long. Listing one
            # small folder ten times a second costs next to nothing.
            "polling_interval": 0.1,
        }
    elif settings.broker_url.startswith(("redis://", "rediss://")):
        conf["broker_transport_options"] = {"socket_connect_timeout": 1}
    app.conf.update(conf)
    return app
