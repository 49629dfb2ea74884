"""#2 Mass outage: many crises declared within one second, Slack's tiers enforced."""

from __future__ import annotations

import math
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import Child, Result, command_body, fmt_s, post_signed
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
) -> Result:
    """``worker_threads``: override the bot's default, for tuning runs."""
    count = 40 if quick else 100
    result = Result(
        "2 mass outage",
        f"{count} `/crisis new` within 1 s; emulator tiers on and the bot's RateLimiter, both "
        f"with the minute scaled to {window:g} s; Web API latency 100 ms; bot in a child process",
    )
    emulator = start_emulator(rate_limit_window=window)
    emulator.set_rate_limits(True, window=window)
    emulator.set_latency(0.1)
    workdir = Path(tempfile.mkdtemp(prefix="crisisbot-bench-outage-"))
    db = workdir / "bot.db"
    bot = Child(
        [
            "serve",
            "--database-url",
            f"sqlite:///{db}",
            "--api-url",
            emulator.api_url,
            "--window",
            str(window),
            "--scheduler",
            # None: the bot's default
            *(["--worker-threads", str(worker_threads)] if worker_threads else []),
        ]
    )
    bound = (math.ceil(count / TIER_2) - 1) * window
    try:
        port = int(bot.read_json()["port"])
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
            futures.append(pool.submit(post_signed, port, body))
        acks = [future.result() for future in futures]
        deadline = time.time() + bound * 3 + 60
        while time.time() < deadline and _open_crises(db) < count:
            time.sleep(0.2)
        # The declarer's reply follows the last step; give the replies a moment.
        emulator.wait_for(lambda: len(emulator.response_posts) >= count, timeout=10)
    except TimeoutError:
        pass
    finally:
        bot.stop()
    calls = emulator.calls
    emulator.stop()

    done = _open_crises(db)
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
    result.add("429s absorbed by the client's retries", str(len(limited)))
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


def _open_crises(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            row = connection.execute(
                "SELECT count(*) FROM crises WHERE status = 'open' AND owner_told"
            ).fetchone()
        return int(row[0])
    except sqlite3.Error:
        return 0
