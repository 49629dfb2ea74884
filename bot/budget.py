"""One Slack rate budget for every replica: Slack's windows kept in PostgreSQL.

Slack counts its limits per app per workspace, so replicas that each paced themselves would
together send a multiple of what Slack allows. Here every call also takes its place in a
window kept in the ``slack_budget`` table (one row per workspace and window: a method's tier,
or posts to one channel): one short transaction locks the call's rows ``FOR UPDATE`` (in key
order, so two callers never deadlock), drops the calls older than the window, and either
counts this call (every window has room) or learns when the oldest call ages out, and sleeps
until then. Times are the database's clock, so replicas on different hosts agree.

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
    asked: float
    # Per window: how long after the call's time its answer may come and change nothing.
    slack: dict[str, float]


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
        self._turns: dict[str, threading.Lock] = {}
        self._turns_lock = threading.Lock()

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
        # One caller of this process at a time asks the database for the same windows; the
        # others wait here, in the order the in-process limiter let them through, instead of
        # all polling the same row each time a slot frees. (Posts to different channels do
        # not wait for each other's channel.)
        with self._turn("|".join(sorted(windows))):
            while True:
                asked = self._clock()
                taken = self._take(team, windows)
                if not isinstance(taken, float):
                    self._in_flight.call = Taken(team, taken[0], taken[1], asked, slack)
                    self._sending()
                    break
                pause = min(max(taken, 0.001), MAX_PAUSE)
                self._sleep(pause)
                waited += pause
        self._taken += 1
        if self._taken % FORGET_EVERY == 0:
            self._forget(team)
        return waited

    def _turn(self, key: str) -> threading.Lock:
        with self._turns_lock:
            return self._turns.setdefault(key, threading.Lock())

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
        self, team: str, windows: dict[str, tuple[int, float]]
    ) -> tuple[list[str], float] | float:
        """Count one call in every window (its keys and database time), or how long until
        they all have room."""
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
            for key, calls in rows:
                limit, length = windows[key]
                recent = sorted(t for t in calls if t > now - length)
                if len(recent) >= limit:
                    # The call that must age out before there is room for one more.
                    pause = max(pause, recent[len(recent) - limit] + length - now)
                kept[key] = recent
            if pause > 0:
                return pause
            for key, recent in kept.items():
                connection.execute(
                    update(SlackBudget)
                    .where(SlackBudget.team_id == team, SlackBudget.bucket == key)
                    .values(calls=[*recent, now], last_call=now)
                )
        return keys, now

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
