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
# chat.postMessage: about one message a second per channel, and several hundred a minute
# across the workspace.
POST_PER_CHANNEL = 1
POST_WINDOW = 1.0
POST_PER_WORKSPACE = 300
# Our clock and Slack's never agree to the millisecond: leave a little room, or the call that
# opens the next window lands in the old one and costs a 429 and a whole Retry-After.
MARGIN = 0.02
MARGIN_FLOOR = 0.05


# Slack counts its limits per minute.
WINDOW = 60.0


class RateLimiter:
    """A sliding window per method (and per channel for posts), as Slack counts them.

    ``acquire`` blocks until the call may go; the wait is what Slack would otherwise answer
    with a 429 and Retry-After.
    """

    def __init__(
        self,
        *,
        window: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.window = WINDOW if window is None else window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}

    def _rules(self, method: str, channel: str | None) -> list[tuple[str, int, float]]:
        if method == "chat.postMessage":
            # A window scaled like the others, so tests that shrink the minute shrink this too.
            rules = [("post", POST_PER_WORKSPACE, _padded(self.window))]
            if channel:
                per_channel = _padded(POST_WINDOW * self.window / 60.0)
                rules.append((f"post:{channel}", POST_PER_CHANNEL, per_channel))
            return rules
        limit = METHOD_LIMITS.get(method)
        return [(method, limit, _padded(self.window))] if limit else []

    def acquire(self, method: str, *, channel: str | None = None) -> float:
        """Wait for a slot for ``method`` (in every window it counts in); returns the wait."""
        rules = self._rules(method, channel)
        if not rules:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                pause = 0.0
                for key, limit, window in rules:
                    calls = self._calls.setdefault(key, deque())
                    while calls and calls[0] <= now - window:
                        calls.popleft()
                    if len(calls) >= limit:
                        pause = max(pause, calls[0] + window - now)
                if pause <= 0:
                    for key, _, _ in rules:
                        self._calls[key].append(now)
                    return waited
            self._sleep(pause)
            waited += pause


def _padded(window: float) -> float:
    return window + max(window * MARGIN, min(MARGIN_FLOOR, window * 0.5))
