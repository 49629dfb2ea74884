"""The report: how the team kept its promises to customers and how fast it acknowledged and
resolved crises over a period, broken down by owner, account, tier, kind and severity.

Everything is counted by the database (GROUP BY, COUNT, CASE, window functions), never by
loading rows into Python, so a quarter of a busy team's crises reports in well under a second.
Percentiles are ``percentile_cont`` (linear interpolation between the two nearest ranks),
computed with ``row_number()`` and integer arithmetic that SQLite and PostgreSQL share.

A period is ``[start, end)``. Crises *declared* in it count for declared and time to first
acknowledgement; crises *closed* in it (and still closed) count for closed and time to
resolve; promises that *ended* in it count for kept on time, kept late and broken. A crisis
declared before the period and closed in it therefore counts as closed, not as declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    FromClause,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from bot.db.models import Account, Crisis, CustomerPromise
from bot.enums import CrisisStatus, PromiseOutcome


class Dimension(StrEnum):
    """What a breakdown groups crises by."""

    OWNER = "owner"
    ACCOUNT = "account"
    TIER = "tier"
    KIND = "kind"
    SEVERITY = "severity"


@dataclass(frozen=True)
class BreakdownRow:
    """The figures of one owner, account, tier, kind or severity over the period.

    ``key`` is the owner's user id, the account's name (the customer's name for a crisis with
    no account), the tier ("" for none), or the kind's or severity's value."""

    key: str
    declared: int
    closed: int
    kept_on_time: int
    kept_late: int
    broken: int
    kept_on_time_pct: float | None
    ack_median: timedelta | None
    ack_p90: timedelta | None
    resolve_median: timedelta | None
    resolve_p90: timedelta | None

    @property
    def promises(self) -> int:
        """Promises that ended in the period."""
        return self.kept_on_time + self.kept_late + self.broken


@dataclass(frozen=True)
class PromiseLine:
    """One of the latest promises made in the period, with its crisis."""

    promise_id: int
    crisis_id: int
    customer: str
    channel_id: str | None
    made_at: datetime
    due_at: datetime
    ended_at: datetime | None
    # None while the promise is still open.
    outcome: PromiseOutcome | None
    late_seconds: int | None


@dataclass(frozen=True)
class Change:
    """An answer to "What will we change so this doesn't happen again?" of a crisis closed
    in the period."""

    crisis_id: int
    customer: str
    channel_id: str | None
    closed_at: datetime
    text: str


@dataclass(frozen=True)
class Figures:
    """The report for ``[start, end)``: totals, breakdowns, the latest promises and the
    changes the team said it will make."""

    start: datetime
    end: datetime
    declared: int
    closed: int
    kept_on_time: int
    kept_late: int
    broken: int
    # None when no promise ended in the period.
    kept_on_time_pct: float | None
    ack_median: timedelta | None
    ack_p90: timedelta | None
    resolve_median: timedelta | None
    resolve_p90: timedelta | None
    by_owner: tuple[BreakdownRow, ...]
    by_account: tuple[BreakdownRow, ...]
    by_tier: tuple[BreakdownRow, ...]
    by_kind: tuple[BreakdownRow, ...]
    by_severity: tuple[BreakdownRow, ...]
    # The five latest promises made in the period, latest first.
    latest_promises: tuple[PromiseLine, ...]
    # The latest answers (at most ``changes_limit``), latest first, and how many there were.
    changes: tuple[Change, ...]
    changes_total: int

    @property
    def promises(self) -> int:
        """Promises that ended in the period."""
        return self.kept_on_time + self.kept_late + self.broken

    @property
    def total(self) -> BreakdownRow:
        """The totals as one row (key ""), as the CSV and JSON exports print them."""
        return BreakdownRow(
            key="",
            declared=self.declared,
            closed=self.closed,
            kept_on_time=self.kept_on_time,
            kept_late=self.kept_late,
            broken=self.broken,
            kept_on_time_pct=self.kept_on_time_pct,
            ack_median=self.ack_median,
            ack_p90=self.ack_p90,
            resolve_median=self.resolve_median,
            resolve_p90=self.resolve_p90,
        )

    def by(self, dimension: Dimension) -> tuple[BreakdownRow, ...]:
        """The breakdown by ``dimension``."""
        return {
            Dimension.OWNER: self.by_owner,
            Dimension.ACCOUNT: self.by_account,
            Dimension.TIER: self.by_tier,
            Dimension.KIND: self.by_kind,
            Dimension.SEVERITY: self.by_severity,
        }[dimension]


@dataclass(frozen=True)
class Week:
    """One calendar week (Monday 00:00 in the report's time zone) of the weekly series."""

    week_start: date
    # None when no promise ended that week.
    kept_on_time_pct: float | None
    # None when no crisis declared that week was acknowledged.
    ack_median: timedelta | None
    kept_on_time: int = 0
    promises: int = 0


LATEST_PROMISES = 5


def figures(
    session: Session,
    *,
    team_id: str,
    start: datetime,
    end: datetime,
    changes_limit: int = 10,
) -> Figures:
    """The report for the workspace ``team_id`` over ``[start, end)``, counted by the database."""
    if end <= start:
        raise ValueError("a report's period ends after it starts")
    rows = _breakdowns(session, team_id=team_id, start=start, end=end)
    overall = rows[TOTAL].get("") or _empty_row("")
    breakdowns = {
        dimension: _sorted(dimension, rows[dimension.value].values()) for dimension in Dimension
    }
    changes, changes_total = _changes(
        session, team_id=team_id, start=start, end=end, limit=changes_limit
    )
    return Figures(
        start=start,
        end=end,
        declared=overall.declared,
        closed=overall.closed,
        kept_on_time=overall.kept_on_time,
        kept_late=overall.kept_late,
        broken=overall.broken,
        kept_on_time_pct=overall.kept_on_time_pct,
        ack_median=overall.ack_median,
        ack_p90=overall.ack_p90,
        resolve_median=overall.resolve_median,
        resolve_p90=overall.resolve_p90,
        by_owner=breakdowns[Dimension.OWNER],
        by_account=breakdowns[Dimension.ACCOUNT],
        by_tier=breakdowns[Dimension.TIER],
        by_kind=breakdowns[Dimension.KIND],
        by_severity=breakdowns[Dimension.SEVERITY],
        latest_promises=_latest_promises(session, team_id=team_id, start=start, end=end),
        changes=changes,
        changes_total=changes_total,
    )


def week_bounds(*, end: datetime, weeks: int, tz: ZoneInfo) -> list[datetime]:
    """The starts of the ``weeks`` calendar weeks (Monday 00:00 in ``tz``) up to the one the
    instant before ``end`` falls in, then ``end``: ``weeks + 1`` aware datetimes."""
    last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
    monday = last_day - timedelta(days=last_day.weekday())
    days = [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    return [datetime.combine(day, time(), tzinfo=tz) for day in days] + [end]


def weekly_series(
    session: Session, *, team_id: str, end: datetime, weeks: int = 12, tz: ZoneInfo
) -> list[Week]:
    """Promises kept on time and the median time to first acknowledgement per calendar week
    (Monday 00:00 in ``tz``), oldest first, for the ``weeks`` weeks up to ``end``. The last
    week is the one the instant before ``end`` falls in, counted up to ``end``: pass the start
    of the current week to have complete weeks only."""
    if weeks < 1:
        raise ValueError("a weekly series has at least one week")
    bounds = week_bounds(end=end, weeks=weeks, tz=tz)

    def week_of(column: Any) -> ColumnElement[int]:
        return case(*((column < bound, index) for index, bound in enumerate(bounds[1:])))

    first, last = bounds[0], bounds[-1]
    ended = CustomerPromise.ended_at
    promises = (
        select(week_of(ended).label("k"), CustomerPromise.outcome.label("outcome"))
        .select_from(CustomerPromise)
        .join(Crisis, Crisis.id == CustomerPromise.crisis_id)
        .where(
            ended >= first,
            ended < last,
            CustomerPromise.outcome.is_not(None),
            *_team(team_id),
        )
        .subquery()
    )
    on_time = func.sum(case((promises.c.outcome == PromiseOutcome.KEPT, 1), else_=0))
    kept: dict[int, tuple[int, int]] = {
        int(k): (int(n_on_time), int(n))
        for k, n_on_time, n in session.execute(
            select(promises.c.k, on_time, func.count()).group_by(promises.c.k)
        )
    }
    declared = Crisis.declared_at
    medians = _percentiles(
        session,
        source=Crisis.__table__,
        key=week_of(declared),
        value=Crisis.seconds_to_first_ack,
        where=[
            declared >= first,
            declared < last,
            Crisis.status != CrisisStatus.DECLARING,
            *_team(team_id),
        ],
    )
    series = []
    for index, bound in enumerate(bounds[:-1]):
        n_on_time, n = kept.get(index, (0, 0))
        median = medians.get(str(index), (None, None))[0]
        series.append(
            Week(
                week_start=bound.date(),
                kept_on_time_pct=_pct(n_on_time, n),
                ack_median=median,
                kept_on_time=n_on_time,
                promises=n,
            )
        )
    return series


# --- how the database counts -------------------------------------------------------------


def _team(team_id: str) -> list[ColumnElement[bool]]:
    # Crises carry their workspace once installs span several (the OAuth lane adds the
    # column); until then every crisis is the single workspace's.
    column = getattr(Crisis, "team_id", None)
    return [] if column is None else [column == team_id]


def _key(dimension: Dimension) -> ColumnElement[Any]:
    match dimension:
        case Dimension.OWNER:
            return Crisis.owner_id.expression
        case Dimension.ACCOUNT:
            return func.coalesce(Account.name, Crisis.customer)
        case Dimension.TIER:
            # A literal, not a bound parameter: the same SQL is grouped and partitioned by.
            return func.coalesce(Account.tier, literal_column("''"))
        case Dimension.KIND:
            return Crisis.kind.expression
        case Dimension.SEVERITY:
            return Crisis.severity.expression


def _crises_and_accounts() -> FromClause:
    return Crisis.__table__.outerjoin(Account.__table__, Account.id == Crisis.account_id)


def _between(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _declared_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(_between(Crisis.declared_at, start, end), Crisis.status != CrisisStatus.DECLARING)


def _closed_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Crisis.status == CrisisStatus.CLOSED, _between(Crisis.closed_at, start, end))


def _alive(start: datetime, end: datetime) -> ColumnElement[bool]:
    # Only crises alive at some moment of the period can have anything in it.
    return and_(
        Crisis.declared_at < end,
        or_(Crisis.closed_at.is_(None), Crisis.closed_at >= start),
        Crisis.status != CrisisStatus.DECLARING,
    )


def _label(key: ColumnElement[Any] | None) -> ColumnElement[Any]:
    return (literal_column("''") if key is None else key).label("k")


TOTAL = "total"


def _facts(
    *, team_id: str, start: datetime, end: datetime, promises: bool, grouped_first: bool = False
) -> CTE:
    """:func:`_facts_select` as the CTE ``facts``."""
    return _facts_select(
        team_id=team_id, start=start, end=end, promises=promises, grouped_first=grouped_first
    ).cte("facts")


def _facts_select(
    *, team_id: str, start: datetime, end: datetime, promises: bool, grouped_first: bool = False
) -> Select[Any]:
    """One row per crisis with something in the period: its five keys, whether it was declared
    and closed in the period, its acknowledgement and resolve times when they count, and
    (``promises``) how its promises that ended in the period came out. Every breakdown is
    grouped from this one set, which the database computes once.

    ``grouped_first`` counts the promises per crisis before joining them (PostgreSQL hashes
    that fast); otherwise each crisis's promises are read from the (crisis_id, ended_at,
    outcome) index as the crises are scanned (what SQLite does fastest)."""
    declared, closed = _declared_in(start, end), _closed_in(start, end)
    columns: list[ColumnElement[Any]] = [
        *(_key(dimension).label(dimension.value) for dimension in Dimension),
        case((declared, 1), else_=0).label("declared"),
        case((closed, 1), else_=0).label("closed"),
        case((declared, Crisis.seconds_to_first_ack), else_=None).label("ack"),
        case((closed, Crisis.seconds_to_resolve), else_=None).label("resolve"),
    ]
    source = _crises_and_accounts()
    if not promises:
        where: ColumnElement[bool] = or_(declared, closed)
        return select(*columns).select_from(source).where(where, *_team(team_id))

    def count(outcome: PromiseOutcome) -> ColumnElement[int]:
        return func.sum(case((CustomerPromise.outcome == outcome, 1), else_=0))

    ended_in_period = and_(
        _between(CustomerPromise.ended_at, start, end), CustomerPromise.outcome.is_not(None)
    )
    alive = _alive(start, end)
    if grouped_first:
        ended = (
            select(
                CustomerPromise.crisis_id.label("crisis_id"),
                count(PromiseOutcome.KEPT).label("kept"),
                count(PromiseOutcome.LATE).label("late"),
                count(PromiseOutcome.BROKEN).label("broken"),
            )
            .where(ended_in_period)
            .group_by(CustomerPromise.crisis_id)
            .subquery("ended")
        )
        columns += [func.coalesce(ended.c[name], 0).label(name) for name in OUTCOMES]
        return (
            select(*columns)
            .select_from(source.outerjoin(ended, ended.c.crisis_id == Crisis.id))
            .where(alive, or_(declared, closed, ended.c.crisis_id.is_not(None)), *_team(team_id))
        )
    columns += [
        count(PromiseOutcome.KEPT).label("kept"),
        count(PromiseOutcome.LATE).label("late"),
        count(PromiseOutcome.BROKEN).label("broken"),
    ]
    return (
        select(*columns)
        .select_from(
            source.outerjoin(
                CustomerPromise.__table__,
                and_(CustomerPromise.crisis_id == Crisis.id, ended_in_period),
            )
        )
        .where(alive, *_team(team_id))
        # Grouped by the primary keys, so every crisis and account column may be selected.
        .group_by(Crisis.id, Account.id)
        .having(or_(declared, closed, func.count(CustomerPromise.id) > 0))
    )


OUTCOMES = ("kept", "late", "broken")
Tallies = dict[str, dict[str, tuple[int, ...]]]
Times = dict[str, dict[str, tuple[timedelta | None, timedelta | None]]]


def _breakdowns(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> dict[str, dict[str, BreakdownRow]]:
    """Every breakdown's rows, and the totals (under ``"total"``, keyed ``""``)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        tallies, times = _counted_by_grouping_sets(session, team_id=team_id, start=start, end=end)
    else:
        tallies, times = _counted_in_work_tables(session, team_id=team_id, start=start, end=end)
    out: dict[str, dict[str, BreakdownRow]] = {}
    for name in [TOTAL, *(d.value for d in Dimension)]:
        rows = out.setdefault(name, {})
        for k, (n_declared, n_closed, kept, late, broken) in tallies.get(name, {}).items():
            ack = times.get(f"{name}:ack", {}).get(k, (None, None))
            resolve = times.get(f"{name}:resolve", {}).get(k, (None, None))
            rows[k] = BreakdownRow(
                key=k,
                declared=n_declared,
                closed=n_closed,
                kept_on_time=kept,
                kept_late=late,
                broken=broken,
                kept_on_time_pct=_pct(kept, kept + late + broken),
                ack_median=ack[0],
                ack_p90=ack[1],
                resolve_median=resolve[0],
                resolve_p90=resolve[1],
            )
    return out


def _counted_by_grouping_sets(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[Tallies, Times]:
    """PostgreSQL: one statement, the facts grouped six ways at once (GROUPING SETS), each
    group's percentiles by ``percentile_cont`` (both from one sort)."""
    # For this transaction only: sort in memory (a quarter's crises need more than the 4 MB
    # default), and no JIT, whose compiling costs more than it saves on a statement this size.
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    session.execute(text("SET LOCAL jit = off"))
    facts = _facts(team_id=team_id, start=start, end=end, promises=True, grouped_first=True)
    keys = [facts.c[d.value] for d in Dimension]
    fractions: ColumnElement[Any] = literal_column("ARRAY[0.5, 0.9]")
    statement = select(
        *keys,
        *(func.grouping(key) for key in keys),
        *(func.sum(facts.c[name]) for name in ("declared", "closed", *OUTCOMES)),
        func.percentile_cont(fractions).within_group(facts.c.ack),
        func.percentile_cont(fractions).within_group(facts.c.resolve),
    ).group_by(func.grouping_sets(literal_column("()"), *keys))
    tallies: Tallies = {}
    times: Times = {}
    width = len(keys)
    for row in session.execute(statement):
        values, grouped, numbers = row[:width], row[width : 2 * width], row[2 * width : -2]
        ack, resolve = row[-2], row[-1]
        if numbers[0] is None:  # the totals of nothing
            continue
        name, k = TOTAL, ""
        for dimension, value, aside in zip(Dimension, values, grouped, strict=True):
            if not aside:
                name, k = dimension.value, _text(value)
        tallies.setdefault(name, {})[k] = tuple(int(n or 0) for n in numbers)
        for measure, pair in (("ack", ack), ("resolve", resolve)):
            median, p90 = pair or (None, None)
            times.setdefault(f"{name}:{measure}", {})[k] = (_seconds(median), _seconds(p90))
    return tallies, times


# SQLite's working tables for one report: TEMP (private to the connection), created and
# dropped around each report, outside the models' metadata (no migration knows them).
_WORK = MetaData()
_MEASURES = ("ack", "resolve")
_FACTS = Table(
    "report_facts",
    _WORK,
    *(Column(dimension.value, String) for dimension in Dimension),
    *(Column(name, Integer) for name in ("declared", "closed", *_MEASURES, "promised")),
    prefixes=["TEMPORARY"],
)
_GROUPS = Table(
    "report_groups",
    _WORK,
    Column("d", Integer),
    Column("k", String),
    *(Column(name, Integer) for name in ("declared", "closed", *OUTCOMES)),
    *(Column(f"n_{measure}", Integer) for measure in _MEASURES),
    prefixes=["TEMPORARY"],
)
# The values of every breakdown's groups in order, one block after another: ``pos`` (the
# rowid) numbers them as they are inserted.
_RANKED = Table(
    "report_ranked",
    _WORK,
    Column("pos", Integer, primary_key=True),
    Column("v", Integer),
    prefixes=["TEMPORARY"],
)


def _counted_in_work_tables(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[Tallies, Times]:
    """SQLite (no GROUPING SETS, no percentile_cont): the per-crisis set stored once in a
    TEMP table, grouped six ways into another; each breakdown's values inserted sorted by
    (key, value) into a third, whose rowid is then the rank, so a group's percentile is a
    rowid lookup at (rows before the group) + rank. Owner, kind and severity need no sort:
    their values are read in order from the crises' indexes (``_ORDERED``); the others are
    one plain sort each: the window functions this replaces (``row_number()`` and a
    whole-partition ``count(*)``) cost three times their sort on SQLite."""
    connection = session.connection()
    for table in (_FACTS, _GROUPS, _RANKED):
        connection.execute(text(f"DROP TABLE IF EXISTS temp.{table.name}"))
        table.create(connection)
    try:
        return _count_in_work_tables(session, team_id=team_id, start=start, end=end)
    finally:
        for table in (_FACTS, _GROUPS, _RANKED):
            connection.execute(text(f"DROP TABLE IF EXISTS temp.{table.name}"))


def _count_in_work_tables(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[Tallies, Times]:
    facts = _packed_facts_select(team_id=team_id, start=start, end=end)
    session.execute(_FACTS.insert().from_select(list(facts.selected_columns.keys()), facts))
    f = _FACTS.c
    promised = f.promised
    # Breakdown d's key; d = 0 is the totals.
    keys: list[ColumnElement[Any] | None] = [None] + [f[d.value] for d in Dimension]
    names = [TOTAL, *(d.value for d in Dimension)]
    # Counted in two sorts, not five: by (owner, kind, severity) and by (account, tier), each
    # a few thousand cells at most, which the six breakdowns then add up.
    summed = ("declared", "closed", *OUTCOMES, *(f"n_{measure}" for measure in _MEASURES))

    def cells(*dimensions: Dimension) -> CTE:
        columns = [f[d.value] for d in dimensions]
        return (
            select(
                *columns,
                *(func.sum(f[name]).label(name) for name in ("declared", "closed")),
                *(
                    func.sum(promised.op(">>")(_PACK_BITS * n).op("&")(_PACK_MASK)).label(name)
                    for n, name in enumerate(OUTCOMES)
                ),
                *(func.count(f[measure]).label(f"n_{measure}") for measure in _MEASURES),
                func.count(promised).label("n_promised"),
            )
            .group_by(*columns)
            .cte(f"cells_{dimensions[0].value}")
        )

    by_owner = cells(Dimension.OWNER, Dimension.KIND, Dimension.SEVERITY)
    by_account = cells(Dimension.ACCOUNT, Dimension.TIER)
    sources = [by_owner] + [
        by_account if d in (Dimension.ACCOUNT, Dimension.TIER) else by_owner for d in Dimension
    ]
    grouped = union_all(
        *(
            select(
                literal_column(str(d)),
                _label(None if d == 0 else source.c[names[d]]),
                *(func.sum(source.c[name]) for name in summed),
            )
            .group_by(*([] if d == 0 else [source.c[names[d]]]))
            # The set holds every crisis alive in the period: only a group with something
            # in it (declared, closed or a promise ended) is a row of the breakdown.
            .having(func.sum(source.c.declared + source.c.closed + source.c.n_promised) > 0)
            for d, source in enumerate(sources)
        )
    )
    session.execute(_GROUPS.insert().from_select([c.name for c in _GROUPS.c], grouped))
    # Inserted in (d, measure, key, value) order: the order the spans below are summed in.
    for d, key in enumerate(keys):
        for measure in _MEASURES:
            dimension = None if d == 0 else Dimension(names[d])
            if dimension in _ORDERED:
                ordered = _ordered_in_index(dimension, measure, team_id, start, end)
            else:
                value = f[measure]
                ordered = select(value).where(value.is_not(None))
                ordered = ordered.order_by(*([] if key is None else [key]), value)
            session.execute(_RANKED.insert().from_select(["v"], ordered))

    g = _GROUPS.c
    tallies: Tallies = {}
    for d, k, *numbers in session.execute(
        select(g.d, g.k, *(g[name] for name in ("declared", "closed", *OUTCOMES)))
    ):
        if numbers[0] is None:  # the totals of nothing
            continue
        tallies.setdefault(names[d], {})[_text(k)] = tuple(int(n or 0) for n in numbers)

    per_measure = union_all(
        *(
            select(g.d, literal_column(str(m)).label("m"), g.k, g[f"n_{measure}"].label("n"))
            for m, measure in enumerate(_MEASURES)
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
        return select(_RANKED.c.v).where(_RANKED.c.pos == s.before + rank).scalar_subquery()

    def percentile(percent: int) -> ColumnElement[Any]:
        # As percentile_cont: rank 1 + p·(n−1), interpolated with the next one.
        low = 1 + (percent * (s.n - 1)) // 100
        weight = (percent * (s.n - 1)) % 100
        return (
            value_at(low) * (100 - weight) + func.coalesce(value_at(low + 1), 0) * weight
        ) / 100.0

    times: Times = {}
    for d, m, k, median, p90 in session.execute(
        select(s.d, s.m, s.k, percentile(50), percentile(90)).where(s.n > 0)
    ):
        times.setdefault(f"{names[d]}:{_MEASURES[m]}", {})[_text(k)] = (
            _seconds(median),
            _seconds(p90),
        )
    return tallies, times


# The breakdowns whose values the crises' indexes keep in order (ix_crises_report_<key>_<measure>,
# migration 0017): read in index order, they need no sort.
_ORDERED = {
    Dimension.OWNER: Crisis.owner_id,
    Dimension.KIND: Crisis.kind,
    Dimension.SEVERITY: Crisis.severity,
}


# A crisis's promises that ended in the period, counted in one lookup of the (crisis_id,
# ended_at, outcome) index: kept + late·2²¹ + broken·2⁴², unpacked when the crises are
# summed (exact up to two million promises of each outcome for one crisis in one period).
_PACK_BITS = 21
_PACK_MASK = (1 << _PACK_BITS) - 1


def _packed_facts_select(*, team_id: str, start: datetime, end: datetime) -> Select[Any]:
    """SQLite's per-crisis set: every crisis alive in the period (those with nothing in it
    count for no group, see the HAVING above), its keys, whether it was declared and closed
    in the period, its times when they count, and its promises that ended in the period
    packed in one integer (``promised``, NULL when none). A correlated lookup per crisis
    instead of a join grouped by crisis: no aggregate over the crises' columns."""
    declared, closed = _declared_in(start, end), _closed_in(start, end)
    weights = {
        outcome.value: 1 << (_PACK_BITS * n)
        for n, outcome in enumerate(
            (PromiseOutcome.KEPT, PromiseOutcome.LATE, PromiseOutcome.BROKEN)
        )
    }
    promised = (
        select(func.sum(case(weights, value=CustomerPromise.outcome)))
        .where(
            CustomerPromise.crisis_id == Crisis.id,
            _between(CustomerPromise.ended_at, start, end),
        )
        .scalar_subquery()
    )
    return (
        select(
            *(_key(dimension).label(dimension.value) for dimension in Dimension),
            case((declared, 1), else_=0).label("declared"),
            case((closed, 1), else_=0).label("closed"),
            case((declared, Crisis.seconds_to_first_ack), else_=None).label("ack"),
            case((closed, Crisis.seconds_to_resolve), else_=None).label("resolve"),
            promised.label("promised"),
        )
        .select_from(_crises_and_accounts())
        .where(_alive(start, end), *_team(team_id))
    )


def _ordered_in_index(
    dimension: Dimension, measure: str, team_id: str, start: datetime, end: datetime
) -> Select[Any]:
    """The values of ``measure`` that the per-crisis set holds, ordered by ``dimension`` then
    value, read from the index that keeps them in that order: the same crises as the set's
    (its filters, whose columns the index holds), so each group has the same count."""
    key = _ORDERED[dimension]
    # Declared (or closed) in the period and alive in it, with no condition twice: each is
    # evaluated on every entry of the index.
    if measure == "ack":
        value = Crisis.seconds_to_first_ack
        counted = and_(
            _declared_in(start, end), or_(Crisis.closed_at.is_(None), Crisis.closed_at >= start)
        )
    else:
        value = Crisis.seconds_to_resolve
        counted = and_(_closed_in(start, end), Crisis.declared_at < end)
    return (
        select(value)
        .with_hint(Crisis, f"INDEXED BY ix_crises_report_{dimension.value}_{measure}", "sqlite")
        .where(*_team(team_id), value.is_not(None), counted)
        .order_by(key, value)
    )


def _percentile_select(
    *,
    name: str,
    key: ColumnElement[Any] | None,
    value: Any,
    source: FromClause | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """(name, key, median, 90th percentile) of ``value`` per ``key``, as ``percentile_cont``
    computes them: rank ``1 + p·(n−1)``, interpolated between the two nearest rows. Integer
    division and remainder keep it exact on SQLite and PostgreSQL alike."""
    partition = [] if key is None else [key]
    ranked = select(
        _label(key),
        value.label("v"),
        func.row_number().over(partition_by=partition, order_by=value).label("rn"),
        # The same window (whole partition as the frame), so the database sorts once.
        func.count().over(partition_by=partition, order_by=value, rows=(None, None)).label("n"),
    )
    if source is not None:
        ranked = ranked.select_from(source)
    sub = ranked.where(value.is_not(None), *where).subquery()
    rn, n, v = sub.c.rn, sub.c.n, sub.c.v

    def at(percent: int) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
        low = 1 + (percent * (n - 1)) // 100
        weight = (percent * (n - 1)) % 100
        interpolated = (
            func.sum(case((rn == low, v * (100 - weight)), (rn == low + 1, v * weight), else_=0))
            / 100.0
        )
        return interpolated, or_(rn == low, rn == low + 1)

    median, near_median = at(50)
    p90, near_p90 = at(90)
    return (
        select(literal_column(f"'{name}'").label("dim"), sub.c.k, median, p90)
        .where(or_(near_median, near_p90))
        .group_by(sub.c.k)
    )


def _percentiles(
    session: Session,
    *,
    source: FromClause,
    key: ColumnElement[Any] | None,
    value: Any,
    where: Sequence[ColumnElement[bool]],
) -> dict[str, tuple[timedelta | None, timedelta | None]]:
    """The median and 90th percentile of ``value`` (seconds) per ``key``."""
    statement = _percentile_select(name="", key=key, value=value, source=source, where=where)
    return {_text(k): (_seconds(m), _seconds(p)) for _, k, m, p in session.execute(statement)}


def _latest_promises(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> tuple[PromiseLine, ...]:
    rows = session.execute(
        select(
            CustomerPromise.id,
            Crisis.id,
            Crisis.customer,
            Crisis.channel_id,
            CustomerPromise.made_at,
            CustomerPromise.due_at,
            CustomerPromise.ended_at,
            CustomerPromise.outcome,
            CustomerPromise.late_seconds,
        )
        .join(Crisis, Crisis.id == CustomerPromise.crisis_id)
        .where(_between(CustomerPromise.made_at, start, end), *_team(team_id))
        .order_by(CustomerPromise.made_at.desc(), CustomerPromise.id.desc())
        .limit(LATEST_PROMISES)
    )
    return tuple(PromiseLine(*row) for row in rows)


def _changes(
    session: Session, *, team_id: str, start: datetime, end: datetime, limit: int
) -> tuple[tuple[Change, ...], int]:
    said = [
        _closed_in(start, end),
        Crisis.prevention.is_not(None),
        Crisis.prevention != "",
        *_team(team_id),
    ]
    if limit <= 0:
        return (), int(session.scalar(select(func.count(Crisis.id)).where(*said)) or 0)
    # The latest answers and, on each row, how many there are: one read of the crises.
    rows = session.execute(
        select(
            Crisis.id,
            Crisis.customer,
            Crisis.channel_id,
            Crisis.closed_at,
            Crisis.prevention,
            func.count().over(),
        )
        .where(*said)
        .order_by(Crisis.closed_at.desc(), Crisis.id.desc())
        .limit(limit)
    ).all()
    changes = tuple(
        Change(crisis_id=id_, customer=customer, channel_id=channel, closed_at=closed, text=text)
        for id_, customer, channel, closed, text, _ in rows
        if closed is not None and text is not None
    )
    return changes, int(rows[0][-1]) if rows else 0


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _seconds(value: object) -> timedelta | None:
    return None if value is None else timedelta(seconds=float(value))  # type: ignore[arg-type]


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _empty_row(key: str) -> BreakdownRow:
    return BreakdownRow(key, 0, 0, 0, 0, 0, None, None, None, None, None)


_SEVERITY_ORDER = {"sev1": 1, "sev2": 2, "sev3": 3, "sev4": 4}


def _sorted(dimension: Dimension, rows: Any) -> tuple[BreakdownRow, ...]:
    if dimension == Dimension.SEVERITY:
        return tuple(sorted(rows, key=lambda row: (_SEVERITY_ORDER.get(row.key, 9), row.key)))
    # Where it goes wrong first: most broken promises, then the busiest.
    return tuple(sorted(rows, key=lambda row: (-row.broken, -row.declared - row.closed, row.key)))
