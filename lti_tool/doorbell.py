"""The delivery doorbell: a tiny Redis list through which a commit wakes one idle worker.

Used when the state store is Redis (docs/decisions/0022). The web side rings after a commit
that queued statements; each worker process runs a loop blocked on the list (BLPOP) that
delivers when woken. A ring is one pipelined round trip (LPUSH, LTRIM) instead of a Celery
message, and the worker pays no task handling for it. BLPOP hands an element to exactly one
blocked client, so a ring wakes one worker, never all of them (unlike PUBLISH). The list is
trimmed to a single element: a ring means only "rows are due", and one worker that wakes
delivers every due row, so further rings while nobody waits add nothing.

A lost ring (Redis down, a worker dying between BLPOP and its delivery) only delays
delivery until the periodic sweep, as a lost task message does.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from lti_tool.config import Settings
from lti_tool.lti.state import REDIS_TIMEOUT, redis_identity

#: Elements the list may hold. One is enough (see above); a bound keeps a list that no
#: worker reads from growing with every commit.
RING_LENGTH = 1


def uses_doorbell(settings: Settings) -> bool:
    """Whether delivery is woken through the doorbell (Redis state store) or by a task."""
    return settings.state_store_url.startswith(("redis://", "rediss://"))


def doorbell_key(settings: Settings) -> str:
    # Per task queue, like the Celery tasks: deployments (or test runs) sharing one Redis
    # never wake each other's workers.
    return f"cxa:doorbell:{settings.task_queue}"


class Doorbell:
    """One process's side of the doorbell: ring it (web) or wait on it (worker).

    ``wait_timeout`` is the longest a worker blocks in one wait; its socket allows that
    plus REDIS_TIMEOUT, so a silent Redis still ends a wait. The web side's ring is bounded
    by REDIS_TIMEOUT, like the state store.
    """

    def __init__(self, url: str, key: str, *, wait_timeout: float = 0.0) -> None:
        self.key = key
        self.wait_timeout = wait_timeout
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=wait_timeout + REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            # One retry on a broken pooled connection (Redis restarted), none on a timeout.
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            **redis_identity(),
        )

    @classmethod
    def for_settings(cls, settings: Settings, *, wait_timeout: float = 0.0) -> Doorbell:
        return cls(settings.state_store_url, doorbell_key(settings), wait_timeout=wait_timeout)

    def ring(self) -> None:
        """Say that rows are due. Raises redis.RedisError when Redis is unreachable."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.lpush(self.key, b"1")
        pipe.ltrim(self.key, 0, RING_LENGTH - 1)
        pipe.execute()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a ring (True) or ``timeout`` seconds without one (False)."""
        seconds = self.wait_timeout if timeout is None else min(timeout, self.wait_timeout)
        # BLPOP's timeout 0 means "forever"; a due follow-up is served by a short wait.
        return self._redis.blpop([self.key], max(seconds, 0.01)) is not None

    def silence(self) -> None:
        """Drop rings already waiting: the delivery about to start covers their commits."""
        self._redis.delete(self.key)

    def close(self) -> None:
        self._redis.close()
