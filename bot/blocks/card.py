"""The crisis card, the pinned commitment and the nag DM."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import messages
from bot.blocks.kit import Block, actions, button, context, fields, header, section
from bot.db.models import Account, Crisis
from bot.domain import KIND_LABELS, MAX_SECTION, SEVERITIES, SEVERITY_EMOJI
from bot.enums import CrisisKind, CrisisStatus
from bot.services.ledger import Tally
from bot.text import date_token, escape, mention, mentions, plain, safe, safe_marked

ACK = "crisis_ack"
OPEN_UPDATE = "crisis_open_update"
OPEN_CLOSE = "crisis_open_close"
SNOOZE = "nag_snooze"
OPEN_HAND_OVER = "nag_open_hand_over"
HELP = "escalation_help"
TAKE_OVER = "escalation_take_over"
CHECKED_IN = "follow_up_checked_in"
OPEN_REOPEN = "follow_up_open_reopen"
SEND_CHECK_IN = "follow_up_send_check_in"
# What a section shows at most.
SECTION_LIMIT = 3000


def card_text(crisis: Crisis) -> str:
    """Notification fallback for the card."""
    return (
        f"Crisis: {safe(crisis.customer, 100)} · {crisis.severity.upper()}"
        f" · owner {mention(crisis.owner_id)}"
    )


def status_line(crisis: Crisis, now: datetime) -> str:
    if crisis.status == CrisisStatus.CLOSED and crisis.closed_at:
        return f":white_check_mark: Resolved {date_token(crisis.closed_at)}"
    due = crisis.next_update_due_at
    if due is None:
        return "Setting up…"
    if now >= due:
        snooze = ""
        if crisis.snoozed_until and crisis.snoozed_until > now:
            snooze = f" (reminders snoozed until {date_token(crisis.snoozed_until)})"
        return f":rotating_light: *Update overdue* since {date_token(due)}{snooze}"
    return (
        ":hourglass_flowing_sand: Next update by"
        f" {messages.promised_time(due, crisis.promised_in_zone)}"
    )


def ack_context(crisis: Crisis, ack_emoji: str) -> str:
    if not crisis.acknowledgements:
        if crisis.status == CrisisStatus.CLOSED:
            return "Nobody acknowledged it before it closed."
        return f"Not acknowledged yet: react with :{ack_emoji}: or press *Acknowledge*."
    lines = [
        messages.ack_line(a.user_id, int((a.at - crisis.declared_at).total_seconds()))
        for a in crisis.acknowledgements
    ]
    return "Acknowledged by " + ", ".join(lines)


def account_context(account: Account, now: datetime) -> str:
    """The account's tier and the time where the customer is (at the card's last edit)."""
    try:
        local = now.astimezone(ZoneInfo(account.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return messages.card_account_line(account.tier, None)
    return messages.card_account_line(account.tier, f"{local:%H:%M} {local.tzname() or ''}".strip())


def promises_context(promises: Tally | None) -> str:
    """``Promises kept: 3 of 4 (one 12 min late)``; empty until one has ended."""
    if promises is None or not promises.ended:
        return ""
    return messages.promises_kept(promises.kept, promises.ended, promises.late, promises.most_late)


def crisis_card(
    crisis: Crisis, *, now: datetime, ack_emoji: str, promises: Tally | None = None
) -> list[Block]:
    """The card posted first in the crisis channel, edited in place as things happen;
    ``promises``: how the promises to the customer came out (counted by the database)."""
    emoji = SEVERITY_EMOJI.get(crisis.severity, "")
    blocks: list[Block] = [
        header(f"{plain(crisis.customer, 100)} · {KIND_LABELS.get(crisis.kind, crisis.kind)}"),
        fields(
            ("Customer", safe(crisis.customer, 200)),
            ("Severity", f"{emoji} {SEVERITIES[crisis.severity]}"),
            (
                "Kind",
                "Not set yet"
                if crisis.kind == CrisisKind.UNTRIAGED
                else KIND_LABELS.get(crisis.kind, crisis.kind),
            ),
            ("Owner", mention(crisis.owner_id)),
            ("Responders", mentions(crisis.responders[:20])),
            ("Status", status_line(crisis, now)),
        ),
    ]
    account_line = account_context(crisis.account, now) if crisis.account else ""
    if account_line:
        blocks.append(context(account_line))
    kept_line = promises_context(promises)
    if kept_line:
        blocks.append(context(kept_line))
    for label, text in (
        ("*What the customer experienced*\n", crisis.experienced),
        ("*What they expected*\n", crisis.expected),
    ):
        if text:
            # Typed text is at most MAX_FIELD; only escaping can make it longer than a section.
            blocks.append(section(label + safe_marked(text, MAX_SECTION - len(label))))
    blocks.append(context(ack_context(crisis, ack_emoji)))
    value = str(crisis.id)
    if crisis.status == CrisisStatus.CLOSED:
        blocks.append(context("Closed. `/crisis reopen` reopens it."))
    else:
        blocks.append(
            actions(
                button("Acknowledge", ACK, value, style="primary"),
                button("Post update", OPEN_UPDATE, value),
                button("Close", OPEN_CLOSE, value, style="danger"),
                block_id=f"card_{crisis.id}",
            )
        )
    return blocks


def commitment_blocks(crisis: Crisis, *, now: datetime) -> tuple[str, list[Block]]:
    """The pinned commitment: when the customer hears next, that it is overdue, or that it
    is resolved."""
    if crisis.status == CrisisStatus.CLOSED and crisis.closed_at:
        text = messages.commitment_resolved(crisis.customer, crisis.closed_at)
    else:
        assert crisis.next_update_due_at is not None
        if now >= crisis.next_update_due_at:
            text = messages.commitment_overdue(crisis.customer, crisis.next_update_due_at)
        else:
            text = messages.commitment(
                crisis.customer, crisis.next_update_due_at, crisis.promised_in_zone
            )
    return text, [section(text, block_id="commitment")]


def escalation_blocks(crisis: Crisis, text: str) -> list[Block]:
    """An escalation, with the two ways a teammate can step in."""
    value = str(crisis.id)
    return [
        section(text),
        actions(
            button("I'll help", HELP, value, style="primary"),
            button("Take over", TAKE_OVER, value),
        ),
    ]


def follow_up_blocks(crisis: Crisis, text: str, check_in: str | None = None) -> list[Block]:
    """The follow-up DM after closure: the check-in to send when the crisis has an account
    (``check_in``, previewed before it goes), record a check-in done another way, or reopen."""
    value = str(crisis.id)
    if check_in is None:
        return [
            section(text),
            actions(
                button("Checked in with the customer", CHECKED_IN, value, style="primary"),
                button("Reopen", OPEN_REOPEN, value),
            ),
        ]
    return [
        section(text),
        context(messages.check_in_suggested(crisis.customer)),
        section(escape(check_in)[:SECTION_LIMIT], block_id="check_in_text"),
        actions(
            button("Send check-in", SEND_CHECK_IN, value, style="primary"),
            button("I checked in", CHECKED_IN, value),
            button("Reopen", OPEN_REOPEN, value),
        ),
    ]


def done_blocks(text: str) -> list[Block]:
    """A reminder whose update is posted: what happened, and no buttons left to press."""
    return [section(text)]


def nag_blocks(crisis: Crisis, text: str, snooze_label: str) -> list[Block]:
    """A reminder DM with the three ways out: post, snooze, hand over."""
    value = str(crisis.id)
    return [
        section(text),
        actions(
            button("Post update", OPEN_UPDATE, value, style="primary"),
            button(snooze_label, SNOOZE, value),
            button("Hand over", OPEN_HAND_OVER, value),
        ),
    ]
