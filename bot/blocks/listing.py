"""``/crisis list`` and ``/crisis status``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import messages
from bot.blocks.card import crisis_card, status_line
from bot.blocks.kit import Block, context, divider, section
from bot.db.models import Crisis, CustomerPromise, TimelineEvent
from bot.domain import SEVERITY_EMOJI
from bot.enums import TimelineKind
from bot.services.ledger import Tally
from bot.text import date_token, mention, mentions, safe

MAX_LISTED = 40
MAX_TIMELINE = 30
MAX_LEDGER = 30

_EVENT_LABELS: dict[TimelineKind, str] = {
    TimelineKind.DECLARED: "declared the crisis",
    TimelineKind.ACKNOWLEDGED: "acknowledged",
    TimelineKind.UPDATE: "posted an update",
    TimelineKind.SNOOZED: "snoozed reminders",
    TimelineKind.HEADS_UP_SENT: "heads-up sent",
    TimelineKind.NAG_SENT: "overdue reminder sent",
    TimelineKind.ESCALATED: "escalated",
    TimelineKind.OWNER_CHANGED: "handed over",
    TimelineKind.RESPONDER_ADDED: "added a responder",
    TimelineKind.RESPONDER_REMOVED: "removed a responder",
    TimelineKind.SEVERITY_CHANGED: "changed the severity",
    TimelineKind.KIND_CHANGED: "changed the kind",
    TimelineKind.CADENCE_CHANGED: "changed the cadence",
    TimelineKind.CLOSED: "closed the crisis",
    TimelineKind.REOPENED: "reopened the crisis",
    TimelineKind.FOLLOW_UP_SENT: "follow-up reminder sent",
    TimelineKind.CHECKED_IN: "checked in with the customer",
}


# Events whose detail is worth a line: what was said, and what changed to what.
_DETAILED = (
    TimelineKind.UPDATE,
    TimelineKind.CLOSED,
    TimelineKind.REOPENED,
    TimelineKind.RESPONDER_ADDED,
    TimelineKind.RESPONDER_REMOVED,
    TimelineKind.SEVERITY_CHANGED,
    TimelineKind.KIND_CHANGED,
)


def crisis_row(crisis: Crisis, now: datetime) -> Block:
    """One line per crisis: severity, customer, channel, owner, and when the update is due."""
    where = f"<#{crisis.channel_id}>" if crisis.channel_id else "_channel being set up_"
    return section(
        f"{SEVERITY_EMOJI.get(crisis.severity, '')} *{safe(crisis.customer, 80)}*"
        f" · {crisis.severity.upper()} · {where} · owner {mention(crisis.owner_id)}"
        f"\n{status_line(crisis, now)}"
    )


def list_blocks(crises: list[Crisis], *, now: datetime, mine: bool = False) -> list[Block]:
    """Open crises with owner, severity and next update due, overdue first."""
    if not crises:
        return [section(messages.no_open_crises_of_yours() if mine else messages.no_open_crises())]
    header = messages.list_mine_header if mine else messages.list_header
    blocks: list[Block] = [section(header(len(crises)))]
    blocks += [crisis_row(crisis, now) for crisis in crises[:MAX_LISTED]]
    if len(crises) > MAX_LISTED:
        blocks.append(context(f"…and {len(crises) - MAX_LISTED} more."))
    return blocks


def timeline_line(event: TimelineEvent) -> str:
    who = f"{mention(event.actor_id)} " if event.actor_id else ""
    label = _EVENT_LABELS.get(event.kind, event.kind)
    detail = ""
    if (
        event.kind in (TimelineKind.RESPONDER_ADDED, TimelineKind.RESPONDER_REMOVED)
        and event.detail
    ):
        detail = f": {mentions(event.detail.split(',')[:10])}"
    elif event.kind in _DETAILED and event.detail:
        detail = f": {safe(event.detail, 140)}"
    return f"{date_token(event.at)} · {who}{label}{detail}"


def ledger_blocks(promises: Sequence[CustomerPromise], *, now: datetime) -> list[Block]:
    """Every promise made to the customer (the last ``MAX_LEDGER``): made, due, how it ended."""
    if not promises:
        return [section(messages.ledger_header(0)), context(messages.no_promises_yet())]
    lines = [
        messages.ledger_line(p.made_at, p.due_at, p.outcome, p.told, p.late_seconds, now=now)
        for p in promises[-MAX_LEDGER:]
    ]
    blocks = [section(messages.ledger_header(len(promises)))]
    for start in range(0, len(lines), 10):
        blocks.append(context("\n".join(lines[start : start + 10])))
    if len(promises) > MAX_LEDGER:
        blocks.append(context(f"Showing the last {MAX_LEDGER} of {len(promises)} promises."))
    return blocks


def status_blocks(
    crisis: Crisis,
    *,
    now: datetime,
    ack_emoji: str,
    promises: Sequence[CustomerPromise] = (),
    tally: Tally | None = None,
) -> list[Block]:
    """The card without buttons, the promise ledger, then the timeline, newest last."""
    card = [
        b
        for b in crisis_card(crisis, now=now, ack_emoji=ack_emoji, promises=tally)
        if b["type"] != "actions"
    ]
    card += [divider(), *ledger_blocks(promises, now=now)]
    events = crisis.timeline[-MAX_TIMELINE:]
    lines = [timeline_line(e) for e in events]
    blocks = [*card, divider(), section("*Timeline*")]
    # A context block holds at most 10 elements; group lines to stay within limits.
    for start in range(0, len(lines), 10):
        blocks.append(context("\n".join(lines[start : start + 10])))
    if len(crisis.timeline) > MAX_TIMELINE:
        blocks.append(context(f"Showing the last {MAX_TIMELINE} of {len(crisis.timeline)} events."))
    return blocks
