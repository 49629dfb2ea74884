"""Rate limits (Slack's tiers, sliding window) and injected failures, all off by default."""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field

from sandbox.workspace import JSON

# Calls per window (a minute in Slack) for each tier.
TIER_LIMITS = {1: 1, 2: 20, 3: 50, 4: 100}

TIERS: dict[str, int] = {
    "auth.test": 4,
    "conversations.archive": 2,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "conversations.setPurpose": 2,
    "conversations.setTopic": 2,
    "chat.delete": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "pins.add": 2,
    "pins.list": 2,
    "pins.remove": 2,
    "reactions.add": 3,
    "reactions.get": 3,
    "reactions.remove": 2,
    "team.info": 3,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
    "views.push": 4,
    "views.update": 4,
}
DEFAULT_TIER = 3
# chat.postMessage: about one message per second per channel, several hundred per minute overall.
POST_PER_CHANNEL = 1
POST_PER_WORKSPACE = 300


class RateLimiter:
    """Sliding-window counters per method (and per channel for chat.postMessage)."""

    def __init__(self, window: float = 60.0) -> None:
        self.enabled = False
        self.window = window
        self._hits: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget all past calls."""
        with self._lock:
            self._hits.clear()

    def _buckets(self, method: str, args: JSON) -> list[tuple[tuple[str, ...], int, float]]:
        if method == "chat.postMessage":
            per_second = self.window / 60.0
            channel = str(args.get("channel", ""))
            return [
                ((method, channel), POST_PER_CHANNEL, per_second),
                ((method,), POST_PER_WORKSPACE, self.window),
            ]
        limit = TIER_LIMITS[TIERS.get(method, DEFAULT_TIER)]
        return [((method,), limit, self.window)]

    def check(self, method: str, args: JSON, now: float) -> int | None:
        """Count the call and return None, or return Retry-After seconds when over a limit."""
        if not self.enabled:
            return None
        with self._lock:
            waits: list[float] = []
            buckets = self._buckets(method, args)
            for key, limit, window in buckets:
                hits = self._hits.setdefault(key, deque())
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if len(hits) >= limit:
                    waits.append(hits[0] + window - now)
            if waits:
                # Slack sends whole seconds; round up so a client that waits is let through.
                return max(1, math.ceil(max(waits)))
            for key, _, _ in buckets:
                self._hits[key].append(now)
            return None


# A "status" that is no answer at all: the connection is closed before a response is sent.
DROP = 0
# Statuses random faults are drawn from, and the error code Slack gives with each.
FAULT_ERRORS = {
    429: "ratelimited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    DROP: "connection_dropped",
}


@dataclass
class Failure:
    """One failure: a Slack error code with HTTP 200, an HTTP 5xx, a 429 with
    ``Retry-After`` (``retry_after`` seconds), or ``DROP`` (the connection closed unanswered).

    With `apply` the method runs (state changes) before the failure is answered.
    """

    error: str
    status: int = 200
    apply: bool = False
    retry_after: int = 1


@dataclass
class Faults:
    """Latency, random faults (5xx, 429, dropped connections) and scripted failures."""

    latency: float = 0.0
    error_rate: float = 0.0
    statuses: tuple[int, ...] = (500, 503)
    apply_before_failing: bool = False
    # The Retry-After of a random 429 (Slack's limits, when on, compute their own).
    retry_after: int = 1
    rng: random.Random = field(default_factory=random.Random)
    scripted: dict[str, deque[Failure]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_failure(self, method: str) -> Failure | None:
        """Return the failure to answer this call with, if any (scripted first, then random)."""
        with self.lock:
            queue = self.scripted.get(method)
            if queue:
                return queue.popleft()
            if self.error_rate > 0 and self.rng.random() < self.error_rate:
                status = self.rng.choice(self.statuses)
                error = FAULT_ERRORS.get(status, "service_unavailable")
                # A 429 is Slack declining before doing anything; the rest may come after.
                apply = self.apply_before_failing and status != 429
                return Failure(error, status, apply, self.retry_after)
        return None

    def script(self, method: str, failure: Failure, times: int) -> None:
        """Queue `failure` for the next `times` calls of `method`."""
        with self.lock:
            self.scripted.setdefault(method, deque()).extend([failure] * times)
