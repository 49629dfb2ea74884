"""SIGKILL ``crisisbot run`` at random points of a crisis lifecycle and at each step of a
declaration, restart it, and audit Slack (the emulator) and the database."""

from __future__ import annotations

import contextlib
import http.client
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.db.models import Acknowledgement, Crisis, Reminder, StatusUpdate, TimelineEvent
from bot.db.session import make_engine
from sandbox import Emulator, start_emulator
from sandbox.workspace import Message
from scheduler.senders import SENDER_THREADS
from tests.reliability.support import (
    BotProcess,
    base_env,
    declare_by_form,
    free_port,
    reaction_event,
    slash,
    start_bot,
)

# Real durations, short: a whole lifecycle with heads-up, nags, escalation and follow-up in ~30 s.
FAST = {
    "CRISISBOT_CADENCE_SEV1": "6s",
    "CRISISBOT_REMINDER_LEAD": "3s",
    "CRISISBOT_NAG_EVERY": "3s",
    "CRISISBOT_ESCALATE_AFTER": "6s",
    "CRISISBOT_FOLLOW_UP": "5s",
    "CRISISBOT_TICK": "1s",
    "CRISISBOT_ANNOUNCE_CHANNEL": "C0CRISES",
    "CRISISBOT_ESCALATION_CHANNEL": "C0ESCAL",
    # The leases (20 s) shrunk: a killed bot's work is taken over by the next start quickly.
    "CRISISBOT_LEASE": "4s",
    "CRISISBOT_HEARTBEAT": "1s",
}
BOT = "U0BOT"
OWNER = "U0ANA"
RESPONDER = "U0BEN"


@dataclass
class Supervisor:
    """One bot at a time on a fixed port; kills and restarts it on demand."""

    env: dict[str, str]
    logdir: Path
    port: int = field(default_factory=free_port)
    processes: list[BotProcess] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def current(self) -> BotProcess:
        return self.processes[-1]

    def start(self) -> BotProcess:
        with self.lock:
            name = f"bot{len(self.processes)}"
            self.processes.append(start_bot(name, self.env, self.logdir, port=self.port))
            return self.processes[-1]

    def kill(self) -> None:
        with self.lock:
            if self.processes and self.current.alive():
                self.current.kill()
                self.kills.append(time.time())

    def close(self) -> None:
        with self.lock:
            for process in self.processes:
                if process.alive():
                    process.kill()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator() as emulator:
        yield emulator


@pytest.fixture
def supervisor(emulator: Emulator, tmp_path: Path) -> Iterator[Supervisor]:
    env = base_env(emulator, f"sqlite:///{tmp_path / 'bot.db'}", **FAST)
    supervisor = Supervisor(env, tmp_path)
    try:
        yield supervisor
    finally:
        supervisor.close()


def until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(0.2)


def attempt(send: Callable[[], object]) -> None:
    """Send a request to whichever bot is up; a dead or starting one just misses it."""
    with contextlib.suppress(OSError):
        send()


def crisis_row(engine: Engine, customer: str) -> Crisis | None:
    with Session(engine) as session:
        return session.scalars(select(Crisis).where(Crisis.customer == customer)).first()


def step(
    name: str,
    send: Callable[[], object],
    done: Callable[[], object],
    *,
    retry_after: float = 6.0,
    timeout: float = 90.0,
) -> None:
    """Do ``send`` until ``done``: a person who saw nothing happen tries again."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{name} never took effect"
        attempt(send)
        try:
            until(done, retry_after, name)
        except TimeoutError:
            continue


def bot_messages(emulator: Emulator, channel: str | None) -> list[Message]:
    if channel is None:
        return []
    return [m for m in emulator.messages(channel) if m.user == BOT]


def key_of(message: Message) -> str | None:
    payload = (message.metadata or {}).get("event_payload") or {}
    return payload.get("key")


def audit(emulator: Emulator, engine: Engine, customer: str) -> dict[str, int]:
    """Everything Slack shows for one crisis, against the database; returns counts."""
    with Session(engine) as session:
        crisis = session.scalars(select(Crisis).where(Crisis.customer == customer)).one()
        reminders = list(session.scalars(select(Reminder).where(Reminder.crisis_id == crisis.id)))
        timeline = Counter(
            session.scalars(select(TimelineEvent.kind).where(TimelineEvent.crisis_id == crisis.id))
        )
        updates = list(
            session.scalars(select(StatusUpdate).where(StatusUpdate.crisis_id == crisis.id))
        )
        acks = list(
            session.scalars(select(Acknowledgement).where(Acknowledgement.crisis_id == crisis.id))
        )
        session.expunge_all()
    slug = customer.lower().replace(" ", "-")
    with emulator.workspace.lock:
        channels = [
            c.id
            for c in emulator.workspace.channels.values()
            if not c.is_im and c.name.startswith("crisis-") and slug in c.name
        ]
    assert channels == [crisis.channel_id], f"one channel per crisis, got {channels}"
    assert crisis.channel_id is not None
    in_channel = bot_messages(emulator, crisis.channel_id)
    dms = emulator.dm_messages(OWNER)
    announced = [
        m
        for m in bot_messages(emulator, "C0CRISES")
        if slug in m.text.lower() or customer in m.text
    ]
    escalations = [m for m in bot_messages(emulator, "C0ESCAL") if customer in m.text]
    prefixes = (f"crisis:{crisis.id}:", *(f"reminder:{r.id}:" for r in reminders))
    mine = [m for m in dms if (key_of(m) or "").startswith(prefixes)]
    everything = in_channel + announced + escalations + mine
    # No message twice: by its key where it has one, by its text otherwise.
    seen = Counter(key_of(m) or m.text for m in everything)
    assert [k for k, n in seen.items() if n > 1] == [], "duplicate bot messages"
    keys = {key_of(m) for m in everything}
    for part in ("card", "commitment", "announcement"):
        assert f"crisis:{crisis.id}:{part}" in keys, f"{part} missing"
    # The owner declared it: told by the reply, or by one DM when a restarted bot finished
    # the declaration (or never recorded the reply).
    replied = [
        p
        for p in emulator.response_posts
        if p.user == OWNER and f"declared in <#{crisis.channel_id}>" in p.text
    ]
    assert replied or f"crisis:{crisis.id}:owner" in keys, "the owner was never told"
    (pin,) = emulator.pins(crisis.channel_id)
    assert key_of(pin) == f"crisis:{crisis.id}:commitment"
    assert crisis.card_ts and crisis.commitment_ts and crisis.commitment_pinned
    # Every reminder the outbox says went out is in Slack exactly once; nothing else is.
    parts = {"heads_up": ["dm"], "overdue": ["dm"], "follow_up": ["dm"]}
    parts["escalation"] = ["escalation", "note", "dm"]
    sent = [r for r in reminders if r.sent_at is not None]
    for reminder in sent:
        for part in parts[reminder.kind]:
            assert f"reminder:{reminder.id}:{part}" in keys, f"{reminder.kind} {reminder.id}"
    # A reminder posted by a bot killed before recording it, whose crisis then moved on
    # (an update came in), stays unsent in the outbox: its message went out once, and counts.
    posted = {k.split(":")[1] for k in keys if k and k.startswith("reminder:")}
    assert posted <= {str(r.id) for r in reminders}
    kinds = Counter(r.kind for r in reminders if str(r.id) in posted)
    # The heads-up is a courtesy before an update is due (one per commitment): a bot that was
    # down for the whole lead (3 s here, a kill and a slow restart) rightly skips it and nags
    # instead. Whether that happens depends on the machine's speed, so the audit does not count
    # on one; that none went out twice is checked against the timeline below. The overdue nag,
    # the escalation and the follow-up must all be there.
    # An update is a new commitment with a heads-up of its own (a person who closes more than
    # the lead after updating gets it, rightly): one heads-up per commitment, at most.
    heads_ups = Counter(
        (r.version, r.due_at) for r in reminders if r.kind == "heads_up" and str(r.id) in posted
    )
    assert [k for k, n in heads_ups.items() if n > 1] == [], heads_ups
    # The declaration's commitment is version 0 (an update, a closure or a hand-over bumps it).
    first_heads_up = sum(n for (version, _), n in heads_ups.items() if version == 0)
    assert kinds["overdue"] >= 1, kinds
    assert kinds["escalation"] >= 1 and kinds["follow_up"] == 1, kinds
    # The timeline tells the same story: one of each step, one line per reminder sent.
    assert timeline["declared"] == 1 and timeline["acknowledged"] == 1
    assert timeline["update"] == 1 and timeline["closed"] == 1
    assert timeline["follow_up_sent"] == 1
    for kind, event in (("overdue", "nag_sent"), ("heads_up", "heads_up_sent")):
        assert timeline[event] <= kinds[kind] <= timeline[event] + 1, (kind, timeline, kinds)
    assert timeline["escalated"] <= kinds["escalation"] <= timeline["escalated"] + 1
    assert len(updates) == 1 and len(acks) == 1
    if updates[0].message_ts:
        assert sum(1 for m in in_channel if "Status update" in m.text) == 1
    assert crisis.status == "closed" and crisis.follow_up_sent_at is not None
    retried = sum(1 for r in reminders if r.attempts > 1)
    unshown = sum(1 for u in updates if u.message_ts is None)
    return {
        "reminders": len(posted),
        "messages": len(everything),
        "retried": retried,
        "unshown": unshown,
        "heads_up": first_heads_up,
        "heads_ups": kinds["heads_up"],
        "declared_at": int(crisis.declared_at.timestamp() * 1000),
    }


def up_intervals(supervisor: Supervisor) -> list[tuple[float, float]]:
    """When each bot was sweeping: from its first tick's readiness (the claim token in its
    log, written just before the scheduler starts) to its SIGKILL, or the end."""
    intervals = []
    for number, process in enumerate(supervisor.processes):
        line = next((ln for ln in process.log().splitlines() if "claiming work as" in ln), None)
        if line is None:
            continue  # killed before it was ready
        # The log's local time, read back as local time.
        started = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        ended = supervisor.kills[number] if number < len(supervisor.kills) else float("inf")
        intervals.append((started.timestamp(), ended))
    return intervals


def lifecycle(supervisor: Supervisor, emulator: Emulator, engine: Engine, customer: str) -> None:
    """Declare, acknowledge by reaction, let it go overdue and escalate, update, close,
    get the follow-up; each step retried until it has taken effect, as a person would."""

    def row() -> Crisis | None:
        return crisis_row(engine, customer)

    def declare() -> None:
        if row() is None:  # once recorded, the bot finishes it by itself
            slash(
                supervisor.current,
                emulator,
                f"new {customer}: dashboards empty sev1",
                channel="C0GENERAL",
            )

    step("declare", declare, lambda: (c := row()) and c.status == "open", retry_after=8)
    crisis = row()
    assert crisis is not None and crisis.channel_id and crisis.card_ts
    channel, card = crisis.channel_id, crisis.card_ts
    emulator.add_reaction(RESPONDER, channel, card, "eyes")
    reacted = [False]

    def acknowledge() -> None:
        if not reacted[0]:
            reacted[0] = True
            reaction_event(
                supervisor.current, user=RESPONDER, channel=channel, ts=card, name="eyes"
            )
        else:  # Slack does not send the event again; the responder types /crisis ack
            slash(supervisor.current, emulator, "ack", user=RESPONDER, channel=channel)

    def acked() -> bool:
        with Session(engine) as session:
            return session.scalars(select(Acknowledgement)).first() is not None

    step("ack", acknowledge, acked)
    until(lambda: (c := row()) and c.escalated_at, 60, "escalation")

    def updated() -> bool:
        with Session(engine) as session:
            return session.scalars(select(StatusUpdate)).first() is not None

    step(
        "update",
        lambda: slash(
            supervisor.current,
            emulator,
            "update Root cause found, fix rolling out",
            channel=channel,
        ),
        updated,
    )
    step(
        "close",
        lambda: slash(
            supervisor.current, emulator, "close Cache fixed, customer confirmed", channel=channel
        ),
        lambda: (c := row()) and c.status == "closed",
    )
    until(lambda: (c := row()) and c.follow_up_sent_at, 60, "follow-up")


@pytest.mark.parametrize("seed", [7, 2024])
def test_sigkill_at_random_points_loses_and_repeats_nothing(
    seed: int, supervisor: Supervisor, emulator: Emulator, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    offsets: list[float] = []
    while len(offsets) < 6:
        offset = rng.uniform(1.0, 20.0)
        if all(abs(offset - other) > 2.5 for other in offsets):
            offsets.append(offset)
    offsets.sort()
    downtimes = [rng.uniform(0.0, 1.5) for _ in offsets]
    supervisor.start().wait_healthy()
    engine = make_engine(supervisor.env["DATABASE_URL"])
    finished = threading.Event()
    began = time.monotonic()

    def killer() -> None:
        for offset, down in zip(offsets, downtimes, strict=True):
            if finished.wait(max(0.0, began + offset - time.monotonic())):
                return
            supervisor.kill()
            time.sleep(down)
            supervisor.start()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        lifecycle(supervisor, emulator, engine, f"Killco {seed}")
    finally:
        finished.set()
        thread.join(timeout=30)
    time.sleep(3)  # a duplicate would show up now
    supervisor.close()
    counts = audit(emulator, engine, f"Killco {seed}")
    engine.dispose()
    # The first heads-up is due 3 s before the first update (cadence 6 s, lead 3 s). A bot sweeping
    # through that whole window sends it, once; with no bot up in it, the overdue nag says it
    # instead. Only a window a kill or a restart cut into may go either way.
    window = (counts["declared_at"] / 1000 + 3.0, counts["declared_at"] / 1000 + 6.0)
    intervals = up_intervals(supervisor)
    covered = any(start <= window[0] and end >= window[1] for start, end in intervals)
    touched = any(start < window[1] and end > window[0] for start, end in intervals)
    expected = {1} if covered else ({0, 1} if touched else {0})
    assert counts["heads_up"] in expected, (counts["heads_up"], window, intervals)
    first_kill = supervisor.kills[0] if supervisor.kills else float("inf")
    resumed = [
        c
        for c in emulator.calls_to("chat.postMessage")
        if c.ok and c.at > first_kill and "reminder:" in str(c.args.get("metadata", ""))
    ]
    print(
        f"\nseed {seed}: {len(supervisor.kills)} SIGKILLs at {[round(o, 1) for o in offsets]} s,"
        f" {len(supervisor.processes) - 1} restarts, {counts['reminders']} reminders,"
        f" {counts['messages']} bot messages, {counts['retried']} reminders retried after a kill,"
        f" {len(resumed)} reminders after the first kill,"
        f" lifecycle {time.monotonic() - began:.1f} s, duplicates 0,"
        f" updates recorded but never shown (known bug): {counts['unshown']},"
        f" heads-up {counts['heads_up']} (window {'covered' if covered else 'cut'}),"
        f" {counts['heads_ups'] - counts['heads_up']} after the update"
    )
    assert supervisor.kills, "no kill happened during the lifecycle"
    assert resumed, "no reminder went out after a restart"


def declare_killed_after(
    kill_when: Callable[[dict[str, Any]], bool],
) -> Callable[[Supervisor, Emulator], None]:
    """Arrange for the bot to be SIGKILLed the moment Slack has done one declaration step."""

    def arm(supervisor: Supervisor, emulator: Emulator) -> None:
        fired = threading.Event()

        def watch(event: dict[str, Any]) -> None:
            if not fired.is_set() and kill_when(event):
                fired.set()
                supervisor.kill()  # before Slack's answer reaches the bot

        emulator.workspace.subscribe(watch)

    return arm


def keyed(part: str) -> Callable[[dict[str, Any]], bool]:
    def match(event: dict[str, Any]) -> bool:
        payload = (event.get("metadata") or {}).get("event_payload") or {}
        return event.get("type") == "message" and str(payload.get("key", "")).endswith(part)

    return match


KILL_POINTS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "channel created": lambda e: (
        e.get("type") == "channel_created"
        and str(e["channel"].get("name", "")).startswith("crisis-")
    ),
    "card posted": keyed(":card"),
    "commitment pinned": lambda e: e.get("type") == "pin_added",
    "owner told": keyed(":owner"),
}
# What the database had not recorded yet when the bot died: the step Slack had just done.
UNRECORDED: dict[str, Callable[[Crisis], bool]] = {
    "channel created": lambda c: c.channel_id is None,
    "card posted": lambda c: c.card_ts is None,
    "commitment pinned": lambda c: not c.commitment_pinned,
    "owner told": lambda c: not c.owner_told,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_declaration_killed_midway_is_completed_by_the_next_start(
    point: str, supervisor: Supervisor, emulator: Emulator
) -> None:
    supervisor.start().wait_healthy()
    engine = make_engine(supervisor.env["DATABASE_URL"])
    declare_killed_after(KILL_POINTS[point])(supervisor, emulator)
    customer = "Halfway " + point.split()[0].title()
    if point == "owner told":
        # Only an owner named by someone else is told by DM; one who declares is told in reply.
        declare_by_form(
            supervisor.current,
            customer=customer,
            experienced="checkout fails",
            owner=OWNER,
            user="U0BEN",
            channel="C0GENERAL",
        )
    else:
        # The kill can land before the acknowledgement's bytes are on the wire: Slack then
        # shows the person a timeout, and the next start finishes the declaration all the same.
        with contextlib.suppress(http.client.RemoteDisconnected, ConnectionResetError):
            slash(
                supervisor.current,
                emulator,
                f"new {customer}: checkout fails sev1",
                channel="C0GENERAL",
            )
    until(lambda: supervisor.kills, 10, "the kill")
    half = crisis_row(engine, customer)
    assert half is not None and half.status == "declaring" and UNRECORDED[point](half)
    supervisor.start().wait_healthy()
    until(lambda: (c := crisis_row(engine, customer)) and c.status == "open", 30, "resumed")
    time.sleep(1.5)
    crisis = crisis_row(engine, customer)
    assert crisis is not None and crisis.channel_id
    slug = customer.lower().replace(" ", "-")
    with emulator.workspace.lock:
        names = [c.name for c in emulator.workspace.channels.values() if slug in c.name]
    assert len(names) == 1 and not names[0].endswith("-2"), names
    messages = bot_messages(emulator, crisis.channel_id)
    keys = Counter(key_of(m) for m in messages)
    assert keys == {f"crisis:{crisis.id}:card": 1, f"crisis:{crisis.id}:commitment": 1}
    assert len(emulator.pins(crisis.channel_id)) == 1
    owner_dms = [m for m in emulator.dm_messages(OWNER) if key_of(m) == f"crisis:{crisis.id}:owner"]
    assert len(owner_dms) == 1
    members = emulator.workspace.channels[crisis.channel_id].members
    assert {OWNER, BOT} <= members
    engine.dispose()


def test_an_update_recorded_before_a_crash_is_still_posted(
    supervisor: Supervisor, emulator: Emulator
) -> None:
    supervisor.start().wait_healthy()
    engine = make_engine(supervisor.env["DATABASE_URL"])
    slash(supervisor.current, emulator, "new Paced Corp: reports late sev2", channel="C0GENERAL")
    until(lambda: (c := crisis_row(engine, "Paced Corp")) and c.status == "open", 10, "open")
    crisis = crisis_row(engine, "Paced Corp")
    assert crisis is not None and crisis.channel_id
    channel = crisis.channel_id

    def recorded() -> int:
        with Session(engine) as session:
            return len(list(session.scalars(select(StatusUpdate))))

    # Two updates at once: the second post waits ~1 s for the channel's posting slot.
    for text in ("update First: cause found", "update Second: fix deployed"):
        slash(supervisor.current, emulator, text, channel=channel)

    def shown() -> list[str]:
        return [m.text for m in bot_messages(emulator, channel) if "Status update" in m.text]

    until(lambda: recorded() == 2 and len(shown()) == 1, 5, "both recorded, one posted")
    supervisor.kill()  # the other post is still waiting for its slot
    assert len(shown()) == 1, "the kill came after both posts; nothing to show"
    supervisor.start().wait_healthy()
    # The sweep finishes it once the resume wait (4 s here) has passed since it was recorded.
    until(lambda: len(shown()) >= 2, 20, "the recorded update posted after the restart")
    time.sleep(2)  # a duplicate would arrive now
    engine.dispose()
    assert len(shown()) == 2


# --- failover: replicas on PostgreSQL, one stopped while first nags fall due -----------------

FAILOVER_CRISES = 60
# Production leases (20 s, renewed every 5 s); first nags 20 s after each declaration, no
# heads-up, nothing else due meanwhile; Slack's per-minute pacing on a 6 s "minute" so 60
# channels are made in seconds (tier 2 allows 20 a minute).
FAILOVER = {
    "CRISISBOT_TICK": "1s",
    "CRISISBOT_CADENCE_SEV1": "20s",
    "CRISISBOT_REMINDER_LEAD": "0",
    "CRISISBOT_NAG_EVERY": "10m",
    "CRISISBOT_ESCALATE_AFTER": "10m",
    "TEST_RATE_WINDOW": "6",
}
OVERDUE = "has not been posted"


def csm(number: int) -> str:
    return f"U9K{number:05d}"


@dataclass
class Failover:
    """What a failover run measured."""

    lateness: list[float]  # each first nag: seconds from due to Slack having it
    held: int  # crises the stopped replica held when it was stopped
    failover: float  # seconds from the stop until the last of those was taken over
    duplicates: int
    lost: int


def run_failover(
    postgres_admin_url: str, emulator: Emulator, logdir: Path, *, sigterm: bool
) -> Failover:
    """Two replicas; 60 crises declared, half through each; the replica that sends the 30th
    first nag is stopped (SIGKILL, or SIGTERM) the instant Slack has that nag, before its
    answer reaches the replica. Returns what Slack and the database show afterwards."""
    from bot.db.migrate import upgrade
    from sandbox.workspace import User
    from tests.postgres import fresh_database
    from tests.reliability.support import bots

    for number in range(FAILOVER_CRISES):
        emulator.workspace.add_user(
            User(id=csm(number), name=f"csm{number}", real_name=f"CSM {number}", team_id="T0CRISIS")
        )
    database_url = fresh_database(postgres_admin_url)
    upgrade(database_url)
    env = base_env(emulator, database_url, **FAILOVER)
    engine = make_engine(database_url)
    with bots() as started:
        for name in ("replica0", "replica1"):
            started.append(start_bot(name, env, logdir))
        for process in started:
            process.wait_healthy()
        by_token = {token_of(p): p for p in started}
        stopped: list[tuple[BotProcess, float]] = []
        nags_seen: list[str] = []
        one_at_a_time = threading.Lock()  # Slack answers the replicas on several threads

        def watch(event: dict[str, Any]) -> None:
            if event.get("type") != "message" or OVERDUE not in event.get("text", ""):
                return
            with one_at_a_time:
                stop_if_due(event)

        def stop_if_due(event: dict[str, Any]) -> None:
            key = str(((event.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
            nags_seen.append(key)
            if stopped or len(nags_seen) < FAILOVER_CRISES // 2:
                return
            with Session(engine) as session:
                reminder = session.get(Reminder, int(key.split(":")[1]))
                assert reminder is not None
                victim = by_token[reminder.claimed_by]
            stopped.append((victim, time.time()))
            if sigterm:
                victim.popen.send_signal(signal.SIGTERM)
            else:
                victim.kill()

        emulator.workspace.subscribe(watch)
        for number in range(FAILOVER_CRISES):
            slash(
                started[number % 2],
                emulator,
                f"new Failover {number:02d}: checkout down sev1",
                user=csm(number),
                channel="C0GENERAL",
            )
        until(lambda: stopped, 120, "the stop")
        victim, stopped_at = stopped[0]
        victim_token = token_of(victim)
        # What the stopped replica held: work under way (a claim clears when it is done).
        with Session(engine) as session:
            held = set(session.scalars(select(Crisis.id).where(Crisis.claimed_by == victim_token)))
        taken: dict[int, float] = {}

        def all_taken() -> bool:
            with Session(engine) as session:
                for crisis in session.scalars(select(Crisis).where(Crisis.id.in_(held))):
                    if crisis.id not in taken and crisis.claimed_by != victim_token:
                        taken[crisis.id] = time.time()
            return len(taken) == len(held)

        until(all_taken, 120, "the stopped replica's work taken over")

        def all_nagged() -> bool:
            with Session(engine) as session:
                return (
                    session.scalar(
                        select(func.count()).select_from(Crisis).where(Crisis.nags_sent >= 1)
                    )
                    == FAILOVER_CRISES
                )

        until(all_nagged, 120, "every first nag")
        time.sleep(2)  # a duplicate would arrive now
        survivor = next(p for p in started if p is not victim)
        assert survivor.alive()
        if sigterm:
            assert victim.popen.wait(timeout=30) == 0
            assert "gave back" in victim.log()
        assert "Traceback" not in survivor.log()
        assert survivor.stop() == 0

    with Session(engine) as session:
        due = {
            c.owner_id: c.next_update_due_at
            for c in session.scalars(select(Crisis))
            if c.next_update_due_at is not None
        }
        statuses = Counter(c.status for c in session.scalars(select(Crisis)))
    engine.dispose()
    assert statuses == {"open": FAILOVER_CRISES}
    first_nags: dict[str, list[float]] = {}
    for call in emulator.calls_to("chat.postMessage"):
        if call.ok and OVERDUE in str(call.args.get("text", "")):
            first_nags.setdefault(str(call.args["channel"]), []).append(call.at)
    lateness = [
        min(times) - due[owner].timestamp() for owner, times in first_nags.items() if owner in due
    ]
    return Failover(
        lateness=lateness,
        held=len(held),
        failover=max((at - stopped_at for at in taken.values()), default=0.0),
        duplicates=sum(len(times) - 1 for times in first_nags.values()),
        lost=FAILOVER_CRISES - len(first_nags),
    )


def token_of(process: BotProcess) -> str:
    """The token a replica claims work with, from its start-up log."""
    line = until(
        lambda: next((ln for ln in process.log().splitlines() if "claiming work as" in ln), None),
        30,
        "the claim token in the log",
    )
    return str(line.rsplit(" ", 1)[1])


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_stopped_replicas_work_is_taken_over_within_30_s_and_done_once(
    how: str, postgres_admin_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    run = run_failover(postgres_admin_url, emulator, tmp_path, sigterm=how == "SIGTERM")
    worst = max(run.lateness)
    print(
        f"\n{how}: {FAILOVER_CRISES} crises on 2 replicas; the stopped one held {run.held};"
        f" taken over within {run.failover:.1f} s; first nags late by at most {worst:.1f} s"
        f" (median {sorted(run.lateness)[len(run.lateness) // 2]:.1f} s);"
        f" duplicates {run.duplicates}, lost {run.lost}"
    )
    assert run.duplicates == 0 and run.lost == 0
    assert len(run.lateness) == FAILOVER_CRISES
    # It held at least the nag Slack had just taken, unrecorded: found by its key, not resent.
    assert run.held >= 1
    # Killed: taken over within one lease (20 s) and a tick, not the minutes a fixed lease
    # took. Stopped cleanly: it finishes the sends it had started and gives back the rest at
    # once, so nothing waits for a lease.
    assert run.failover <= (20 if how == "SIGTERM" else 30)
    assert worst <= 30


@pytest.mark.postgres
def test_a_replica_stopped_cleanly_gives_back_the_work_it_had_not_started(
    postgres_admin_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    """60 nags fall due at once on one replica (32 sender threads: the rest wait their turn);
    SIGTERM it the instant Slack has its first nag, Slack answering no nag until it stops. It
    finishes the sends under way, gives back the claims it had not started on, and a second
    replica sends those at once, not after the 20 s lease."""
    from sqlalchemy import insert

    from bot.db.migrate import upgrade
    from sandbox.workspace import User
    from tests.postgres import fresh_database

    for number in range(FAILOVER_CRISES):
        emulator.workspace.add_user(
            User(id=csm(number), name=f"csm{number}", real_name=f"CSM {number}", team_id="T0CRISIS")
        )
    database_url = fresh_database(postgres_admin_url)
    upgrade(database_url)
    env = base_env(emulator, database_url, **FAILOVER)
    engine = make_engine(database_url)
    first = start_bot("first", env, tmp_path)
    second: BotProcess | None = None
    try:
        first.wait_healthy()
        due = datetime.now(UTC) + timedelta(seconds=3)
        with engine.begin() as connection:
            connection.execute(
                insert(Crisis),
                [
                    {
                        "customer": f"Drained {number:02d}",
                        "kind": "service_outage",
                        "severity": "sev1",
                        "status": "open",
                        "declared_by": csm(number),
                        "owner_id": csm(number),
                        "responders": [],
                        "cadence_seconds": 1800,
                        "channel_id": f"C9D{number:05d}",
                        "channel_name": f"crisis-drained-{number:02d}",
                        "commitment_pinned": True,
                        "owner_told": True,
                        "declared_at": due - timedelta(minutes=30),
                        "committed_at": due - timedelta(minutes=30),
                        "next_update_due_at": due,
                        "next_check_at": due,
                    }
                    for number in range(FAILOVER_CRISES)
                ],
            )
        stopped: list[float] = []
        lock = threading.Lock()

        def watch(event: dict[str, Any]) -> None:
            if event.get("type") != "message" or OVERDUE not in event.get("text", ""):
                return
            with lock:
                if not stopped:
                    stopped.append(time.time())
                    first.popen.send_signal(signal.SIGTERM)
            # Slack holds every answer until the replica is stopping: its sender threads are
            # all mid-send, and the nags still waiting for a thread cannot start meanwhile.
            until(lambda: "no new sends" in first.log(), 10, "the replica stopping")

        emulator.workspace.subscribe(watch)
        until(lambda: stopped, 30, "the first nag")
        assert first.popen.wait(timeout=30) == 0
        gave_back = int(
            next(ln for ln in first.log().splitlines() if "gave back" in ln).split()[-5]
        )
        second = start_bot("second", env, tmp_path)

        def nagged() -> int:
            with Session(engine) as session:
                return int(
                    session.scalar(
                        select(func.count()).select_from(Crisis).where(Crisis.nags_sent == 1)
                    )
                    or 0
                )

        until(lambda: nagged() == FAILOVER_CRISES, 60, "every nag")
        done = time.time()
        time.sleep(2)  # a duplicate would arrive now
        assert second.stop() == 0
    finally:
        for process in (first, second):
            if process is not None and process.alive():
                process.kill()
        engine.dispose()
    per_owner = Counter(
        str(call.args["channel"])
        for call in emulator.calls_to("chat.postMessage")
        if call.ok and OVERDUE in str(call.args.get("text", ""))
    )
    with_second = sum(
        1 for line in (second.log() if second else "").splitlines() if ": overdue sent" in line
    )
    print(
        f"\nSIGTERM with {FAILOVER_CRISES} nags due at once: {gave_back} claims given back;"
        f" the second replica sent {with_second}; all done {done - stopped[0]:.1f} s after the"
        f" SIGTERM (second replica start-up included); duplicates"
        f" {sum(n - 1 for n in per_owner.values())}, lost {FAILOVER_CRISES - len(per_owner)}"
    )
    assert set(per_owner.values()) == {1} and len(per_owner) == FAILOVER_CRISES
    # At most 32 sends (one per sender thread) were under way when it stopped; the other 28
    # at least were never started, and went to the second replica.
    assert gave_back >= FAILOVER_CRISES - SENDER_THREADS and with_second == gave_back
    # Not one lease (20 s) after the last renewal: given back, taken at the second's first tick.
    assert done - stopped[0] < 20
