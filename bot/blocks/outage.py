"""One outage, many customers: its card, its pinned status, the broadcast preview, the copy
DMed to a CSM, and its forms (declare, broadcast, close)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import messages
from bot.blocks.card import ACK
from bot.blocks.kit import Block, actions, button, context, plain, section
from bot.blocks.telling import TOLD
from bot.db.models import Account, Outage
from bot.domain import DEFAULT_SEVERITY, MAX_FIELD, SEVERITIES
from bot.text import clip

if TYPE_CHECKING:
    from bot.services.outages import BroadcastPreview, Row

OPEN_BROADCAST = "outage_broadcast"
SEND_BROADCAST = "outage_broadcast_send"
OUTAGE_FORM = "declare_outage"
BROADCAST_FORM = "outage_broadcast_form"
CLOSE_FORM = "outage_close_form"
# The form's affected accounts: a multi-select type-ahead over the accounts.
ACCOUNT_SEARCH = "outage_account_search"
MAX_OPTIONS = 100
# Slack shows at most 50 blocks in a message; each section holds 3000 characters.
MAX_ROWS_SHOWN = 40


def outage_card(outage: Outage) -> tuple[str, list[Block]]:
    """The card at the top of the outage channel, with *Broadcast to customers*."""
    text = messages.outage_card(
        outage.title, outage.severity, outage.affected, outage.declared_by, outage.status
    )
    blocks: list[Block] = [section(text)]
    if outage.status != "closed":
        blocks.append(
            actions(
                button("Broadcast to customers", OPEN_BROADCAST, str(outage.id), style="primary"),
                block_id="outage_card",
            )
        )
    return text, blocks


def outage_status(outage: Outage, *, rows: list[Row], now: datetime) -> tuple[str, list[Block]]:
    """The pinned status: how many accounts are affected, told, overdue."""
    text = messages.outage_status_line(
        len(rows),
        sum(1 for row in rows if row.last_told is not None),
        sum(1 for row in rows if row.overdue),
        closed=outage.status == "closed",
    )
    return text, [section(text)]


def status_blocks(outage: Outage, rows: list[Row], *, now: datetime) -> list[Block]:
    """``/crisis status`` in the outage channel: a row per affected account."""
    blocks: list[Block] = [section(messages.outage_status_header(outage.title, len(rows)))]
    lines = [messages.outage_status_row(row, now=now) for row in rows]
    if not lines:
        blocks.append(context(messages.outage_no_accounts_yet()))
    chunk: list[str] = []
    for line in lines[: MAX_ROWS_SHOWN * 5]:
        if sum(len(item) + 1 for item in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks[:50]


def broadcast_preview_blocks(preview: BroadcastPreview) -> list[Block]:
    """One message as each language sees it, then every account and where its message goes,
    and *Send* (or, when something would leak, what to change)."""
    blocks: list[Block] = [section(messages.broadcast_preview_header(len(preview.destinations)))]
    seen: set[str] = set()
    for destination in preview.destinations:
        if destination.language in seen:
            continue
        seen.add(destination.language)
        blocks.append(context(messages.broadcast_as_seen_by(destination.account)))
        blocks.append(section(destination.text[:2900]))
    lines = [
        messages.broadcast_destination(d.account, d.channel, d.csm, d.leaks)
        for d in preview.destinations
    ]
    chunk: list[str] = []
    for line in lines:
        if sum(len(item) + 1 for item in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks = blocks[:48]
    if preview.leaks:
        blocks.append(context(messages.broadcast_fix_leaks()))
        return blocks
    blocks.append(
        actions(
            button(
                messages.broadcast_send_button(len(preview.destinations)),
                SEND_BROADCAST,
                str(preview.broadcast_id),
                style="primary",
            ),
            block_id="broadcast",
        )
    )
    return blocks


def told_copy_blocks(
    text: str, *, message_id: int | None = None, ack_crisis_id: int | None = None
) -> list[Block]:
    """A DM to a CSM: the text (a copy to send, or news of the outage) and its button."""
    blocks: list[Block] = [section(text[:2900])]
    if message_id is not None:
        blocks.append(actions(button("I sent it", TOLD, str(message_id)), block_id="copy"))
    if ack_crisis_id is not None:
        blocks.append(actions(button("Acknowledge", ACK, str(ack_crisis_id)), block_id="ack"))
    return blocks


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, 75), "value": value}


def account_options(found: list[Account]) -> list[dict[str, Any]]:
    """The affected-accounts type-ahead's options."""
    return [_option(str(account.id), account.name) for account in found[:MAX_OPTIONS]]


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }


def _text(max_length: int, *, multiline: bool = False, initial: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = clip(initial, max_length)
    return element


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], meta: Any) -> Any:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(meta)[:3000],
        "blocks": blocks,
    }


def outage_form(*, user_id: str, origin_channel_id: str) -> dict[str, Any]:
    """``/crisis outage`` alone: title, severity, what is affected, the affected accounts."""
    severities = [_option(key, label) for key, label in SEVERITIES.items()]
    blocks = [
        _input("title", "Title", _text(150)),
        _input(
            "severity",
            "Severity",
            {
                "type": "static_select",
                "action_id": "value",
                "options": severities,
                "initial_option": _option(DEFAULT_SEVERITY, SEVERITIES[DEFAULT_SEVERITY]),
            },
        ),
        _input("affected", "What is affected", _text(MAX_FIELD, multiline=True), optional=True),
        _input(
            "accounts",
            "Affected accounts",
            {
                "type": "multi_external_select",
                "action_id": ACCOUNT_SEARCH,
                "min_query_length": 0,
            },
            optional=True,
        ),
    ]
    meta = {"user": user_id, "origin": origin_channel_id}
    return _modal(OUTAGE_FORM, "Declare an outage", "Declare", blocks, meta)


def broadcast_form(*, outage_id: int) -> dict[str, Any]:
    """*Broadcast to customers*: what we are doing, for every affected customer."""
    blocks = [
        context(messages.broadcast_form_hint()),
        _input("text", "What we are doing", _text(2000, multiline=True)),
    ]
    return _modal(BROADCAST_FORM, "Broadcast", "Preview", blocks, {"outage": outage_id})


def close_form(
    *, outage_id: int, resolution: str, accounts: list[tuple[int, str]]
) -> dict[str, Any]:
    """Closing the outage: how it was resolved, and the accounts to leave open (every other
    linked crisis is closed, with a closing message to its customer)."""
    blocks: list[Block] = [
        _input(
            "resolution", "How it was resolved", _text(2000, multiline=True, initial=resolution)
        ),
    ]
    if accounts:
        blocks.append(
            _input(
                "leave_open",
                "Leave these accounts' crises open",
                {
                    "type": "multi_static_select",
                    "action_id": "value",
                    "options": [_option(str(i), name) for i, name in accounts[:MAX_OPTIONS]],
                },
                optional=True,
            )
        )
    blocks.append(context(messages.outage_close_hint(len(accounts))))
    return _modal(CLOSE_FORM, "Close the outage", "Close", blocks, {"outage": outage_id})
