"""One Slack budget for all replicas: limiters in different processes (here, on different
engines) take their calls from the same windows in PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, insert, select

from bot.budget import SharedRateLimiter, budget_engine
from bot.db.migrate import upgrade
from bot.db.models import SlackBudget
from bot.db.session import make_engine

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)

# A 1 s "minute" (padded to 1.05 s): pins.add is Tier 2, 20 calls a window.
WINDOW = 1.0


def replicas(url: str, count: int, team: str = "T0CRISIS") -> list[SharedRateLimiter]:
    return [
        SharedRateLimiter(engine=budget_engine(url), team_id=lambda: team, window=WINDOW)
        for _ in range(count)
    ]


def take(limiter: SharedRateLimiter, calls: int, method: str = "pins.add") -> threading.Thread:
    thread = threading.Thread(target=lambda: [limiter.acquire(method) for _ in range(calls)])
    thread.start()
    return thread


def test_three_replicas_share_one_window(database_url: str) -> None:
    upgrade(database_url)
    started = time.monotonic()
    # 60 Tier-2 calls from three replicas: 20 a window between them, so the last 20 wait two
    # whole windows. Each pacing itself alone, all 60 would go in the first window.
    for thread in [take(limiter, 20) for limiter in replicas(database_url, 3)]:
        thread.join(timeout=30)
    elapsed = time.monotonic() - started
    assert elapsed >= 2 * WINDOW, elapsed
    engine = make_engine(database_url)
    with engine.connect() as connection:
        calls = connection.scalar(
            select(SlackBudget.calls).where(
                SlackBudget.team_id == "T0CRISIS", SlackBudget.bucket == "pins.add"
            )
        )
    engine.dispose()
    assert calls is not None and len(calls) <= 20
    # Never more than 20 calls counted within one window, by the database's clock.
    assert all(b - a >= WINDOW for a, b in zip(sorted(calls), sorted(calls)[20:], strict=False))


def test_workspaces_and_channels_have_their_own_windows(database_url: str) -> None:
    upgrade(database_url)
    (first,) = replicas(database_url, 1, team="T0FIRST")
    (second,) = replicas(database_url, 1, team="T0SECOND")
    for limiter in (first, second):
        for _ in range(20):
            limiter.acquire("pins.add")
    started = time.monotonic()
    # Another workspace's full window, and another channel's post, wait for nothing.
    first.acquire("chat.postMessage", channel="C1")
    first.acquire("chat.postMessage", channel="C2")
    assert time.monotonic() - started < WINDOW / 2
    # A second post to the same channel waits for that channel's second (scaled).
    second.acquire("chat.postMessage", channel="C1")
    (other,) = replicas(database_url, 1, team="T0SECOND")
    started = time.monotonic()
    other.acquire("chat.postMessage", channel="C1")
    assert time.monotonic() - started >= WINDOW / 60


def counted(database_url: str, bucket: str = "pins.add") -> list[float]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        calls = connection.scalar(
            select(SlackBudget.calls).where(
                SlackBudget.team_id == "T0CRISIS", SlackBudget.bucket == bucket
            )
        )
    engine.dispose()
    return list(calls or [])


def test_a_call_answered_late_counts_from_its_answer(database_url: str) -> None:
    """Slack counted the call somewhere between its sending and its answer: a late answer
    moves it (less the window's margin, which an answer-counted call does not need); a prompt
    one leaves it at its sending time, without a second transaction."""
    upgrade(database_url)
    frozen: list[float] = []  # this process's clock, stopped while the first call is out
    limiter = SharedRateLimiter(
        engine=budget_engine(database_url),
        team_id=lambda: "T0CRISIS",
        window=WINDOW,
        clock=lambda: frozen[0] if frozen else time.monotonic(),
    )
    frozen.append(time.monotonic())
    limiter.acquire("pins.add")
    (sent,) = counted(database_url)
    limiter.finished()  # answered at once: within the margin
    assert counted(database_url) == [sent]
    frozen.clear()

    limiter.acquire("pins.add")
    second = max(counted(database_url))
    time.sleep(0.3)  # its answer, 300 ms later (the window's margin is 50 ms)
    limiter.finished()
    calls = counted(database_url)
    assert sent in calls and second not in calls
    moved = max(calls)
    # From the answer: a second after it, and 5 ms, before the next call may go.
    assert second + 0.3 - 0.045 <= moved <= second + 0.3 + 1.0


def test_callers_of_one_process_take_their_slots_in_one_go(database_url: str) -> None:
    """Ten callers of one process waiting for a window another replica filled: when it
    frees, the one whose turn it is takes slots for all ten in one transaction, not ten
    transactions on a row every replica locks."""
    upgrade(database_url)
    engine = budget_engine(database_url)
    limiter = SharedRateLimiter(engine=engine, team_id=lambda: "T0CRISIS", window=WINDOW)
    started = time.monotonic()
    with engine.begin() as connection:  # another replica's 20 calls, all at once
        now = connection.scalar(select(func.extract("epoch", func.clock_timestamp())))
        connection.execute(
            insert(SlackBudget).values(
                team_id="T0CRISIS", bucket="pins.add", calls=[float(now)] * 20, last_call=now
            )
        )
    transactions: list[int] = []
    event.listen(engine, "begin", lambda _connection: transactions.append(1))
    threads = [take(limiter, 1) for _ in range(10)]
    for thread in threads:
        thread.join(timeout=10)
    assert time.monotonic() - started >= WINDOW  # they waited for the window to free
    # A look at the full window, a few more as it frees (the clocks may differ by a few
    # ms), and the take: fewer than one per caller.
    assert len(transactions) <= 5, len(transactions)
    calls = counted(database_url)
    assert len(calls) <= 20
    assert all(b - a >= WINDOW for a, b in zip(sorted(calls), sorted(calls)[20:], strict=False))
