"""One Slack rate budget for every replica: Slack's windows kept in PostgreSQL.

Slack counts its limits per app per workspace, so replicas that each paced themselves would
together send a multiple of what Slack allows. Here every call also takes its place in a
window kept in the ``slack_budget`` table (one row per workspace and window: a method's tier,
or posts to one channel): one short transaction locks the call's rows ``FOR UPDATE`` (in key
order, so two callers never deadlock), drops the calls older than the window, and either
counts this call (every window has room; and with it, as many as there is room for of this
process's callers waiting for the same windows) or learns when the oldest call ages out, and
sleeps until then. Times are the database's clock, so replicas on different hosts agree.

A call is counted from when it is sent until it has its answer, and then moved to the time of
the answer: Slack counted it somewhere in between, and only the answer's time is sure not to be
earlier. (Counting the sending time alone, a call that took longer to reach Slack than the
next one would still be in Slack's window when ours had let it out: a 429, and with its
retry a slot out of step for every window after.) Counted from its answer, a call needs no
margin for the clocks, only Slack's window and a few ms: so a call answered within the
window's margin (beyond the round trip its method usually takes) is left at its sending
time, and costs no second transaction; one answered later is moved to the answer's time less
the usual round trip and the margin (``bot.ratelimit`` counts the same way).

The in-process ``RateLimiter`` still runs first: it keeps this process's callers first come,
first served (nags in due order) and spares the database calls that would wait anyway.
SQLite means one process, and uses the in-process limiter alone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from bot.db.models import SlackBudget
from bot.ratelimit import ANSWER_MARGIN, RateLimiter

# The budget's own few connections, apart from the services' pool: a call that waits for a
# slot never waits for a connection a sender holds (three replicas stay under PostgreSQL's
# default 100 connections with the services' 30 each).
POOL_SIZE = 3
# Every so many calls, forget the windows of channels nobody posted to for a while.
FORGET_EVERY = 1000
# A waiter that finds the window full looks again at least this often: another replica's
# call may free nothing, but the clocks of two hosts may disagree by a little.
MAX_PAUSE = 5.0


# The database's clock in seconds: the one clock every replica reads.
_NOW = func.extract("epoch", func.clock_timestamp())


@dataclass(frozen=True)
class Taken:
    """A call counted in the shared windows: where, and at what (database) time; ``asked`` is
    this process's clock before it asked (no later than ``at``, on the database's clock)."""

    team: str
    keys: list[str]
    at: float
    # How many calls were counted at ``at`` in one go (for callers waiting in this process).
    count: int
    asked: float
    # Per window: how long after the call's time its answer may come and change nothing.
    slack: dict[str, float]
    # Until when (this process's clock) a slot taken for another caller may still be used.
    fresh_until: float


class _Line:
    """This process's callers waiting for the same shared windows: the one whose turn it is
    to ask the database (``turn``), and the slots it took for the others."""

    def __init__(self) -> None:
        self.turn = threading.Lock()
        self.guard = threading.Lock()
        self.waiting = 0
        self.granted: deque[Taken] = deque()

    def pop(self, now: float) -> Taken | None:
        """A slot taken for a caller of this process, if one is still fresh (one left by a
        caller that gave up would by now be late on the database's count)."""
        with self.guard:
            while self.granted:
                taken = self.granted.popleft()
                if now <= taken.fresh_until:
                    return taken
            return None

    def wanted(self) -> int:
        """Callers waiting with no slot taken for them yet."""
        with self.guard:
            return max(self.waiting - len(self.granted), 1)

    def grant(self, taken: Taken) -> Taken:
        """``taken.count`` slots taken: one for the caller, the rest for those waiting."""
        with self.guard:
            self.granted.extend([taken] * (taken.count - 1))
        return taken


class SharedRateLimiter(RateLimiter):
    """``RateLimiter`` whose windows are shared through PostgreSQL by every replica."""

    def __init__(
        self,
        *,
        engine: Engine,
        team_id: Callable[[], str],
        window: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(window=window, clock=clock, sleep=sleep)
        self._engine = engine
        self._team_id = team_id
        self._taken = 0
        # This thread's call in flight: its workspace, windows and the time it was counted at.
        self._in_flight = threading.local()
        self._lines: dict[str, _Line] = {}
        self._lines_lock = threading.Lock()

    def acquire(self, method: str, *, channel: str | None = None) -> float:
        """Wait for this process's turn, then for a slot in the shared windows."""
        waited = super().acquire(method, channel=channel)
        rules = self._rules(method, channel)
        if not rules:
            return waited
        team = self._team_id()
        windows = {rule.key: (rule.limit, rule.length) for rule in rules}
        # A call answered within its window's margin (less the few ms an answer-counted call
        # keeps) counts from when it went, as if answered then; later, from its answer.
        slack = {rule.key: rule.length - rule.exact - ANSWER_MARGIN for rule in rules}
        # One caller of this process at a time asks the database for the same windows, and
        # takes slots for every caller of this process then waiting for them (one transaction
        # on rows every replica locks, not one each); the others wait here, instead of all
        # polling the same row each time a slot frees. (Posts to different channels do not
        # wait for each other's channel.)
        line = self._line("|".join(sorted(windows)))
        with line.guard:
            line.waiting += 1
        try:
            while True:
                grant = line.pop(self._clock())
                if grant is None:
                    with line.turn:
                        grant = line.pop(self._clock())
                        if grant is None:
                            asked = self._clock()
                            taken = self._take(team, windows, line.wanted())
                            if isinstance(taken, float):
                                pause = min(max(taken, 0.001), MAX_PAUSE)
                                self._sleep(pause)
                                waited += pause
                                continue
                            fresh = asked + min(length for _, length in windows.values()) / 2
                            grant = line.grant(Taken(team, *taken, asked, slack, fresh))
                self._in_flight.call = grant
                self._sending()
                break
        finally:
            with line.guard:
                line.waiting -= 1
        self._taken += 1
        if self._taken % FORGET_EVERY == 0:
            self._forget(team)
        return waited

    def _line(self, key: str) -> _Line:
        with self._lines_lock:
            return self._lines.setdefault(key, _Line())

    def finished(self) -> None:
        """Move this thread's call in flight to when it had its answer, where that is later
        than its window's margin allows for: Slack counted it somewhere in between."""
        usual = self._answered()
        taken: Taken | None = getattr(self._in_flight, "call", None)
        if taken is None:
            return
        self._in_flight.call = None
        # The answer's time on the database's clock, at the latest (``asked`` came no later
        # than ``at``), less the usual round trip; within the margin, nothing to move, and
        # no transaction.
        answered = taken.at + self._clock() - taken.asked - usual
        keys = [key for key in taken.keys if answered - taken.slack[key] > taken.at]
        if not keys:
            return
        with self._engine.begin() as connection:
            rows, now = self._locked(connection, taken.team, keys)
            for key, calls in rows:
                # Counted from ``moved`` with the padded window: Slack's window from the
                # answer, and a few ms.
                moved = list(calls)
                at = max(taken.at, now - usual - taken.slack[key])
                if taken.at in moved:
                    moved[moved.index(taken.at)] = at
                else:
                    # In flight longer than a window (retried): dropped as old, yet Slack
                    # counted its last try just now.
                    moved.append(at)
                connection.execute(
                    update(SlackBudget)
                    .where(SlackBudget.team_id == taken.team, SlackBudget.bucket == key)
                    .values(calls=moved, last_call=now)
                )

    def _take(
        self, team: str, windows: dict[str, tuple[int, float]], wanted: int
    ) -> tuple[list[str], float, int] | float:
        """Count up to ``wanted`` calls in every window (their keys, database time and how
        many), or how long until they all have room for one."""
        keys = sorted(windows)
        with self._engine.begin() as connection:
            rows, now = self._locked(connection, team, keys)
            if len(rows) < len(keys):
                connection.execute(
                    insert(SlackBudget)
                    .values(
                        [
                            {"team_id": team, "bucket": k, "calls": [], "last_call": 0.0}
                            for k in keys
                        ]
                    )
                    .on_conflict_do_nothing()
                )
                rows, now = self._locked(connection, team, keys)
            kept: dict[str, list[float]] = {}
            pause = 0.0
            room = max(wanted, 1)
            for key, calls in rows:
                limit, length = windows[key]
                recent = sorted(t for t in calls if t > now - length)
                if len(recent) >= limit:
                    # The call that must age out before there is room for one more.
                    pause = max(pause, recent[len(recent) - limit] + length - now)
                room = min(room, limit - len(recent))
                kept[key] = recent
            if pause > 0:
                return pause
            for key, recent in kept.items():
                connection.execute(
                    update(SlackBudget)
                    .where(SlackBudget.team_id == team, SlackBudget.bucket == key)
                    .values(calls=[*recent, *[now] * room], last_call=now)
                )
        return keys, now, room

    @staticmethod
    def _locked(
        connection: Connection, team: str, keys: list[str]
    ) -> tuple[list[tuple[str, list[float]]], float]:
        """The windows' rows, locked in key order, and the database's clock, in one query."""
        result = connection.execute(
            select(SlackBudget.bucket, SlackBudget.calls, _NOW)
            .where(SlackBudget.team_id == team, SlackBudget.bucket.in_(keys))
            .order_by(SlackBudget.bucket)
            .with_for_update(of=SlackBudget)
        ).all()
        if not result:
            return [], _database_now(connection)
        rows = [(str(bucket), list(calls or [])) for bucket, calls, _ in result]
        return rows, float(result[0][2])

    def _forget(self, team: str) -> None:
        """Drop the windows of channels not posted to within the last ten windows."""
        with self._engine.begin() as connection:
            now = _database_now(connection)
            connection.execute(
                delete(SlackBudget).where(
                    SlackBudget.team_id == team,
                    SlackBudget.bucket.like("post:%"),
                    SlackBudget.last_call < now - 10 * self.window,
                )
            )


def _database_now(connection: Connection) -> float:
    return float(connection.scalar(select(_NOW)) or 0.0)


def budget_engine(url: str) -> Engine:
    """The budget's own small pool (see ``POOL_SIZE``)."""
    from bot.db.session import make_engine

    return make_engine(url, pool_size=POOL_SIZE, max_overflow=0, pool_timeout=60)
