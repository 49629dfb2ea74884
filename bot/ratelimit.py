"""Pace Web API calls to Slack's published tiers, so a mass outage queues instead of failing."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Calls per window (a minute) for the methods we call; Slack's tiers from its documentation.
TIER_2, TIER_3, TIER_4 = 20, 50, 100
METHOD_LIMITS: dict[str, int] = {
    "conversations.create": TIER_2,
    "conversations.setTopic": TIER_2,
    "conversations.setPurpose": TIER_2,
    "pins.add": TIER_2,
    "conversations.invite": TIER_3,
    "conversations.open": TIER_3,
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "conversations.join": TIER_3,
    "chat.update": TIER_3,
    "users.info": TIER_4,
    "chat.postEphemeral": TIER_4,
    "views.open": TIER_4,
    "views.publish": TIER_4,
}
# chat.postMessage: about one message a second per channel.
POST_PER_CHANNEL = 1
POST_WINDOW = 1.0
# Our clock and Slack's never agree to the millisecond: leave a little room, or the call that
# opens the next window lands in the old one and costs a 429 and a whole Retry-After.
MARGIN = 0.02
MARGIN_FLOOR = 0.05


class RateLimiter:
    """A sliding window per method (and per channel for posts), as Slack counts them.

    ``acquire`` blocks until the call may go; the wait is what Slack would otherwise answer
    with a 429 and Retry-After.
    """

    def __init__(
        self,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}

    def _limit(self, method: str, channel: str | None) -> tuple[str, int, float] | None:
        if method == "chat.postMessage" and channel:
            # A window scaled like the others, so tests that shrink the minute shrink this too.
            return f"post:{channel}", POST_PER_CHANNEL, _padded(POST_WINDOW * self.window / 60.0)
        limit = METHOD_LIMITS.get(method)
        return (method, limit, _padded(self.window)) if limit else None

    def acquire(self, method: str, *, channel: str | None = None) -> float:
        """Wait for a slot for ``method``; returns the seconds waited."""
        rule = self._limit(method, channel)
        if rule is None:
            return 0.0
        key, limit, window = rule
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                calls = self._calls.setdefault(key, deque())
                while calls and calls[0] <= now - window:
                    calls.popleft()
                if len(calls) < limit:
                    calls.append(now)
                    return waited
                pause = calls[0] + window - now
            self._sleep(pause)
            waited += pause


def _padded(window: float) -> float:
    return window + max(window * MARGIN, min(MARGIN_FLOOR, window * 0.5))
