"""Three ``crisisbot run`` replicas on one PostgreSQL, one SIGKILLed halfway: every overdue
nag goes out exactly once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.db.migrate import upgrade
from bot.db.models import Crisis, Reminder, TimelineEvent
from bot.db.session import make_engine
from sandbox import Emulator, start_emulator
from sandbox.workspace import User
from tests.postgres import fresh_database
from tests.reliability.support import BotProcess, base_env, bots, start_bot

pytestmark = pytest.mark.postgres

CRISES = 2000
REPLICAS = 3
OVERDUE = "has not been posted"


def owner(number: int) -> str:
    return f"U9R{number:05d}"


def customer(number: int) -> str:
    return f"Replica Customer {number:05d}"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Slack on loopback with one extra person per crisis, so DMs spread over many channels."""
    with start_emulator() as emulator:
        for number in range(CRISES):
            emulator.workspace.add_user(
                User(
                    id=owner(number),
                    name=f"csm{number}",
                    real_name=f"CSM {number}",
                    team_id="T0CRISIS",
                )
            )
        yield emulator


def seed(database_url: str, now: datetime) -> None:
    """Open crises whose update was due a minute ago; heads-up sent, nothing nagged yet."""
    due = now - timedelta(minutes=1)
    rows = [
        {
            "customer": customer(number),
            "kind": "service_outage",
            "severity": "sev1",
            "status": "open",
            "declared_by": owner(number),
            "owner_id": owner(number),
            "responders": [],
            "cadence_seconds": 1800,
            "channel_id": f"C9R{number:05d}",
            "channel_name": f"crisis-replica-{number:05d}",
            # No card: the first nag would also edit the card (chat.update, paced at 50 a
            # minute per process), which this test is not about.
            "commitment_pinned": True,
            "owner_told": True,
            "declared_at": due - timedelta(minutes=30),
            "committed_at": due - timedelta(minutes=30),
            "next_update_due_at": due,
            "heads_up_sent_at": due - timedelta(minutes=10),
            "next_check_at": due,
        }
        for number in range(CRISES)
    ]
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(insert(Crisis), rows)
    engine.dispose()


def overdue_posts(emulator: Emulator) -> list[tuple[float, str]]:
    """(when, text) of every overdue DM Slack accepted."""
    return [
        (call.at, str(call.args.get("text", "")))
        for call in emulator.calls_to("chat.postMessage")
        if call.ok and OVERDUE in str(call.args.get("text", ""))
    ]


def test_replicas_send_each_nag_once_when_one_is_killed_halfway(
    postgres_admin_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    database_url = fresh_database(postgres_admin_url)
    upgrade(database_url)
    # Slack's pacing ten times faster (a 6 s "minute"), and the claim lease shortened to
    # match (30 s instead of 3 min): 2,000 DMs under the workspace-wide chat.postMessage
    # limit would otherwise take many minutes; correctness is what this measures.
    env = base_env(
        emulator, database_url, CRISISBOT_TICK="1s", TEST_RATE_WINDOW="6", CRISISBOT_LEASE="30s"
    )
    with bots() as started:
        for number in range(REPLICAS):
            started.append(start_bot(f"replica{number}", env, tmp_path))
        for process in started:
            process.wait_healthy()
        began = time.monotonic()
        seed(database_url, datetime.now(UTC))
        # The replicas share Slack's budget (bot/budget.py): each DM to a new person needs
        # its users.info (Tier 4, 100 a "minute" for all three), so 1,000 take 10 windows.
        emulator.wait_for(lambda: len(overdue_posts(emulator)) >= CRISES // 2, timeout=150)
        # Kill the replica doing the most work: a sweep claims all it can send in one go, so
        # that is the one holding claims another replica must take over.
        victim: BotProcess = max(started, key=lambda p: p.log().count(": overdue sent"))
        victim.kill()
        killed_at = time.time()
        # The dead replica's claims stay leased for 30 s, then the others take them over.
        emulator.wait_for(lambda: len(overdue_posts(emulator)) >= CRISES, timeout=240)
        took = time.monotonic() - began
        time.sleep(3)  # anything still to come (a duplicate) would arrive now
        survivors = [p for p in started if p is not victim]
        for process in survivors:
            assert process.alive(), process.log()[-2000:]
            assert process.stop() == 0
            assert "Traceback" not in process.log()
        # A sweep logs what it sent when it ends, so the victim's share is what is left.
        sent_by_victim = CRISES - sum(p.log().count(": overdue sent") for p in survivors)

    posts = overdue_posts(emulator)
    # The DM names the customer in bold: "The update to *Replica Customer 00042* was due …".
    per_customer = Counter(text.split("*")[1] for _at, text in posts)
    duplicates = {name: n for name, n in per_customer.items() if n > 1}
    missed = [customer(n) for n in range(CRISES) if customer(n) not in per_customer]
    after_lease = sum(1 for at, _text in posts if at > killed_at + 5)
    print(
        f"\n{CRISES} crises, {REPLICAS} replicas, 1 SIGKILLed after {CRISES // 2} DMs;"
        f" victim sent {sent_by_victim}; {after_lease} sent >5 s after the kill"
        f" (its leased claims, taken over);"
        f" all sent in {took:.1f} s; duplicates {len(duplicates)}, missed {len(missed)}"
    )
    assert duplicates == {}
    assert missed == []
    assert len(posts) == CRISES
    # The kill left work behind, which the survivors took over once the lease ran out.
    assert 0 < sent_by_victim < CRISES and after_lease > 0
    for number in range(0, CRISES, 97):
        (dm,) = emulator.dm_messages(owner(number))
        assert customer(number) in dm.text
        assert dm.metadata and dm.metadata["event_payload"]["key"].startswith("reminder:")

    engine = make_engine(database_url)
    with engine.connect() as connection:
        nags = Counter(connection.scalars(select(Crisis.nags_sent)))
        unsent = connection.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.sent_at.is_(None))
        )
        per_crisis = Counter(
            connection.scalars(select(Reminder.crisis_id).where(Reminder.kind == "overdue"))
        )
        nag_events = connection.scalar(
            select(func.count()).select_from(TimelineEvent).where(TimelineEvent.kind == "nag_sent")
        )
    engine.dispose()
    assert nags == {1: CRISES}
    assert unsent == 0
    assert len(per_crisis) == CRISES and set(per_crisis.values()) == {1}
    assert nag_events == CRISES
