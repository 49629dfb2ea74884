"""#5 One outage broadcast to many customers, Slack's limits on; then a SIGKILL halfway.

Of the affected accounts, half have a customer channel (a message posted there each) and half
do not (a copy DMed to their CSM, to send): a handful of CSMs each get a chain of copies in one
DM, which Slack takes at one message a second. That chain, and the workspace's few hundred
posts a minute, are the bound the limits set; the figure is the broadcast's time against it.
"""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import Child, Result, fmt_s, post_signed
from bot.services.outages import SENDERS
from sandbox import Emulator, start_emulator
from sandbox.faults import POST_PER_CHANNEL, POST_PER_WORKSPACE
from sandbox.models import Channel

BOT = "U0BOT"
LATENCY = 0.05


def run(*, quick: bool, window: float = 60.0) -> Result:
    count = 60 if quick else 200
    csms = 3 if quick else 5
    result = Result(
        "6 outage broadcast",
        f"one `/crisis broadcast` *Send* to {count} affected accounts ({count // 2} with a"
        f" customer channel, {count - count // 2} copies DMed to {csms} CSMs); emulator tiers"
        f" on, Slack's minute {window:g} s; Web API latency {LATENCY * 1000:.0f} ms; bot in a"
        " child process (SQLite)",
    )
    clean = _broadcast(count=count, csms=csms, window=window, kill=False)
    killed = _broadcast(count=count, csms=csms, window=window, kill=True)
    ratio = clean["seconds"] / clean["bound"] if clean["bound"] else math.nan
    result.add(
        "total time / bound the limits set",
        f"{clean['seconds']:.1f} s / {clean['bound']:.1f} s = {ratio:.2f}",
        "≤ 1.10",
        ratio <= 1.10,
    )
    result.add("time to the first customer's message", fmt_s(clean["first"]))
    result.add(
        "Web API calls per account (chat.postMessage)",
        f"{clean['calls'] / count:.2f} ({clean['posts'] / count:.2f})",
    )
    result.add(
        "429s from Slack (by method) / failures shown to a user",
        f"{clean['limited']} {clean['limited_by'] or ''} / {clean['failed']}",
        "0 shown",
        clean["failed"] == 0,
    )
    result.add(
        "accounts told / duplicates",
        f"{clean['told']}/{count} / {clean['duplicates']}",
        f"{count} / 0",
        clean["told"] == count and clean["duplicates"] == 0,
    )
    result.add(
        "SIGKILL halfway: told before kill / after resume / duplicates",
        f"{killed['before_kill']} / {killed['told']} / {killed['duplicates']}",
        f"{count} after resume, 0 duplicates",
        killed["told"] == count and killed["duplicates"] == 0,
    )
    result.add("resume: time / Slack lookups", f"{fmt_s(killed['seconds'])} / {killed['lookups']}")
    result.notes += [
        "Bound: the longest chain of messages to one conversation (a CSM's DM, n copies) takes"
        f" (n − 1) × {POST_PER_CHANNEL} message per {window / 60:g} s, and the workspace takes"
        f" {POST_PER_WORKSPACE} posts per {window:g} s (the emulator's own limits); the larger,"
        " plus one round trip. Measured from the signed *Send* to the broadcast's last message"
        " (the emulator's record of calls).",
        "Each account's message and key are stored before the first post; the messages go out"
        f" on {SENDERS} senders, one chain per conversation, longest first.",
        "The bot's rate limiter paces a conversation at 1.05 s (bot/ratelimit.py: a 50 ms"
        " margin on Slack's 1 s). Slack counts a post when it arrives, somewhere between its"
        " sending and its answer, so the limiter counts a post until its answer and then from"
        " the answer less the usual round trip: a post this shared machine delays on its way"
        " pushes the next one to that DM back by as much, instead of letting it land within"
        " Slack's second (a 429, and a Retry-After).",
        "SIGKILL halfway: the bot is killed once half the accounts are told; a new process runs"
        " the resume job (as the scheduler does every tick, its clock past the dead process's"
        " lease, CRISISBOT_LEASE). Duplicates are counted per key in every conversation.",
    ]
    return result


def _broadcast(*, count: int, csms: int, window: float, kill: bool) -> dict[str, Any]:
    """Seed an outage with ``count`` affected accounts, then *Send* its broadcast through a
    bot in a child process; with ``kill``, SIGKILL it halfway and resume in a new one."""
    emulator = start_emulator(rate_limit_window=window)
    try:
        return _on(emulator, count=count, csms=csms, window=window, kill=kill)
    finally:
        emulator.stop()


def _on(emulator: Emulator, *, count: int, csms: int, window: float, kill: bool) -> dict[str, Any]:
    emulator.set_rate_limits(False)
    emulator.set_latency(0.0)
    workdir = Path(tempfile.mkdtemp(prefix="crisisbot-bench-broadcast-"))
    db = workdir / "bot.db"
    tag = "K" if kill else "C"
    broadcast_id, outage_channel = _seed(emulator, db, count=count, csms=csms, tag=tag)
    emulator.set_rate_limits(True, window=window)
    emulator.set_latency(LATENCY)
    emulator.clear_calls()
    bot = _child(db, emulator, window)
    before_kill = 0
    try:
        port = int(bot.read_json()["port"])
        sent_at = time.time()
        status, _ = post_signed(port, _send_body(emulator, broadcast_id, outage_channel))
        assert status == 200, status
        deadline = time.time() + 600
        while time.time() < deadline:
            done = _done(db, broadcast_id)
            if kill and done >= count // 2:
                bot.process.kill()  # SIGKILL: no shutdown, nothing flushed
                bot.process.wait()
                before_kill = done
                break
            if not kill and _finished(db, broadcast_id):
                break
            time.sleep(0.05)
    finally:
        bot.stop()
    calls = emulator.calls
    seconds, lookups = 0.0, 0
    if kill:
        emulator.clear_calls()
        resumer = Child(
            [
                "resume",
                "--database-url",
                f"sqlite:///{db}",
                "--api-url",
                emulator.api_url,
                "--window",
                str(window),
            ]
        )
        try:
            seconds = float(resumer.read_json(timeout=600)["seconds"])
        finally:
            resumer.stop()
        lookups = len(emulator.calls_to("conversations.history"))
    posts = [c for c in calls if c.ok and c.method == "chat.postMessage"]
    last = max((c.at for c in posts), default=sent_at)
    chains = Counter(str(c.args.get("channel")) for c in posts)
    longest = max(chains.values(), default=1)
    bound = max(
        (longest - 1) * window / 60.0 / POST_PER_CHANNEL,
        math.floor((len(posts) - 1) / POST_PER_WORKSPACE) * window,
    )
    keys = _keys(emulator, broadcast_id)
    return {
        "seconds": seconds if kill else last - sent_at,
        "bound": bound + LATENCY,
        "calls": len(calls),
        "posts": len(posts),
        "limited": sum(1 for c in calls if c.status == 429),
        "limited_by": dict(
            Counter(
                f"{c.method} to a {_kind(str(c.args.get('channel')))}"
                for c in calls
                if c.status == 429
            )
        ),
        "failed": sum(1 for r in emulator.response_posts if ":warning:" in r.text),
        "told": len(keys),
        "duplicates": sum(n - 1 for n in keys.values()),
        "before_kill": before_kill,
        "lookups": lookups,
        "first": min((c.at for c in posts), default=sent_at) - sent_at,
    }


def _kind(channel: str) -> str:
    return "DM" if channel.startswith(("U", "W")) else "channel"


def _child(db: Path, emulator: Emulator, window: float) -> Child:
    return Child(
        [
            "serve",
            "--database-url",
            f"sqlite:///{db}",
            "--api-url",
            emulator.api_url,
            "--window",
            str(window),
        ]
    )


def _seed(emulator: Emulator, db: Path, *, count: int, csms: int, tag: str) -> tuple[int, str]:
    """Accounts, their channels and CSMs, an outage affecting them all and a broadcast held
    for *Send* (the emulator's limits off meanwhile)."""
    from bench.common import add_users
    from bot.config import load_settings
    from bot.db.migrate import upgrade
    from bot.db.session import make_engine, make_session_factory
    from bot.deps import Deps
    from bot.enums import Severity
    from bot.ratelimit import RateLimiter
    from bot.services import accounts, outages
    from bot.services.accounts import AccountRecord
    from bot.slack_gateway import SlackGateway, make_client

    url = f"sqlite:///{db}"
    upgrade(url)
    owners = add_users(emulator, csms, prefix=f"U0CSM{tag}")
    records = []
    ws = emulator.workspace
    for n in range(count):
        channel = None
        if n % 2 == 0:
            channel = f"C0CU{tag}{n:05d}"
            with ws.lock:
                ws.add_channel(
                    Channel(id=channel, name=f"customer-{tag}-{n}", created=0, creator="U0ANA")
                )
                ws.channels[channel].members.add(BOT)
        records.append(
            AccountRecord(
                name=f"Customer {tag}{n:04d}",
                csm_id=owners[n % csms],
                timezone=("Europe/Berlin", "Asia/Jerusalem", "America/New_York")[n % 3],
                language="he" if n % 5 == 0 else "en",
                customer_channel=channel,
            )
        )
    settings = load_settings(
        slack_bot_token="xoxb-sandbox",
        slack_signing_secret="bench-signing-secret",
        slack_api_url=emulator.api_url,
        database_url=url,
    )
    client = make_client(token="xoxb-sandbox", base_url=emulator.api_url, timeout=10)
    deps = Deps(
        settings=settings,
        session_factory=make_session_factory(make_engine(url)),
        slack=SlackGateway(client, limiter=RateLimiter(window=0.001)),
    )
    with deps.session_factory() as session:
        scope = deps.scope(session)
        accounts.upsert(session=session, records=records, now=scope.now)
        outage = outages.declare(
            scope, title=f"Exports down {tag}", severity=Severity.SEV1, declared_by="U0ANA"
        )
        found, _ = outages.find_accounts(session, [r.name for r in records])
        outages.add_affected(scope, outage=outage, found=found, actor_id="U0ANA")
        preview = outages.prepare_broadcast(
            scope, outage=outage, author_id="U0ANA", text="We are restoring exports."
        )
        assert outage.channel_id is not None
        return preview.broadcast_id, outage.channel_id


def _send_body(emulator: Emulator, broadcast_id: int, channel: str) -> str:
    """The signed *Send* press, as Slack posts it."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T0CRISIS", "domain": "acme-success"},
        "user": {"id": "U0ANA", "username": "ana", "team_id": "T0CRISIS"},
        "api_app_id": "A0CRISIS",
        "trigger_id": emulator.issue_trigger("U0ANA"),
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": ""},
        "response_url": emulator.new_response_url(channel, "U0ANA"),
        "actions": [
            {
                "type": "button",
                "action_id": "outage_broadcast_send",
                "block_id": "broadcast",
                "value": str(broadcast_id),
                "action_ts": str(time.time()),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def _done(db: Path, broadcast_id: int) -> int:
    with sqlite3.connect(db, timeout=10) as connection:
        row = connection.execute(
            "SELECT count(*) FROM outage_deliveries WHERE broadcast_id = ? AND done_at IS NOT NULL",
            (broadcast_id,),
        ).fetchone()
    return int(row[0])


def _finished(db: Path, broadcast_id: int) -> bool:
    with sqlite3.connect(db, timeout=10) as connection:
        row = connection.execute(
            "SELECT finished_at FROM outage_broadcasts WHERE id = ?", (broadcast_id,)
        ).fetchone()
    return row is not None and row[0] is not None


def _keys(emulator: Emulator, broadcast_id: int) -> Counter[str]:
    """How many times each account's message of the broadcast is in Slack (by its key)."""
    prefix = f"broadcast:{broadcast_id}:account:"
    found: Counter[str] = Counter()
    ws = emulator.workspace
    with ws.lock:
        for messages in ws.messages.values():
            for message in messages.values():
                key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
                if str(key).startswith(prefix):
                    found[str(key)] += 1
    return found
