"""``crisisbot report`` as an analyst runs it: a real process, CSV and JSON on stdout."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db.migrate import upgrade
from bot.db.models import Account, Crisis, CustomerPromise
from bot.db.session import make_engine, make_session_factory
from bot.enums import CrisisKind, CrisisStatus, PromiseOutcome, Severity


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CRISISBOT_"))}
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    seed(url)
    return clean | {"DATABASE_URL": url, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def seed(url: str) -> None:
    """Two crises in the last week (one closed, with an answer), one 40 days ago."""
    now = datetime.now(UTC)
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        acme = Account(name="Acme", name_key="acme", tier="enterprise", updated_at=now)

        def crisis(owner: str, declared: datetime, ack: int, closed: datetime | None) -> Crisis:
            return Crisis(
                customer="Acme",
                account=acme,
                kind=CrisisKind.SERVICE_OUTAGE,
                severity=Severity.SEV1,
                status=CrisisStatus.CLOSED if closed else CrisisStatus.OPEN,
                declared_by=owner,
                owner_id=owner,
                cadence_seconds=1800,
                declared_at=declared,
                seconds_to_first_ack=ack,
                closed_at=closed,
                seconds_to_resolve=int((closed - declared).total_seconds()) if closed else None,
            )

        closed = crisis("U0ANA", now - timedelta(days=3), 60, now - timedelta(days=2))
        closed.prevention = "Canary every release"
        still_open = crisis("U0BEN", now - timedelta(days=1), 180, None)
        old = crisis("U0ANA", now - timedelta(days=40), 900, now - timedelta(days=39))
        session.add_all([closed, still_open, old])
        session.add_all(
            [
                CustomerPromise(
                    crisis=closed,
                    made_at=closed.declared_at,
                    due_at=closed.declared_at + timedelta(minutes=30),
                    ended_at=closed.declared_at + timedelta(minutes=20),
                    outcome=PromiseOutcome.KEPT,
                    late_seconds=0,
                ),
                CustomerPromise(
                    crisis=closed,
                    made_at=closed.declared_at + timedelta(minutes=20),
                    due_at=closed.declared_at + timedelta(minutes=50),
                    ended_at=closed.closed_at,
                    outcome=PromiseOutcome.BROKEN,
                    late_seconds=86400,
                ),
            ]
        )
        session.commit()
    engine.dispose()


def crisisbot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisisbot.cli", "report", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )


def test_csv_totals_and_breakdowns(env: dict[str, str]) -> None:
    done = crisisbot("--since", "7d", "--format", "csv", env=env)
    assert done.returncode == 0, done.stderr
    (total,) = csv.DictReader(io.StringIO(done.stdout))
    assert {k: v for k, v in total.items() if not k.startswith("period")} == {
        "by": "total",
        "key": "",
        "declared": "2",
        "closed": "1",
        "kept_on_time": "1",
        "kept_late": "0",
        "broken": "1",
        "kept_on_time_pct": "50.0",
        "ack_median_seconds": "120.0",  # 60 and 180
        "ack_p90_seconds": "168.0",
        "resolve_median_seconds": "86400.0",
        "resolve_p90_seconds": "86400.0",
    }
    done = crisisbot("--since", "90d", "--by", "owner", env=env)
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(done.stdout))}
    assert {
        k: (r["by"], r["declared"], r["closed"], r["ack_median_seconds"]) for k, r in rows.items()
    } == {
        "U0ANA": ("owner", "2", "2", "480.0"),  # 60 and 900
        "U0BEN": ("owner", "1", "0", "180.0"),
    }
    assert rows["U0BEN"]["kept_on_time_pct"] == ""  # no promise ended


def test_json_has_everything_the_report_shows(env: dict[str, str]) -> None:
    done = crisisbot("--format", "json", env=env)  # 30 days by default
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["totals"]["declared"] == 2
    assert set(document["breakdowns"]) == {"owner", "account", "tier", "kind", "severity"}
    assert document["breakdowns"]["tier"] == [{"key": "enterprise", **document["totals"]}]
    assert [p["outcome"] for p in document["latest_promises"]] == ["broken", "kept"]
    assert [c["text"] for c in document["changes"]] == ["Canary every release"]
    by_kind = json.loads(crisisbot("--format", "json", "--by", "kind", env=env).stdout)
    assert list(by_kind["breakdowns"]) == ["kind"]
    assert by_kind["breakdowns"]["kind"][0]["key"] == "service_outage"


def test_a_bad_period_or_dimension_says_what_works(env: dict[str, str]) -> None:
    done = crisisbot("--since", "a year", env=env)
    assert done.returncode == 2
    assert "--since a year" in done.stderr and "say 7d, 30d or 90d" in done.stderr
    done = crisisbot("--by", "region", env=env)
    assert done.returncode == 2
    assert "invalid choice: 'region'" in done.stderr
