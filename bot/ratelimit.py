"""Pace Web API calls to Slack's published tiers, so a mass outage queues instead of failing."""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

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
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
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
# A call counted from its answer needs no room for the clocks (Slack had it before we had the
# answer): only a few milliseconds for the timers.
ANSWER_MARGIN = 0.005
# How many of a method's latest round trips the usual one (their shortest) is taken from.
TRIPS = 32
# A call whose answer is never reported (``finished``) stops counting so long after its window.
UNANSWERED = 30.0


# Slack counts its limits per minute.
WINDOW = 60.0


# How often a caller checks again when its turn depends on callers ahead of it that are
# themselves still waiting on another window.
POLL = 0.01


class Rule(NamedTuple):
    """A window a call counts in: its key, calls allowed, length with our margin, and Slack's."""

    key: str
    limit: int
    length: float
    exact: float


@dataclass(eq=False)
class _Slot:
    """One call counted in a window: when it was let go, and until when it counts (while it
    waits for its answer, at the latest; once answered, for good)."""

    sent: float
    ends: float
    answered: bool = False


@dataclass
class _Window:
    """One sliding window: the calls it has counted, and who waits for it, in arrival order."""

    limit: int
    length: float
    # Slack's own length, without our margin (a call counted from its answer needs none).
    exact: float = 0.0
    slots: list[_Slot] = field(default_factory=list)
    # Tickets waiting, lowest (earliest) first.
    queue: list[int] = field(default_factory=list)
    # Callers through this window, still waiting on a broader one: their call is coming.
    held: int = 0


class RateLimiter:
    """A sliding window per method (and per channel for posts), as Slack counts them.

    ``acquire`` blocks until the call may go; the wait is what Slack would otherwise answer
    with a 429 and Retry-After. Waiters are served first come, first served: each sleeps until
    the slot that is its turn frees up, so when a window refills the calls that waited longest
    go first, and nobody waits a second minute while later arrivals take the slots.
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
        self._windows: dict[str, _Window] = {}
        self._tickets = itertools.count()
        self._place = threading.local()
        # The latest round trips of each method, from letting a call go to its answer.
        self._trips: dict[str, deque[float]] = {}

    def _rules(self, method: str, channel: str | None) -> list[Rule]:
        """The windows a call counts in, narrowest first."""
        if method == "chat.postMessage":
            rules = []
            if channel:
                # A window scaled like the others, so tests that shrink the minute shrink this.
                per_channel = POST_WINDOW * self.window / 60.0
                rules.append(
                    Rule(f"post:{channel}", POST_PER_CHANNEL, _padded(per_channel), per_channel)
                )
            rules.append(Rule("post", POST_PER_WORKSPACE, _padded(self.window), self.window))
            return rules
        limit = METHOD_LIMITS.get(method)
        return [Rule(method, limit, _padded(self.window), self.window)] if limit else []

    def _window(self, rule: Rule) -> _Window:
        """``rule``'s window (the lock held)."""
        window = self._windows.get(rule.key)
        if window is None:
            window = self._windows[rule.key] = _Window(rule.limit, rule.length, rule.exact)
        return window

    @contextmanager
    def in_line(self, method: str) -> Iterator[None]:
        """Take this thread's place in line for ``method`` now, before the work that leads to
        the call: when the window has room for only some, work started earlier goes first,
        even if a later start reached Slack sooner (a nag due at 09:00:00.1 must not lose
        the minute's last slot to one due at 09:00:00.3 whose database work was quicker)."""
        rules = self._rules(method, None)
        if not rules:
            yield
            return
        with self._lock:
            ticket = next(self._tickets)
            window = self._window(rules[-1])
            bisect.insort(window.queue, ticket)
        self._place.ticket = ticket
        try:
            yield
        finally:
            self._place.ticket = None
            with self._lock:
                if ticket in window.queue:
                    window.queue.remove(ticket)

    def acquire(self, method: str, *, channel: str | None = None) -> float:
        """Wait for a slot for ``method`` (in every window it counts in); returns the wait.

        The narrow window (the channel) first, then the broad one (the workspace), so a call
        held back by its own channel never holds up the others' turn in the workspace.

        The call counts until ``finished`` says it has had its answer, and from then on as if
        Slack had counted it at the answer's time less the method's usual round trip: Slack
        counts a call when it arrives, somewhere between our letting it go and its answer,
        and on a loaded machine a call may take longer on its way than the next one to the
        same channel (see ``_answered``). A thread that asks for its next slot has had the
        answer to its last call: that finishes it too.
        """
        RateLimiter._answered(self)
        rules = self._rules(method, channel)
        if not rules:
            return 0.0
        started = self._clock()
        ticket = getattr(self._place, "ticket", None)
        if ticket is None:
            with self._lock:
                ticket = next(self._tickets)
        passed: list[_Window] = []
        try:
            for rule in rules:
                passed.append(self._wait_turn(rule, ticket))
        finally:
            with self._lock:
                now = self._clock()
                flying: list[tuple[_Window, _Slot]] = []
                for window in passed:
                    window.held -= 1
                    if len(passed) == len(rules):
                        slot = _Slot(now, now + window.length + max(window.exact, UNANSWERED))
                        window.slots.append(slot)
                        flying.append((window, slot))
                self._place.flying = flying
                self._place.call = (method, now) if flying else None
        return self._clock() - started

    def finished(self) -> None:
        """The call this thread last acquired a slot for has had its answer."""
        self._answered()

    def _answered(self) -> float:
        """Count this thread's call in flight from its answer, less the round trip its method
        usually takes (the shortest of its latest ones; never less than the window from when
        it was let go); returns that usual round trip.

        Slack counted the call somewhere between its sending and its answer. A call that
        took as long as usual counts from when it went, as it always has; one that took
        longer (a loaded machine held it up on its way) counts from as much later, so the
        next call to its channel cannot reach Slack within the window of it.
        """
        flying: list[tuple[_Window, _Slot]] = getattr(self._place, "flying", None) or []
        method, sent = getattr(self._place, "call", None) or ("", 0.0)
        if not flying and not method:
            return 0.0
        self._place.flying = []
        self._place.call = None
        with self._lock:
            now = self._clock()
            trips = self._trips.get(method)
            if trips is None:
                trips = self._trips[method] = deque(maxlen=TRIPS)
            # Before any answer, none is usual: the first call counts from its answer.
            usual = min(trips, default=0.0)
            trips.append(now - sent)
            for window, slot in flying:
                margin = min(ANSWER_MARGIN, window.length - window.exact)
                slot.ends = max(slot.sent + window.length, now - usual + window.exact + margin)
                slot.answered = True
        return usual

    def _sending(self) -> None:
        """This thread's call goes now (after waits of a subclass's own): its round trip
        starts here."""
        call = getattr(self._place, "call", None)
        if call is not None:
            self._place.call = (call[0], self._clock())

    def _wait_turn(self, rule: Rule, ticket: int) -> _Window:
        with self._lock:
            window = self._window(rule)
            if ticket not in window.queue:  # not already in line (``in_line``)
                bisect.insort(window.queue, ticket)
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    if any(slot.ends <= now for slot in window.slots):
                        window.slots = [slot for slot in window.slots if slot.ends > now]
                    ahead = window.queue.index(ticket)
                    # Which counted call must age out before there is a slot for us as well as
                    # for everyone ahead of us: none (go now), a known one, or one not yet made
                    # or not yet answered.
                    must_age = len(window.slots) + window.held + ahead - window.limit
                    if must_age < 0:
                        window.queue.remove(ticket)
                        window.held += 1
                        return window
                    pause = POLL
                    if must_age < len(window.slots):
                        slot = sorted(window.slots, key=_ends)[must_age]
                        pause = slot.ends - now if slot.answered else min(POLL, slot.ends - now)
                self._sleep(max(pause, 0.0))
        except BaseException:
            with self._lock:
                if ticket in window.queue:
                    window.queue.remove(ticket)
            raise


def _ends(slot: _Slot) -> float:
    return slot.ends


def _padded(window: float) -> float:
    return window + max(window * MARGIN, min(MARGIN_FLOOR, window * 0.5))
