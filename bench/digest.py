"""#7 The weekly digest: last week's figures against the week before, and the 12-week chart,
over a quarter's history (100,000 closed crises, 400,000 promises), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import delete, insert

from bench.common import Result
from bot.config import Settings
from bot.db.migrate import upgrade
from bot.db.models import Crisis, CustomerPromise, Digest
from bot.db.session import make_engine, make_session_factory
from bot.enums import CrisisKind, CrisisStatus, PromiseOutcome, PromiseTold, Severity
from bot.hours import WeeklyAt, parse_timezone
from bot.ratelimit import RateLimiter
from bot.services import digest
from bot.slack_gateway import SlackGateway, make_client
from sandbox import start_emulator

TARGET_SECONDS = 3.0
# Monday 09:00 UTC: the digest for the week before is due.
DUE = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
HISTORY = timedelta(days=90)
PROMISES_PER_CRISIS = 4
BATCH = 10_000


def seed(url: str, *, crises: int) -> None:
    """``crises`` closed crises declared over the 90 days before ``DUE``, each with four
    ended promises (about 80 % kept on time, 15 % late, 5 % broken)."""
    rng = random.Random(7)
    engine = make_engine(url)
    kinds, severities = list(CrisisKind), list(Severity)
    with engine.begin() as connection:
        for first in range(0, crises, BATCH):
            rows, promises = [], []
            for number in range(first, min(first + BATCH, crises)):
                declared = (
                    DUE - HISTORY + timedelta(seconds=rng.randrange(int(HISTORY.total_seconds())))
                )
                ack = rng.randrange(30, 3600)
                resolve = rng.randrange(1800, 3 * 86400)
                rows.append(
                    {
                        "id": number + 1,
                        "customer": f"Customer {number % 5000}",
                        "kind": kinds[number % len(kinds)],
                        "severity": severities[number % len(severities)],
                        "status": CrisisStatus.CLOSED,
                        "declared_by": "U0ANA",
                        "owner_id": f"U{number % 50:04d}",
                        "responders": [],
                        "cadence_seconds": 3600,
                        "declared_at": declared,
                        "first_ack_at": declared + timedelta(seconds=ack),
                        "seconds_to_first_ack": ack,
                        "closed_at": declared + timedelta(seconds=resolve),
                        "seconds_to_resolve": resolve,
                    }
                )
                for step in range(PROMISES_PER_CRISIS):
                    made = declared + timedelta(seconds=resolve * step / PROMISES_PER_CRISIS)
                    roll = rng.random()
                    outcome = (
                        PromiseOutcome.KEPT
                        if roll < 0.8
                        else PromiseOutcome.LATE
                        if roll < 0.95
                        else PromiseOutcome.BROKEN
                    )
                    late = 0 if outcome == PromiseOutcome.KEPT else rng.randrange(60, 3600)
                    promises.append(
                        {
                            "crisis_id": number + 1,
                            "made_at": made,
                            "due_at": made + timedelta(hours=1),
                            "ended_at": made + timedelta(hours=1, seconds=late - 600),
                            "outcome": outcome,
                            "told": None if outcome == PromiseOutcome.BROKEN else PromiseTold.TEAM,
                            "late_seconds": late,
                        }
                    )
            connection.execute(insert(Crisis), rows)
            connection.execute(insert(CustomerPromise), promises)
    engine.dispose()


Timing = tuple[float, float]
"""Wall-clock seconds, and this process's CPU seconds (all its threads)."""


def measure(url: str, *, repeats: int) -> tuple[list[Timing], list[Timing], int]:
    """Seconds for the digest's content (figures of two weeks, the series, the chart), and for
    the whole digest posted to the emulator (claimed, posted, uploaded); the chart's bytes."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    zone = parse_timezone("UTC")
    period = digest.digest_period(DUE, report_at=WeeklyAt.parse("Mon 09:00"), zone=zone)
    content_times: list[Timing] = []
    size = 0
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        with factory() as session:
            content = digest.digest_content(session, team_id="", period=period, zone=zone)
        content_times.append((time.perf_counter() - started, time.process_time() - cpu))
        size = len(content.chart)
    post_times: list[Timing] = []
    with start_emulator() as emulator:
        settings = Settings(
            slack_bot_token=SecretStr("xoxb-sandbox"),
            slack_api_url=emulator.api_url,
            database_url=url,
            report_channel="C0CRISES",
        )
        slack = SlackGateway(
            make_client(token="xoxb-sandbox", base_url=emulator.api_url), limiter=RateLimiter()
        )
        for _ in range(repeats):
            # The same week each time: forget it was posted, so it is claimed and posted again.
            with factory() as session:
                session.execute(delete(Digest))
                session.commit()
            started, cpu = time.perf_counter(), time.process_time()
            posted = digest.send_due_digest(
                session_factory=factory, slack=slack, settings=settings, now=DUE
            )
            post_times.append((time.perf_counter() - started, time.process_time() - cpu))
            assert posted, "the digest was not posted"
        assert len([m for m in emulator.messages("C0CRISES") if m.files]) == repeats
    engine.dispose()
    return content_times, post_times, size


def run(*, quick: bool, postgres_url: str | None = None) -> Result:
    crises = 10_000 if quick else 100_000
    repeats = 3 if quick else 5
    result = Result(
        "7 weekly digest",
        f"{crises:,} closed crises and {crises * PROMISES_PER_CRISIS:,} promises over 90 days;"
        " the digest's figures (the week and the week before), the 12-week series and the"
        f" chart (matplotlib, Agg), then the whole digest posted to the emulator; median of"
        f" {repeats}",
    )
    urls = {"SQLite": f"sqlite:///{Path(tempfile.mkdtemp(prefix='crisisbot-bench-digest-'))}/d.db"}
    if postgres_url:
        urls["PostgreSQL"] = postgres_url
    for name, url in urls.items():
        upgrade(url)
        started = time.perf_counter()
        seed(url, crises=crises)
        seeded = time.perf_counter() - started
        content, posted, size = measure(url, repeats=repeats)
        for label, timings in (
            ("figures + chart", content),
            ("digest posted (claim, message, upload)", posted),
        ):
            wall = statistics.median(t[0] for t in timings)
            cpu = statistics.median(t[1] for t in timings)
            result.add(
                f"{name}: {label}, wall median (max)",
                f"{wall:.2f} s ({max(t[0] for t in timings):.2f} s)",
                f"≤ {TARGET_SECONDS:.0f} s",
                wall <= TARGET_SECONDS,
            )
            if name == "SQLite":
                # SQLite works in this process: its CPU time is the work, whatever the load.
                result.add(
                    f"{name}: {label}, CPU median",
                    f"{cpu:.2f} s",
                    f"≤ {TARGET_SECONDS:.0f} s",
                    cpu <= TARGET_SECONDS,
                )
        result.notes.append(
            f"{name}: seeded in {seeded:.0f} s; the chart is {size / 1024:.0f} KiB; the first"
            " draw includes importing matplotlib (about half a second), as a new process's"
            f" would; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end."
        )
    return result
