"""#6 Report: ``/crisis report 90d`` over 100,000 closed crises and 400,000 promises, on SQLite
and PostgreSQL. The figures (``bot.services.report.figures``) and their Block Kit, in-process."""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from bench.common import Result, fmt_s
from bot.blocks.report import report_blocks
from bot.db.migrate import upgrade
from bot.db.session import make_engine, make_session_factory
from bot.enums import CrisisKind, CrisisStatus, PromiseOutcome, PromiseTold, Severity
from bot.services import report

NOW = datetime(2030, 4, 1, 9, 0, tzinfo=UTC)
PERIOD = timedelta(days=90)
TARGET = 1.0  # seconds, the bound
KINDS = [kind for kind in CrisisKind if kind not in (CrisisKind.QUESTION, CrisisKind.UNTRIAGED)]
TIERS = ["enterprise", "strategic", "growth", "smb"]


def rows(
    crisis_count: int, promises_each: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Accounts, closed crises (nine in ten declared in the last 90 days, the rest just
    before, so the period's edge cuts through them) and their promises, all ended."""
    rng = random.Random(16)
    accounts = [
        {
            "id": n + 1,
            "name": f"Account {n}",
            "name_key": f"account {n}",
            "aliases": [],
            "tier": TIERS[n % len(TIERS)],
            "team": [],
            "timezone": "UTC",
            "business_hours": "Mon-Fri 09:00-17:00",
            "language": "en",
            "updated_at": NOW,
        }
        for n in range(1000)
    ]
    crises: list[dict[str, Any]] = []
    promises: list[dict[str, Any]] = []
    span = PERIOD.total_seconds() * 10 / 9
    for n in range(crisis_count):
        declared = NOW - timedelta(seconds=span * rng.random() + 86400)
        ack = rng.randint(10, 3600) if rng.random() < 0.95 else None
        resolve = rng.randint(3600, 10 * 86400)
        closed = min(declared + timedelta(seconds=resolve), NOW - timedelta(seconds=1))
        owner = f"U{rng.randrange(200):05d}"
        crises.append(
            {
                "id": n + 1,
                "customer": f"Customer {n % 1500}",
                "account_id": n % 1500 + 1 if n % 1500 < 1000 else None,
                "kind": KINDS[n % len(KINDS)],
                "severity": list(Severity)[rng.randrange(4)],
                "status": CrisisStatus.CLOSED,
                "declared_by": owner,
                "owner_id": owner,
                "responders": [],
                "cadence_seconds": 3600,
                "experienced": "",
                "expected": "",
                "commitment_pinned": True,
                "owner_told": True,
                "version": 0,
                "nags_sent": 0,
                "declared_at": declared,
                "first_ack_at": None if ack is None else declared + timedelta(seconds=ack),
                "seconds_to_first_ack": ack,
                "closed_at": closed,
                "seconds_to_resolve": int((closed - declared).total_seconds()),
                "prevention": "Add a canary for the billing run" if n % 5 == 0 else None,
            }
        )
        step = (closed - declared) / promises_each
        for k in range(promises_each):
            made = declared + step * k
            due = made + timedelta(hours=1)
            late = rng.choice([0, 0, 0, 600, 5400])
            outcome = (
                PromiseOutcome.BROKEN
                if k == promises_each - 1 and late > 3600
                else (PromiseOutcome.LATE if late else PromiseOutcome.KEPT)
            )
            promises.append(
                {
                    "crisis_id": n + 1,
                    "made_at": made,
                    "due_at": due,
                    "ended_at": due + timedelta(seconds=late or -60),
                    "outcome": outcome,
                    "told": None if outcome == PromiseOutcome.BROKEN else PromiseTold.TEAM,
                    "late_seconds": late,
                }
            )
    return accounts, crises, promises


def seed(url: str, *, crisis_count: int, promises_each: int) -> float:
    """Migrate ``url`` and bulk-insert the fixture (COPY on PostgreSQL, executemany on
    SQLite, straight through the driver); seconds taken."""
    started = time.perf_counter()
    upgrade(url)
    accounts, crises, promises = rows(crisis_count, promises_each)
    tables = {"accounts": accounts, "crises": crises, "promises": promises}
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, batch in tables.items():
            columns = list(batch[0])
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row([_pg(row[column]) for column in columns])
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    ([_sqlite(row[column]) for column in columns] for row in batch),
                )
        raw.commit()
        # Statistics, as a live database keeps them (autovacuum; SQLite's optimize).
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return time.perf_counter() - started


def _pg(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    return json.dumps(value) if isinstance(value, list) else value


def _sqlite(value: object) -> object:
    # As bot.db.models.UTCDateTime stores it on SQLite: naive UTC, SQLAlchemy's text format.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return _pg(value)


def timed(work: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(first run, median of the runs after it, median CPU time of this process) in seconds.
    The CPU time is the database's own work on SQLite (in-process), only the client's on
    PostgreSQL; on a shared machine it shows what the wall time owes to the load."""
    times, cpu = [], []
    for _ in range(runs + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return times[0], statistics.median(times[1:]), statistics.median(cpu[1:])


def _groupings(facts: CTE) -> list[tuple[str, ColumnElement[Any] | None]]:
    return [(report.TOTAL, None)] + [(d.value, facts.c[d.value]) for d in report.Dimension]


def counted_by_union_before(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[report.Tallies, report.Times]:
    """The SQLite statements before the work tables (commit 327601f), measured side by side
    with them: the counts grouped six ways in one UNION ALL over a CTE, then the percentiles
    from twelve windows (row_number and a whole-partition count) over another."""
    facts = report._facts(team_id=team_id, start=start, end=end, promises=True)
    counts = union_all(
        *(
            select(
                literal_column(f"'{name}'").label("dim"),
                report._label(key),
                func.sum(facts.c.declared),
                func.sum(facts.c.closed),
                func.sum(facts.c.kept),
                func.sum(facts.c.late),
                func.sum(facts.c.broken),
            ).group_by(*([] if key is None else [key]))
            for name, key in _groupings(facts)
        )
    )
    tallies: report.Tallies = {}
    for dim, k, *numbers in session.execute(counts):
        if numbers[0] is None:  # the totals of nothing
            continue
        tallies.setdefault(dim, {})[report._text(k)] = tuple(int(n or 0) for n in numbers)

    timed = report._facts(team_id=team_id, start=start, end=end, promises=False)
    ranked = union_all(
        *(
            report._percentile_select(name=f"{name}:{measure}", key=key, value=timed.c[measure])
            for name, key in _groupings(timed)
            for measure in ("ack", "resolve")
        )
    )
    times: report.Times = {}
    for dim, k, median, p90 in session.execute(ranked):
        times.setdefault(dim, {})[report._text(k)] = (report._seconds(median), report._seconds(p90))
    return tallies, times


# The work tables as they were before the crises' ordered indexes and the packed promise
# counts (commit 4d30db6): every percentile sorted from the per-crisis set, the set a join
# grouped by crisis. Measured side by side with the current statements.
# SQLite's working tables for one report: TEMP (private to the connection), created and
# dropped around each report, outside the models' metadata (no migration knows them).
_WORK_BEFORE = MetaData()
_MEASURES_BEFORE = ("ack", "resolve")
_FACTS_BEFORE = Table(
    "report_facts_before",
    _WORK_BEFORE,
    *(Column(dimension.value, String) for dimension in report.Dimension),
    *(
        Column(name, Integer)
        for name in ("declared", "closed", *_MEASURES_BEFORE, *report.OUTCOMES)
    ),
    prefixes=["TEMPORARY"],
)
_GROUPS_BEFORE = Table(
    "report_groups_before",
    _WORK_BEFORE,
    Column("d", Integer),
    Column("k", String),
    *(Column(name, Integer) for name in ("declared", "closed", *report.OUTCOMES)),
    *(Column(f"n_{measure}", Integer) for measure in _MEASURES_BEFORE),
    prefixes=["TEMPORARY"],
)
# The values of every breakdown's groups in order, one block after another: ``pos`` (the
# rowid) numbers them as they are inserted.
_RANKED_BEFORE = Table(
    "report_ranked_before",
    _WORK_BEFORE,
    Column("pos", Integer, primary_key=True),
    Column("v", Integer),
    prefixes=["TEMPORARY"],
)


def counted_in_work_tables_before(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[report.Tallies, report.Times]:
    """SQLite (no GROUPING SETS, no percentile_cont): the per-crisis set stored once in a
    TEMP table, grouped six ways into another; each breakdown's values inserted sorted by
    (key, value) into a third, whose rowid is then the rank, so a group's percentile is a
    rowid lookup at (rows before the group) + rank. Each breakdown and measure is one plain
    sort: the window functions this replaces (``row_number()`` and a whole-partition
    ``count(*)``) cost three times their sort on SQLite."""
    connection = session.connection()
    for table in (_FACTS_BEFORE, _GROUPS_BEFORE, _RANKED_BEFORE):
        connection.execute(text(f"DROP TABLE IF EXISTS temp.{table.name}"))
        table.create(connection)
    try:
        return _count_in_work_tables_before(session, team_id=team_id, start=start, end=end)
    finally:
        for table in (_FACTS_BEFORE, _GROUPS_BEFORE, _RANKED_BEFORE):
            connection.execute(text(f"DROP TABLE IF EXISTS temp.{table.name}"))


def _count_in_work_tables_before(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[report.Tallies, report.Times]:
    facts = report._facts_select(team_id=team_id, start=start, end=end, promises=True)
    session.execute(_FACTS_BEFORE.insert().from_select(list(facts.selected_columns.keys()), facts))
    f = _FACTS_BEFORE.c
    # Breakdown d's key; d = 0 is the totals.
    keys: list[ColumnElement[Any] | None] = [None] + [f[d.value] for d in report.Dimension]
    names = [report.TOTAL, *(d.value for d in report.Dimension)]
    # Counted in two sorts, not five: by (owner, kind, severity) and by (account, tier), each
    # a few thousand cells at most, which the six breakdowns then add up.
    summed = (
        "declared",
        "closed",
        *report.OUTCOMES,
        *(f"n_{measure}" for measure in _MEASURES_BEFORE),
    )

    def cells(*dimensions: report.Dimension) -> CTE:
        columns = [f[d.value] for d in dimensions]
        return (
            select(
                *columns,
                *(
                    func.sum(f[name]).label(name)
                    for name in ("declared", "closed", *report.OUTCOMES)
                ),
                *(func.count(f[measure]).label(f"n_{measure}") for measure in _MEASURES_BEFORE),
            )
            .group_by(*columns)
            .cte(f"cells_{dimensions[0].value}")
        )

    by_owner = cells(report.Dimension.OWNER, report.Dimension.KIND, report.Dimension.SEVERITY)
    by_account = cells(report.Dimension.ACCOUNT, report.Dimension.TIER)
    sources = [by_owner] + [
        by_account if d in (report.Dimension.ACCOUNT, report.Dimension.TIER) else by_owner
        for d in report.Dimension
    ]
    grouped = union_all(
        *(
            select(
                literal_column(str(d)),
                report._label(None if d == 0 else source.c[names[d]]),
                *(func.sum(source.c[name]) for name in summed),
            ).group_by(*([] if d == 0 else [source.c[names[d]]]))
            for d, source in enumerate(sources)
        )
    )
    session.execute(
        _GROUPS_BEFORE.insert().from_select([c.name for c in _GROUPS_BEFORE.c], grouped)
    )
    # Inserted in (d, measure, key, value) order: the order the spans below are summed in.
    for key in keys:
        for measure in _MEASURES_BEFORE:
            value = f[measure]
            ordered = select(value).where(value.is_not(None))
            ordered = ordered.order_by(*([] if key is None else [key]), value)
            session.execute(_RANKED_BEFORE.insert().from_select(["v"], ordered))

    g = _GROUPS_BEFORE.c
    tallies: report.Tallies = {}
    for d, k, *numbers in session.execute(
        select(g.d, g.k, *(g[name] for name in ("declared", "closed", *report.OUTCOMES)))
    ):
        if numbers[0] is None:  # the totals of nothing
            continue
        tallies.setdefault(names[d], {})[report._text(k)] = tuple(int(n or 0) for n in numbers)

    per_measure = union_all(
        *(
            select(g.d, literal_column(str(m)).label("m"), g.k, g[f"n_{measure}"].label("n"))
            for m, measure in enumerate(_MEASURES_BEFORE)
        )
    ).subquery()
    p = per_measure.c
    spans = select(
        p.d,
        p.m,
        p.k,
        p.n,
        (func.sum(p.n).over(order_by=[p.d, p.m, p.k], rows=(None, 0)) - p.n).label("before"),
    ).subquery()
    s = spans.c

    def value_at(rank: ColumnElement[Any]) -> ColumnElement[Any]:
        return (
            select(_RANKED_BEFORE.c.v)
            .where(_RANKED_BEFORE.c.pos == s.before + rank)
            .scalar_subquery()
        )

    def percentile(percent: int) -> ColumnElement[Any]:
        # As percentile_cont: rank 1 + p·(n−1), interpolated with the next one.
        low = 1 + (percent * (s.n - 1)) // 100
        weight = (percent * (s.n - 1)) % 100
        return (
            value_at(low) * (100 - weight) + func.coalesce(value_at(low + 1), 0) * weight
        ) / 100.0

    times: report.Times = {}
    for d, m, k, median, p90 in session.execute(
        select(s.d, s.m, s.k, percentile(50), percentile(90)).where(s.n > 0)
    ):
        times.setdefault(f"{names[d]}:{_MEASURES_BEFORE[m]}", {})[report._text(k)] = (
            report._seconds(median),
            report._seconds(p90),
        )
    return tallies, times


def measure(name: str, url: str, result: Result, *, quick: bool) -> None:
    crisis_count = 10_000 if quick else 100_000
    promises_each = 4
    seeded = seed(url, crisis_count=crisis_count, promises_each=promises_each)
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def command() -> object:
        # What the command does after its ack: the figures, then the blocks it responds with.
        with sessions() as session:
            figures = report.figures(session, team_id="", start=NOW - PERIOD, end=NOW)
        return report_blocks(figures, days=90)

    runs = 3 if quick else 5
    first, median, cpu = timed(command, runs=runs)
    with sessions() as session:
        figures = report.figures(session, team_id="", start=NOW - PERIOD, end=NOW)
    if engine.dialect.name == "sqlite":
        # The statements SQLite ran before, side by side on the same data and load: their
        # runs alternate with the current ones', so all see the same machine.
        befores = {
            "window functions": counted_by_union_before,
            "work tables, sorted": counted_in_work_tables_before,
        }
        now_runs: list[tuple[float, float]] = []
        before_runs: dict[str, list[tuple[float, float]]] = {label: [] for label in befores}
        for _ in range(runs):
            now_runs.append(timed(command, runs=1)[1:])
            for label, counted in befores.items():
                with mock.patch.object(report, "_counted_in_work_tables", counted):
                    before_runs[label].append(timed(command, runs=1)[1:])
        now_wall, now_cpu = (statistics.median(x) for x in zip(*now_runs, strict=True))
        side_by_side = []
        for label, counted in befores.items():
            with (
                mock.patch.object(report, "_counted_in_work_tables", counted),
                sessions() as session,
            ):
                before = report.figures(session, team_id="", start=NOW - PERIOD, end=NOW)
            if before != figures:
                raise AssertionError(f"the figures differ from the statements before ({label})")
            was = before_runs[label]
            was_wall, was_cpu = (statistics.median(x) for x in zip(*was, strict=True))
            side_by_side += [
                (
                    f"{name}: before ({label}) vs now, alternating: wall / CPU, median",
                    f"{fmt_s(was_wall)} / {fmt_s(was_cpu)} vs {fmt_s(now_wall)} / {fmt_s(now_cpu)}",
                ),
                (
                    f"{name}: before ({label}) ÷ now, CPU time / wall time",
                    f"{was_cpu / now_cpu:.2f}× / {was_wall / now_wall:.2f}×",
                ),
            ]
    else:
        side_by_side = []
    engine.dispose()
    result.add(
        f"{name}: /crisis report 90d, first / median",
        f"{fmt_s(first)} / {fmt_s(median)}",
        f"≤ {TARGET:.0f} s",
        max(first, median) <= TARGET,
    )
    result.add(f"{name}: CPU time in the bot's process, median", fmt_s(cpu))
    for metric, value in side_by_side:
        result.add(metric, value)
    result.notes.append(
        f"{name}: {crisis_count:,} closed crises and {crisis_count * promises_each:,} promises "
        f"seeded in {seeded:.1f} s; the period holds {figures.declared:,} declared, "
        f"{figures.closed:,} closed, {figures.promises:,} ended promises, "
        f"{len(figures.by_account)} accounts, {len(figures.by_owner)} owners; "
        f"load average {' / '.join(f'{n:.1f}' for n in os.getloadavg())} on "
        f"{os.cpu_count()} cores while measuring"
    )


def run(*, quick: bool, postgres_url: str | None) -> Result:
    result = Result(
        "6 report",
        "`/crisis report 90d` after its ack, in-process: `report.figures` (SQL aggregates) and "
        "`report_blocks`; first run and the median of the next runs",
    )
    folder = Path(tempfile.mkdtemp(prefix="crisisbot-bench-report-"))
    measure("SQLite", f"sqlite:///{folder / 'bot.db'}", result, quick=quick)
    if postgres_url is not None:
        measure("PostgreSQL", postgres_url, result, quick=quick)
    return result
