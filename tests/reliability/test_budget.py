"""A flaky Slack delays the bot but never fails it, and replicas share one Slack budget.

Real ``crisisbot run`` processes (through the launcher) against the emulator over HTTP:
- 20 declarations while a quarter of Web API calls fail (429 with Retry-After, 500, a dropped
  connection): all complete, by the retries alone, within Slack's tier bound plus 30 s;
  nobody is told of a failure; nothing is made twice.
- 3 replicas on one PostgreSQL declaring 60 crises with Slack's limits on: not one 429.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.db.migrate import upgrade
from bot.db.models import Crisis
from bot.db.session import make_engine
from sandbox import Emulator, start_emulator
from sandbox.faults import DROP, TIER_LIMITS
from tests.postgres import fresh_database
from tests.reliability.support import BotProcess, base_env, bots, slash, start_bot

# Slack's minute, scaled (the bots pace themselves to the same window).
WINDOW = 6.0
# Tier 2: conversations.create, setTopic and pins.add, 20 a window each.
TIER_2 = TIER_LIMITS[2]


def names(prefix: str, count: int) -> list[str]:
    """Customer names without a trailing number (a ``-2`` channel would be a second one)."""
    return [f"{prefix} {chr(65 + n // 26)}{chr(97 + n % 26)}" for n in range(count)]


def tier_bound(count: int) -> float:
    """The earliest the last of ``count`` tier-2 calls of one method can go."""
    return (math.ceil(count / TIER_2) - 1) * WINDOW


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator(rate_limit_window=WINDOW) as emulator:
        emulator.set_rate_limits(True, window=WINDOW)
        yield emulator


def complete(engine: Engine) -> int:
    """Declarations finished: open, and the declarer told."""
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(Crisis)
                .where(Crisis.status == "open", Crisis.owner_told.is_(True))
            )
            or 0
        )


def declare_all(
    processes: list[BotProcess], emulator: Emulator, engine: Engine, customers: list[str]
) -> float:
    """Send every ``/crisis new`` at once (round robin over the bots); wait for all to be
    complete; the seconds from the first command to the last completion."""
    started = time.monotonic()
    # A few at a time: the bot acks at once and declares in the background, so the
    # declarations still overlap (the HTTP server's listen backlog is not under test here).
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(
            pool.map(
                lambda item: slash(
                    processes[item[0] % len(processes)],
                    emulator,
                    f"new {item[1]}: invoices missing sev1",
                    channel="C0GENERAL",
                ),
                enumerate(customers),
            )
        )
    assert statuses == [200] * len(customers)
    deadline = started + 300
    while complete(engine) < len(customers):
        assert time.monotonic() < deadline, f"{complete(engine)} of {len(customers)} complete"
        for process in processes:
            assert process.alive(), process.log()[-3000:]
        time.sleep(0.2)
    return time.monotonic() - started


def assert_nothing_twice(emulator: Emulator, engine: Engine, customers: list[str]) -> None:
    """One channel, card and pinned commitment per crisis; the declarer told once, plainly."""
    names = [c.name for c in emulator.workspace.channels.values() if c.name.startswith("crisis")]
    assert len(names) == len(customers) and not any(re.search(r"-\d+$", n) for n in names)
    with engine.connect() as connection:
        crises = connection.execute(select(Crisis.id, Crisis.channel_id)).all()
    assert len(crises) == len(customers)
    for crisis_id, channel in crises:
        keys = Counter(
            (m.metadata or {}).get("event_payload", {}).get("key") or m.text
            for m in emulator.messages(channel)
            if m.user == "U0BOT"
        )
        assert keys[f"crisis:{crisis_id}:card"] == 1 and keys[f"crisis:{crisis_id}:commitment"] == 1
        assert max(keys.values()) == 1, keys
        assert len(emulator.pins(channel)) == 1
    replies = [p.text for p in emulator.response_posts]
    told = [text for text in replies if "declared in <#" in text]
    assert len(told) == len(customers), replies
    assert not [text for text in replies if text.startswith((":warning:", ":hourglass:"))]


def test_twenty_declarations_under_a_quarter_of_faults_all_complete(
    emulator: Emulator, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    customers = names("Flaky", 20)
    env = base_env(emulator, database_url, TEST_RATE_WINDOW=str(WINDOW))
    with bots() as started:
        bot = start_bot("flaky", env, tmp_path)
        started.append(bot)
        bot.wait_healthy()
        emulator.clear_calls()
        # Short Retry-After (Slack's own 429s, when the window is full, say up to WINDOW).
        emulator.set_error_rate(0.25, seed=14, statuses=(429, 500, DROP), retry_after=1)
        engine = make_engine(database_url)
        try:
            elapsed = declare_all([bot], emulator, engine, customers)
            emulator.set_error_rate(0.0)
            calls = emulator.calls
            faults = Counter(c.status for c in calls if c.status >= 429 or c.status == DROP)
            bound = tier_bound(len(customers)) + 30
            print(
                f"\n{len(calls)} Web API calls, faults injected or rate limited: {dict(faults)};"
                f" all {len(customers)} complete in {elapsed:.1f} s (bound + 30 s = {bound:.0f} s)"
            )
            # Every kind of fault was met, and a good share of calls failed.
            assert faults[429] and faults[500] and faults[DROP]
            assert sum(faults.values()) >= len(calls) // 6
            assert elapsed / bound <= 1.0
            assert_nothing_twice(emulator, engine, customers)
        finally:
            engine.dispose()
        bot.stop()


@pytest.mark.postgres
def test_three_replicas_share_one_slack_budget(
    emulator: Emulator, postgres_admin_url: str, tmp_path: Path
) -> None:
    database_url = fresh_database(postgres_admin_url)
    upgrade(database_url)
    customers = names("Shared", 60)
    env = base_env(emulator, database_url, TEST_RATE_WINDOW=str(WINDOW))
    with bots() as started:
        for number in range(3):
            started.append(start_bot(f"replica{number}", env, tmp_path))
        for process in started:
            process.wait_healthy()
        emulator.clear_calls()
        engine = make_engine(database_url)
        try:
            elapsed = declare_all(started, emulator, engine, customers)
            calls = emulator.calls
            limited = [c.method for c in calls if c.status == 429]
            print(
                f"\n3 replicas: {len(customers)} declarations in {elapsed:.1f} s"
                f" (tier bound {tier_bound(len(customers)):.0f} s), {len(calls)} Web API calls,"
                f" 429s: {len(limited)}"
            )
            assert limited == []
            assert_nothing_twice(emulator, engine, customers)
        finally:
            engine.dispose()
        for process in started:
            process.stop()
