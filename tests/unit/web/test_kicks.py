"""Coalesced worker kicks: few messages per process, yet a kick always follows each commit."""

from __future__ import annotations

import threading
import time

from lti_tool.web.kicks import CoalescedKick


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_request_in_a_quiet_interval_kicks_at_once() -> None:
    sent: list[float] = []
    clock = _Clock()
    kick = CoalescedKick(lambda: sent.append(clock.now), interval=1.0, clock=clock)
    kick.request()
    assert sent == [100.0]
    clock.now = 101.5  # the interval has passed: again at once
    kick.request()
    assert sent == [100.0, 101.5]


def test_requests_within_the_interval_share_one_trailing_kick() -> None:
    sent: list[str] = []
    kick = CoalescedKick(lambda: sent.append("kick"), interval=60.0)
    for _ in range(50):
        kick.request()
    assert sent == ["kick"]  # the leading one; 49 more are waiting on one trailing kick
    kick.flush()
    assert sent == ["kick", "kick"]
    kick.flush()  # nothing left to send
    assert sent == ["kick", "kick"]


def test_every_request_is_followed_by_a_kick_under_concurrency() -> None:
    # The delivery guarantee: whatever interleaving, a kick is sent after the last request,
    # so a row committed just after a running task looked is still picked up.
    last_request = 0.0
    sends: list[float] = []
    lock = threading.Lock()

    def send() -> None:
        with lock:
            sends.append(time.monotonic())

    kick = CoalescedKick(send, interval=0.02)

    def commit_many() -> None:
        nonlocal last_request
        for _ in range(200):
            now = time.monotonic()
            with lock:
                last_request = max(last_request, now)
            kick.request()

    threads = [threading.Thread(target=commit_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (not sends or sends[-1] < last_request):
        time.sleep(0.01)
    assert sends[-1] >= last_request
    assert len(sends) < 1600 / 4  # coalesced: far fewer messages than requests
