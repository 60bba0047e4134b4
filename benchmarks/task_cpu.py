"""The worker's Celery app, with CPU time counted per task name (benchmarks only).

Start with ``celery -A benchmarks.task_cpu worker`` and ``CXA_BENCH_TASK_CPU`` set to a
folder. After each task a worker process writes its running totals to ``<pid>.json`` there,
so benchmarks/delivery.py can tell the delivery tasks' own CPU from the rest of the worker's
(the goal engine's tasks, Celery's own receiving and acknowledging). The main process
also writes the doorbell loop's figures (workers/delivery_loop.py) to ``loop.json`` there,
ten times a second, when the loop runs.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_ready

from workers import delivery_loop
from workers.app import app

__all__ = ["app"]

#: Per task name: [CPU seconds, tasks run].
_totals: dict[str, list[float]] = {}
_started: dict[str, float] = {}


@task_prerun.connect
def _start(task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        _started[task_id] = time.process_time()


@task_postrun.connect
def _stop(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    begun = _started.pop(task_id or "", None)
    if begun is None or task is None:
        return
    spent = _totals.setdefault(task.name, [0.0, 0])
    spent[0] += time.process_time() - begun
    spent[1] += 1
    folder = os.environ.get("CXA_BENCH_TASK_CPU")
    if folder:
        # Replaced whole, so a reader never sees half a file.
        path = Path(folder, f"{os.getpid()}.json")
        path.with_suffix(".tmp").write_text(json.dumps(_totals))
        path.with_suffix(".tmp").replace(path)


@worker_ready.connect
def _report_loop(**_: Any) -> None:
    folder = os.environ.get("CXA_BENCH_TASK_CPU")
    if not folder:
        return

    def write() -> None:
        path = Path(folder, "loop.json")
        while True:
            loop = delivery_loop.running
            if loop is not None:
                path.with_suffix(".tmp").write_text(
                    json.dumps({"pid": os.getpid(), **asdict(loop.figures)})
                )
                path.with_suffix(".tmp").replace(path)
            time.sleep(0.1)

    # Started once the pool has forked, in the main process, where the loop runs.
    threading.Thread(target=write, name="bench-loop-figures", daemon=True).start()
