"""#3 Scheduler at scale and #4 Restart: many open crises, seeded straight into SQLite and
PostgreSQL, swept by the real APScheduler scheduler in a child process."""

from __future__ import annotations

import math
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import Child, Result, add_users, fmt_s, percentile
from bot.db.migrate import upgrade
from bot.db.models import Crisis
from bot.db.session import make_engine, make_session_factory
from bot.enums import CrisisKind, CrisisStatus, Severity
from sandbox import Emulator, start_emulator
from sandbox.faults import POST_PER_WORKSPACE  # as the emulator counts them

T0 = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)  # the sweep child's clock starts here
LEAD_IN = 1.0  # the due second starts this long after the scheduler starts
LEAD = timedelta(minutes=10)  # the default CRISISBOT_REMINDER_LEAD


def seed(url: str, *, open_count: int, due_count: int, owners: list[str]) -> dict[int, float]:
    """Insert ``open_count`` open crises, ``due_count`` of them with a heads-up due within the
    same second; returns {crisis id: seconds after T0 it falls due} for the due ones."""
    upgrade(url)
    engine = make_engine(url)
    step = open_count // due_count
    due: dict[int, float] = {}
    rows: list[dict[str, Any]] = []
    for n in range(open_count):
        crisis_id = n + 1
        if n % step == 0 and len(due) < due_count:
            offset = LEAD_IN + len(due) / due_count
            due[crisis_id] = offset
            owner = owners[len(due) - 1]
            check = T0 + timedelta(seconds=offset)
            update_due = check + LEAD
        else:
            owner = "U0ANA"
            update_due = T0 + timedelta(hours=2, seconds=n)
            check = update_due - LEAD
        rows.append(
            {
                "id": crisis_id,
                "customer": f"Customer {n}",
                "kind": CrisisKind.SERVICE_OUTAGE,
                "severity": Severity.SEV2,
                "status": CrisisStatus.OPEN,
                "declared_by": owner,
                "owner_id": owner,
                "responders": [],
                "cadence_seconds": 3600,
                "channel_id": f"CB{n:08d}",
                "channel_name": f"crisis-20300102-customer-{n}",
                "card_ts": f"1893574800.{n:06d}",
                "commitment_ts": f"1893574801.{n:06d}",
                "commitment_pinned": True,
                "owner_told": True,
                "declared_at": T0 - timedelta(hours=1),
                "committed_at": T0 - timedelta(hours=1),
                "next_update_due_at": update_due,
                "next_check_at": check,
            }
        )
    with make_session_factory(engine)() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(Crisis), rows[start : start + 2000])
        session.commit()
    engine.dispose()
    return due


def forced_times(
    due_walls: list[float], *, window: float, latency: float, posts_each: int = 1
) -> list[float]:
    """The earliest each reminder (in due order) can have all its ``posts_each`` posts landed
    under the workspace-wide chat.postMessage limit."""
    slots: list[float] = []
    forced: list[float] = []
    for due in due_walls:
        for _ in range(posts_each):
            earliest = due
            if len(slots) >= POST_PER_WORKSPACE:
                earliest = max(earliest, slots[-POST_PER_WORKSPACE] + window)
            slots.append(earliest)
        forced.append(slots[-1] + latency)
    return forced


def run_backend(
    name: str,
    url: str,
    *,
    quick: bool,
    window: float,
    latency: float,
    tick: float,
    scheduler: Result,
    restart: Result | None,
) -> None:
    """Seed ``url``, sweep it in a child, then time restarts against it."""
    open_count, due_count = (1000, 100) if quick else (10_000, 1000)
    emulator: Emulator = start_emulator(rate_limit_window=window)
    emulator.set_rate_limits(True, window=window)
    emulator.set_latency(latency)
    owners = add_users(emulator, due_count)
    due = seed(url, open_count=open_count, due_count=due_count, owners=owners)
    child = Child(
        [
            "sweep",
            "--database-url",
            url,
            "--api-url",
            emulator.api_url,
            "--window",
            str(window),
            "--tick",
            str(tick),
            "--t0",
            T0.isoformat(),
            "--due-count",
            str(due_count),
            "--idle-ticks",
            "2" if quick else "3",
        ]
    )
    try:
        data = child.read_json(timeout=400)
    finally:
        child.stop()
    calls = emulator.calls
    emulator.stop()
    _report_sweep(name, scheduler, data, calls, due, owners, window=window, latency=latency)
    if restart is not None:
        _restart(name, url, restart, runs=2 if quick else 3)


def _report_sweep(
    name: str,
    result: Result,
    data: dict[str, Any],
    calls: list[Any],
    due: dict[int, float],
    owners: list[str],
    *,
    window: float,
    latency: float,
) -> None:
    wall0 = float(data["wall0"])
    due_wall = {cid: wall0 + offset for cid, offset in due.items()}
    claimed_at: dict[int, float] = {}
    query_times = []
    for start, end, count, *ids in data["claims"]:
        if count:
            query_times.append(end - start)
        for cid in ids:
            claimed_at.setdefault(int(cid), end)
    claim_lag = [claimed_at[cid] - due_wall[cid] for cid in due if cid in claimed_at]
    unclaimed = len(due) - len(claim_lag)
    worst_claim = max(claim_lag, default=math.nan)
    result.add(
        f"{name}: due → claimed p50 / max ({len(due)} due)",
        f"{fmt_s(percentile(claim_lag, 50))} / {fmt_s(worst_claim)}"
        + (f", {unclaimed} never claimed" if unclaimed else ""),
        "max ≤ 1 s",
        unclaimed == 0 and worst_claim <= 1.0,
    )
    result.add(
        f"{name}: claim query time max (claims with rows)",
        f"{fmt_s(max(query_times, default=math.nan))} ({len(query_times)} claims)",
    )
    owner_crisis = {owner: cid for owner, cid in zip(owners, sorted(due), strict=True)}
    sent_at: dict[int, float] = {}
    for call in calls:
        if call.method == "chat.postMessage" and call.ok:
            cid = owner_crisis.get(str(call.args.get("channel", "")))
            if cid is not None:
                sent_at.setdefault(cid, call.at)
    order = sorted(due, key=lambda cid: due_wall[cid])
    posts = sum(1 for c in calls if c.method == "chat.postMessage" and c.ok)
    posts_each = max(1, round(posts / len(due)))
    forced = forced_times(
        [due_wall[cid] for cid in order], window=window, latency=latency, posts_each=posts_each
    )
    beyond = [sent_at[cid] - f for cid, f in zip(order, forced, strict=True) if cid in sent_at]
    lateness = [sent_at[cid] - due_wall[cid] for cid in order if cid in sent_at]
    missing = len(due) - len(beyond)
    p99 = percentile(beyond, 99)
    result.add(
        f"{name}: nag lateness p50 / p99 / max",
        f"{fmt_s(percentile(lateness, 50))} / {fmt_s(percentile(lateness, 99))} / "
        f"{fmt_s(max(lateness, default=math.nan))}",
    )
    result.add(
        f"{name}: lateness beyond rate limits p99",
        fmt_s(p99) + (f", {missing} not sent" if missing else ""),
        "≤ 2 s",
        missing == 0 and p99 <= 2.0,
    )
    limited = sum(1 for c in calls if c.status == 429)
    result.add(f"{name}: 429s absorbed by retries", str(limited))
    rss_mb = int(data["rss_peak_kb"]) / 1024
    result.add(
        f"{name}: peak RSS of the bot process", f"{rss_mb:.0f} MB", "≤ 200 MB", rss_mb <= 200
    )
    cpu = float(data["idle_cpu"]) / float(data["idle_wall"]) * 100
    result.add(
        f"{name}: CPU between ticks ({data['idle_sweeps']} sweeps, nothing due)",
        f"{cpu:.2f}% of a core",
        "≤ 2%",
        cpu <= 2.0,
    )


def _restart(name: str, url: str, result: Result, *, runs: int) -> None:
    """Start the bot as ``crisisbot run`` does against the populated database."""
    emulator = start_emulator()
    first: list[float] = []
    built: list[float] = []
    try:
        for _ in range(runs):
            child = Child(["restart", "--database-url", url, "--api-url", emulator.api_url])
            try:
                data = child.read_json(timeout=90)
            finally:
                child.stop()
            if "sweep_done" not in data or data.get("sweep_failed"):
                first.append(math.inf)
                continue
            first.append(float(data["sweep_done"]) - child.started)
            built.append(float(data["built"]) - child.started)
    finally:
        emulator.stop()
    median = statistics.median(first)
    result.add(
        f"{name}: process start → runtime built (median of {runs})",
        fmt_s(statistics.median(built) if built else math.nan),
    )
    result.add(
        f"{name}: process start → first sweep done (median; max)",
        f"{fmt_s(median)}; {fmt_s(max(first))}",
        "≤ 2 s",
        max(first) <= 2.0,
    )


def run(
    *,
    quick: bool,
    postgres_url: str | None,
    window: float = 6.0,
    latency: float = 0.1,
    tick: float = 0.5,
    with_restart: bool = True,
) -> tuple[Result, Result | None]:
    count = "1,000 open, 100" if quick else "10,000 open, 1,000"
    scheduler = Result(
        "3 scheduler at scale",
        f"{count} with a heads-up due in the same second; real APScheduler (tick {tick:g} s) "
        f"in a child process with an injected clock; emulator tiers and the bot's limiter "
        f"with the minute scaled to {window:g} s; Web API latency {latency * 1000:.0f} ms",
    )
    restart = (
        Result(
            "4 restart",
            f"`crisisbot run`'s start-up (migrations included) in a child "
            f"process over the database of #3 ({count.split(', ')[0]})",
        )
        if with_restart
        else None
    )
    workdir = Path(tempfile.mkdtemp(prefix="crisisbot-bench-scale-"))
    backends = [("SQLite", f"sqlite:///{workdir}/bot.db")]
    if postgres_url:
        backends.append(("PostgreSQL", postgres_url))
    else:
        scheduler.notes.append("PostgreSQL not available: its figures are missing")
    for name, url in backends:
        run_backend(
            name,
            url,
            quick=quick,
            window=window,
            latency=latency,
            tick=tick,
            scheduler=scheduler,
            restart=restart,
        )
    scheduler.notes.append(
        "lateness beyond rate limits: each heads-up DM's send time minus the earliest all of "
        f"its reminder's posts could land under the emulator's {POST_PER_WORKSPACE} "
        "chat.postMessage per (scaled) minute, workspace-wide, plus one Web API latency; every "
        "due crisis has its own owner, so the per-channel limit never binds"
    )
    return scheduler, restart
