"""The report's figures against a small fixture computed by hand, on SQLite and PostgreSQL:
an empty period, a crisis that spans the period's edge, weeks in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.db.models import Account, Crisis, CustomerPromise
from bot.db.session import SessionFactory
from bot.enums import CrisisKind, CrisisStatus, PromiseOutcome, Severity
from bot.services import report
from bot.services.report import Dimension, Week

BOTH_DATABASES = 1

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def crisis(
    customer: str,
    *,
    owner: str,
    declared: datetime,
    ack: int | None = None,
    closed: datetime | None = None,
    account: Account | None = None,
    kind: CrisisKind = CrisisKind.TECHNICAL_ISSUE,
    severity: Severity = Severity.SEV1,
    status: CrisisStatus | None = None,
    prevention: str | None = None,
) -> Crisis:
    return Crisis(
        customer=customer,
        account=account,
        kind=kind,
        severity=severity,
        status=status or (CrisisStatus.CLOSED if closed else CrisisStatus.OPEN),
        declared_by=owner,
        owner_id=owner,
        cadence_seconds=3600,
        declared_at=declared,
        first_ack_at=None if ack is None else declared + timedelta(seconds=ack),
        seconds_to_first_ack=ack,
        closed_at=closed,
        seconds_to_resolve=None if closed is None else int((closed - declared).total_seconds()),
        prevention=prevention,
    )


def promise(
    of: Crisis,
    made: datetime,
    due: datetime,
    ended: datetime | None = None,
    outcome: PromiseOutcome | None = None,
) -> CustomerPromise:
    late = None if ended is None else max(int((ended - due).total_seconds()), 0)
    return CustomerPromise(
        crisis=of, made_at=made, due_at=due, ended_at=ended, outcome=outcome, late_seconds=late
    )


KEPT, LATE, BROKEN = PromiseOutcome.KEPT, PromiseOutcome.LATE, PromiseOutcome.BROKEN


@pytest.fixture
def november(session_factory: SessionFactory) -> SessionFactory:
    """Five crises around November 2026 (see the hand computation in each test)."""
    with session_factory() as session:
        acme = Account(name="Acme", name_key="acme", tier="enterprise", updated_at=START)
        globex = Account(name="Globex", name_key="globex", tier="smb", updated_at=START)
        c1 = crisis(
            "Acme", owner="U1", account=acme, declared=at(11, 2, 10), ack=60,
            closed=at(11, 2, 12), prevention="Add a canary",
        )  # fmt: skip
        c2 = crisis(
            "Acme", owner="U2", account=acme, declared=at(11, 10), ack=300, closed=at(11, 11),
            kind=CrisisKind.SERVICE_OUTAGE, severity=Severity.SEV2,
            prevention="Page the on-call for billing",
        )  # fmt: skip
        c3 = crisis(
            "Globex", owner="U1", account=globex, declared=at(11, 20, 10), ack=120,
            kind=CrisisKind.BILLING_FINANCIAL, severity=Severity.SEV3,
        )  # fmt: skip
        # Declared before the period, closed in it: closed (and its resolve time) counts.
        c4 = crisis(
            "Initech", owner="U2", declared=at(10, 25), ack=600, closed=at(11, 5), prevention=""
        )
        # Declared in the period, closed after it, never acknowledged.
        c5 = crisis("Globex", owner="U1", account=globex, declared=at(11, 28), closed=at(12, 2))
        # Still being declared: not a crisis yet.
        c6 = crisis("Hooli", owner="U3", declared=at(11, 15), status=CrisisStatus.DECLARING)
        session.add_all([c1, c2, c3, c4, c5, c6])
        session.add_all(
            [
                promise(c1, at(11, 2, 10), at(11, 2, 10, 30), at(11, 2, 10, 25), KEPT),
                promise(c1, at(11, 2, 10, 25), at(11, 2, 11, 25), at(11, 2, 11, 40), LATE),
                promise(c1, at(11, 2, 11, 40), at(11, 2, 12, 40), at(11, 2, 12), KEPT),
                promise(c2, at(11, 10), at(11, 10, 1), at(11, 11), BROKEN),
                promise(c3, at(11, 20, 10), at(11, 20, 14), at(11, 20, 15), LATE),
                promise(c3, at(11, 20, 15), at(11, 21, 15)),
                promise(c4, at(10, 25), at(10, 25, 1), at(10, 25, 0, 30), KEPT),  # before
                promise(c4, at(10, 31, 23), at(11, 1, 1), at(11, 1, 0, 30), KEPT),  # ends in
                promise(c4, at(11, 1, 0, 30), at(11, 2), at(11, 5), BROKEN),
                promise(c5, at(11, 28), at(11, 28, 1), at(12, 2), KEPT),  # ends after
            ]
        )
        session.commit()
    return session_factory


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def test_the_totals_of_a_period(november: SessionFactory) -> None:
    with november() as session:
        figures = report.figures(session, team_id="", start=START, end=END)
    # Declared in November: c1, c2, c3, c5 (c4 in October, c6 still declaring).
    assert (figures.declared, figures.closed) == (4, 3)  # closed: c1, c2, c4
    # Promises ended in November: kept c1 ×2, c4 ×1; late c1, c3; broken c2, c4.
    assert (figures.kept_on_time, figures.kept_late, figures.broken) == (3, 2, 2)
    assert figures.kept_on_time_pct == pytest.approx(100 * 3 / 7)
    # Acknowledged, of those declared in November: 60, 120, 300 s (c5 never was).
    assert figures.ack_median == seconds(120)
    assert figures.ack_p90 == seconds(264)  # 120 + 0.8 × (300 − 120)
    # Resolved, of those closed in November: 2 h, 1 d, 11 d (c4 spans the edge).
    assert figures.resolve_median == seconds(86400)
    assert figures.resolve_p90 == seconds(777600)  # 1 d + 0.8 × (11 d − 1 d)


def test_the_breakdowns(november: SessionFactory) -> None:
    with november() as session:
        figures = report.figures(session, team_id="", start=START, end=END)
    u2, u1 = figures.by_owner  # most broken promises first
    assert (u1.key, u1.declared, u1.closed) == ("U1", 3, 1)
    assert (u1.kept_on_time, u1.kept_late, u1.broken, u1.kept_on_time_pct) == (2, 2, 0, 50.0)
    assert (u1.ack_median, u1.ack_p90) == (seconds(90), seconds(114))  # 60, 120
    assert (u1.resolve_median, u1.resolve_p90) == (seconds(7200), seconds(7200))
    assert (u2.key, u2.declared, u2.closed) == ("U2", 1, 2)
    assert (u2.kept_on_time, u2.kept_late, u2.broken) == (1, 0, 2)
    assert (u2.ack_median, u2.ack_p90) == (seconds(300), seconds(300))
    assert (u2.resolve_median, u2.resolve_p90) == (seconds(518400), seconds(864000))

    accounts = {row.key: row for row in figures.by_account}
    assert {k: (r.declared, r.closed, r.promises) for k, r in accounts.items()} == {
        "Acme": (2, 2, 4),
        "Globex": (2, 0, 1),
        "Initech": (0, 1, 2),  # no account: the customer's name
    }
    tiers = {row.key: (row.declared, row.closed) for row in figures.by_tier}
    assert tiers == {"enterprise": (2, 2), "smb": (2, 0), "": (0, 1)}
    kinds = {row.key: (row.declared, row.closed) for row in figures.by_kind}
    assert kinds == {
        "technical_issue": (2, 2),
        "service_outage": (1, 1),
        "billing_financial": (1, 0),
    }
    assert [(r.key, r.declared, r.broken) for r in figures.by_severity] == [
        ("sev1", 2, 1),
        ("sev2", 1, 1),
        ("sev3", 1, 0),
    ]
    assert figures.by(Dimension.TIER) == figures.by_tier


def test_crises_with_nothing_in_the_period_and_other_workspaces_count_nowhere(
    november: SessionFactory,
) -> None:
    """Open all through November with no promise ending in it: in no breakdown, not even
    as a row of zeros; another workspace's crises are not in this one's figures, times
    included."""
    with november() as session:
        quiet = crisis(
            "Umbrella", owner="U9", declared=at(10, 20), ack=5,
            kind=CrisisKind.QUESTION, severity=Severity.SEV4,
        )  # fmt: skip
        elsewhere = crisis(
            "Acme", owner="U1", declared=at(11, 3), ack=1, closed=at(11, 4),
            kind=CrisisKind.QUESTION, severity=Severity.SEV1,
        )  # fmt: skip
        elsewhere.team_id = "T2"
        session.add_all([quiet, elsewhere, promise(quiet, at(10, 20), at(12, 20))])
        session.add(promise(elsewhere, at(11, 3), at(11, 3, 1), at(11, 3, 0, 30), BROKEN))
        session.commit()
    with november() as session:
        figures = report.figures(session, team_id="", start=START, end=END)
        theirs = report.figures(session, team_id="T2", start=START, end=END)
    assert [row.key for row in figures.by_owner] == ["U2", "U1"]
    assert {row.key for row in figures.by_account} == {"Acme", "Globex", "Initech"}
    assert "question" not in {row.key for row in figures.by_kind}
    assert [row.key for row in figures.by_severity] == ["sev1", "sev2", "sev3"]
    u1 = figures.by_owner[1]
    assert (u1.ack_median, u1.resolve_median, u1.broken) == (seconds(90), seconds(7200), 0)
    assert (figures.declared, figures.closed, figures.broken) == (4, 3, 2)
    assert (figures.ack_median, figures.resolve_median) == (seconds(120), seconds(86400))
    assert (theirs.declared, theirs.closed, theirs.broken) == (1, 1, 1)
    assert [(r.key, r.ack_median, r.resolve_median) for r in theirs.by_kind] == [
        ("question", seconds(1), seconds(86400))
    ]


def test_the_latest_promises_and_the_changes(november: SessionFactory) -> None:
    with november() as session:
        figures = report.figures(session, team_id="", start=START, end=END)
    assert [(p.customer, p.made_at, p.outcome) for p in figures.latest_promises] == [
        ("Globex", at(11, 28), KEPT),  # ended after the period: shown as it ended
        ("Globex", at(11, 20, 15), None),  # still open
        ("Globex", at(11, 20, 10), LATE),
        ("Acme", at(11, 10), BROKEN),
        ("Acme", at(11, 2, 11, 40), KEPT),
    ]
    assert [(c.customer, c.text) for c in figures.changes] == [
        ("Acme", "Page the on-call for billing"),
        ("Acme", "Add a canary"),
    ]
    assert figures.changes_total == 2


def test_reports_in_one_session_leave_nothing_behind(november: SessionFactory) -> None:
    """SQLite counts in TEMP work tables: a second report in the same transaction starts
    from empty ones, and none is left once a report is done."""
    october = datetime(2026, 10, 1, tzinfo=UTC)
    with november() as session:
        alone = report.figures(session, team_id="", start=october, end=START)
    with november() as session:
        first = report.figures(session, team_id="", start=START, end=END)
        second = report.figures(session, team_id="", start=october, end=START)
        again = report.figures(session, team_id="", start=START, end=END)
        if session.get_bind().dialect.name == "sqlite":
            left = session.execute(
                text("SELECT name FROM sqlite_temp_master WHERE name LIKE 'report%'")
            ).all()
            assert left == []
    assert second == alone
    assert again == first
    assert (first.declared, first.closed, first.ack_median) == (4, 3, seconds(120))


def test_an_empty_period(november: SessionFactory) -> None:
    with november() as session:
        figures = report.figures(
            session, team_id="", start=datetime(2025, 1, 1, tzinfo=UTC), end=START - seconds(1e6)
        )
    assert (figures.declared, figures.closed, figures.promises) == (0, 0, 0)
    assert figures.kept_on_time_pct is None
    assert (figures.ack_median, figures.ack_p90, figures.resolve_median) == (None, None, None)
    assert figures.by_owner == figures.by_severity == figures.latest_promises == ()
    assert (figures.changes, figures.changes_total) == ((), 0)


def test_an_empty_database(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        figures = report.figures(session, team_id="", start=START, end=END)
        weeks = report.weekly_series(session, team_id="", end=END, weeks=3, tz=ZoneInfo("UTC"))
    assert figures.declared == 0 and figures.by_account == ()
    assert [w.kept_on_time_pct for w in weeks] == [None, None, None]


def test_the_period_edges(session_factory: SessionFactory) -> None:
    """A period includes its start and excludes its end."""
    with session_factory() as session:
        on_start = crisis("A", owner="U1", declared=START, ack=10, closed=END)
        session.add(on_start)
        session.add(promise(on_start, START, START + seconds(60), END, KEPT))
        session.commit()
        november = report.figures(session, team_id="", start=START, end=END)
        december = report.figures(session, team_id="", start=END, end=END + seconds(86400))
    assert (november.declared, november.closed, november.promises) == (1, 0, 0)
    assert (december.declared, december.closed, december.promises) == (0, 1, 1)
    assert december.resolve_median == END - START


def weekly_fixture(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        # Sunday 22 November 20:00 UTC is Monday 05:00 in Tokyo.
        sunday = crisis("A", owner="U1", declared=at(11, 22, 20), ack=100)
        monday = crisis("B", owner="U1", declared=at(11, 23, 10), ack=300)
        session.add_all([sunday, monday])
        session.add_all(
            [
                promise(sunday, at(11, 22, 20), at(11, 22, 21), at(11, 22, 20, 30), KEPT),
                promise(monday, at(11, 23, 10), at(11, 23, 11), at(11, 23, 12), LATE),
            ]
        )
        session.commit()


def test_weeks_start_on_monday_in_the_time_zone(session_factory: SessionFactory) -> None:
    weekly_fixture(session_factory)
    with session_factory() as session:
        utc = report.weekly_series(session, team_id="", end=at(11, 30), weeks=3, tz=ZoneInfo("UTC"))
        tokyo = ZoneInfo("Asia/Tokyo")
        in_tokyo = report.weekly_series(
            session, team_id="", end=datetime(2026, 11, 30, tzinfo=tokyo), weeks=3, tz=tokyo
        )
    day = datetime(2026, 11, 9).date()
    assert utc == [
        Week(day, None, None, 0, 0),
        Week(day + timedelta(7), 100.0, seconds(100), 1, 1),
        Week(day + timedelta(14), 0.0, seconds(300), 0, 1),
    ]
    assert in_tokyo == [
        Week(day, None, None, 0, 0),
        Week(day + timedelta(7), None, None, 0, 0),
        Week(day + timedelta(14), 50.0, seconds(200), 1, 2),
    ]


def test_weeks_across_a_change_of_clocks(session_factory: SessionFactory) -> None:
    """New York leaves daylight time on Sunday 1 November 2026: its Monday 2 November starts
    at 05:00 UTC, so 04:30 UTC that day is still the week before."""
    with session_factory() as session:
        session.add(crisis("A", owner="U1", declared=at(11, 2, 4, 30), ack=50))
        session.add(crisis("B", owner="U1", declared=at(11, 2, 5, 30), ack=70))
        session.commit()
        new_york = ZoneInfo("America/New_York")
        weeks = report.weekly_series(
            session, team_id="", end=datetime(2026, 11, 9, tzinfo=new_york), weeks=2, tz=new_york
        )
    assert [(w.week_start.isoformat(), w.ack_median) for w in weeks] == [
        ("2026-10-26", seconds(50)),
        ("2026-11-02", seconds(70)),
    ]
