"""#2 Mass outage: many crises declared within one second, Slack's tiers enforced."""

from __future__ import annotations

import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bench.common import Child, Result, command_body, fmt_s, post_signed
from bot.db.session import make_engine
from sandbox import start_emulator
from sandbox.faults import TIER_LIMITS, TIERS

# The emulator's own tier table: what a declaration calls at Tier 2, and how many a minute.
TIER_2 = TIER_LIMITS[2]
TIER_2_METHODS = ("conversations.create", "conversations.setTopic", "pins.add")
assert all(TIERS[method] == 2 for method in TIER_2_METHODS)


def run(
    *,
    quick: bool,
    window: float = 6.0,
    worker_threads: int | None = None,
    database_url: str | None = None,
    replicas: int = 1,
) -> Result:
    """``worker_threads``: override the bot's default, for tuning runs. ``replicas`` bots
    on ``database_url`` (PostgreSQL: they share one Slack budget) take the commands in turn;
    without a URL, one bot on SQLite."""
    count = 40 if quick else 100
    where = "SQLite" if database_url is None else "PostgreSQL"
    bots = "bot in a child process" if replicas == 1 else f"{replicas} replicas, one database"
    result = Result(
        "2 mass outage" + ("" if replicas == 1 else f", {replicas} replicas ({where})"),
        f"{count} `/crisis new` within 1 s; emulator tiers on and the bot's RateLimiter, both "
        f"with the minute scaled to {window:g} s; Web API latency 100 ms; {bots} ({where})",
    )
    emulator = start_emulator(rate_limit_window=window)
    emulator.set_rate_limits(True, window=window)
    emulator.set_latency(0.1)
    if database_url is None:
        workdir = Path(tempfile.mkdtemp(prefix="crisisbot-bench-outage-"))
        database_url = f"sqlite:///{workdir / 'bot.db'}"
    serve = [
        "serve",
        "--database-url",
        database_url,
        "--api-url",
        emulator.api_url,
        "--window",
        str(window),
        "--scheduler",
        # None: the bot's default
        *(["--worker-threads", str(worker_threads)] if worker_threads else []),
    ]
    children: list[Child] = []
    bound = (math.ceil(count / TIER_2) - 1) * window
    try:
        # One at a time: the first migrates the database, the others find it current.
        ports = []
        for _ in range(replicas):
            children.append(Child(serve))
            ports.append(int(children[-1].read_json()["port"]))
        emulator.clear_calls()
        bodies = [
            command_body(
                emulator, f"new Customer {n:03d}: outage sev1", user="U0ANA", channel="C0GENERAL"
            )
            for n in range(count)
        ]
        pool = ThreadPoolExecutor(max_workers=count)
        first_sent = time.time()
        futures = []
        for n, body in enumerate(bodies):
            time.sleep(max(0.0, first_sent + n / count - time.time()))
            futures.append(pool.submit(post_signed, ports[n % replicas], body))
        acks = [future.result() for future in futures]
        deadline = time.time() + bound * 3 + 60
        while time.time() < deadline and _open_crises(database_url) < count:
            time.sleep(0.2)
        # The declarer's reply follows the last step; give the replies a moment.
        emulator.wait_for(lambda: len(emulator.response_posts) >= count, timeout=10)
    except TimeoutError:
        pass
    finally:
        for child in children:
            child.stop()
    calls = emulator.calls
    emulator.stop()

    done = _open_crises(database_url)
    ok_calls = [c for c in calls if c.ok]
    limited = [c for c in calls if c.status == 429]
    pins = [c for c in ok_calls if c.method == "pins.add"]
    creates = [c for c in ok_calls if c.method == "conversations.create"]
    last = max((c.at for c in ok_calls), default=math.nan)
    total = last - first_sent
    replies = emulator.response_posts
    failed_replies = [r for r in replies if ":warning:" in r.text]
    rate_limited_replies = [r for r in replies if "ratelimit" in r.text]
    result.add(
        "acks 200",
        f"{sum(1 for s, _ in acks if s == 200)}/{count}",
        f"{count}",
        all(s == 200 for s, _ in acks),
    )
    result.add(
        "slowest ack", fmt_s(max(s for _, s in acks)), "≤ 3 s", max(s for _, s in acks) <= 3.0
    )
    lost = count - done
    result.add(
        "crises complete / channels created / pins",
        f"{done} / {len(creates)} / {len(pins)}",
        f"{count} each, none lost or doubled",
        done == count and len(creates) == count and len(pins) == count,
    )
    result.add(
        "errors shown to users (429s among them)",
        f"{len(failed_replies)} ({len(rate_limited_replies)})",
        "0",
        not failed_replies,
    )
    if replicas == 1:
        result.add("429s absorbed by the client's retries", str(len(limited)))
    else:
        # Slack's limits are per app per workspace: the replicas share one budget.
        result.add("429s from Slack (all replicas)", str(len(limited)), "0", not limited)
    ratio = total / bound if bound else math.nan
    result.add(
        "total time / tier bound",
        f"{total:.1f} s / {bound:.1f} s = {ratio:.2f}",
        "≤ 1.10",
        lost == 0 and ratio <= 1.10,
    )
    per_declare = len(ok_calls) / count
    result.add(
        "Web API calls per declare (ok; with 429s)",
        f"{per_declare:.2f}; {len(calls) / count:.2f}",
        "≤ 7",
        per_declare <= 7,
    )
    first_pin = min((c.at for c in pins), default=math.nan) - first_sent
    result.add("time to first pinned commitment", fmt_s(first_pin))
    for method in TIER_2_METHODS:
        times = sorted(c.at for c in ok_calls if c.method == method)
        result.notes.append(
            f"{method}: {len(times)} ok calls, first at +{times[0] - first_sent:.1f} s, "
            f"last at +{times[-1] - first_sent:.1f} s"
            if times
            else f"{method}: no successful calls"
        )
    methods = sorted({c.method for c in calls})
    result.notes.append(
        "calls by method (ok/429/other): "
        + ", ".join(
            f"{m} {sum(1 for c in calls if c.method == m and c.ok)}"
            f"/{sum(1 for c in calls if c.method == m and c.status == 429)}"
            f"/{sum(1 for c in calls if c.method == m and not c.ok and c.status != 429)}"
            for m in methods
        )
    )
    result.notes.append(
        f"bound = (ceil({count}/{TIER_2}) - 1) x {window:g} s: the last of {count} tier-2 calls "
        "of one method cannot start earlier under a sliding window of 20 per minute"
    )
    if quick:
        result.notes.append(
            "--quick: with one refill the fixed tail (the last declarations' topic, invite, card, "
            "commitment and pin after their create) weighs far more; the target is for 100"
        )
    return result


# One connection, closed after each look, so the watcher holds none the bots may need.
POOL = {"pool_size": 1, "max_overflow": 0}


def _open_crises(database_url: str) -> int:
    """Declarations complete: open, and the owner told."""
    engine = make_engine(database_url, **({} if database_url.startswith("sqlite") else POOL))
    try:
        with engine.connect() as connection:
            found = connection.scalar(
                text("SELECT count(*) FROM crises WHERE status = 'open' AND owner_told")
            )
        return int(found or 0)
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()
