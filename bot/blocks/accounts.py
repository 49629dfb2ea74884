"""``/crisis account``, ``/crisis accounts`` and the account form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot import messages
from bot.blocks.kit import Block, context, divider, fields, header, section
from bot.blocks.listing import crisis_row
from bot.blocks.modals import _input, _modal, _option, _text
from bot.db.models import Account, Crisis
from bot.domain import MAX_CUSTOMER, SEVERITIES
from bot.durations import format_duration
from bot.hours import DAY_NAMES, HOURS_HELP, TIMEZONE_HELP
from bot.services.accounts import (
    CADENCE_COLUMNS,
    DEFAULT_BUSINESS_HOURS,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    MAX_TEAM,
    MAX_TIER,
    CustomerTime,
)
from bot.services.ledger import Tally
from bot.text import mention, mentions, safe

ACCOUNT_FORM = "account_form"
MAX_LISTED = 100  # ten sections of ten lines: within a message's 50 blocks
LINES_PER_SECTION = 10
MAX_OPEN_SHOWN = 20


def customer_time_text(when: CustomerTime | None, account: Account) -> str:
    """``Tue 16:40 in Asia/Jerusalem, within business hours (Sun-Thu 08:30-17:30)``."""
    if when is None:
        return f"{safe(account.timezone, 64)}, {safe(account.business_hours, 80)}"
    opens = f"{DAY_NAMES[when.opens.weekday()]} {when.opens:%H:%M}" if when.opens else None
    return messages.account_local_time(
        DAY_NAMES[when.local.weekday()],
        f"{when.local:%H:%M}",
        when.zone,
        when.hours,
        open_now=when.open_now,
        opens=opens,
    )


def cadences_text(account: Account, defaults: Mapping[str, timedelta]) -> str:
    """Each severity's update cadence: as contracted, else the team's default."""
    lines = []
    for severity in SEVERITIES:
        seconds = account.contracted_cadence(severity)
        every = timedelta(seconds=seconds) if seconds else defaults[severity]
        lines.append(messages.account_cadence(severity, every, contracted=bool(seconds)))
    return "\n".join(lines)


def account_blocks(
    account: Account,
    *,
    now: datetime,
    when: CustomerTime | None,
    open_crises: Sequence[Crisis],
    recent: Sequence[Crisis],
    defaults: Mapping[str, timedelta],
    promises: Tally | None = None,
) -> list[Block]:
    """Everything the team needs about an account in a crisis, on one screen; ``promises``:
    how the promises made across its crises came out."""
    about = []
    if account.aliases:
        about.append("Also known as " + ", ".join(safe(a, 80) for a in account.aliases[:10]))
    about.append(f"Tier: {safe(account.tier, MAX_TIER)}" if account.tier else "No tier")
    blocks: list[Block] = [
        header(account.name),
        context(" · ".join(about)),
        fields(
            ("CSM", mention(account.csm_id) if account.csm_id else "none"),
            ("Account team", mentions(account.team[:20])),
            ("Their time", customer_time_text(when, account)),
            (
                "Language",
                f"{LANGUAGES.get(account.language, account.language)} ({account.language})",
            ),
            (
                "Customer channel",
                f"<#{account.customer_channel}>" if account.customer_channel else "none",
            ),
            ("Update cadences", cadences_text(account, defaults)),
        ),
    ]
    if promises is not None:
        blocks.append(
            section(
                messages.account_promise_record(
                    promises.on_time, promises.late, promises.broken, promises.crises
                )
            )
        )
    blocks.append(divider())
    if open_crises:
        blocks.append(section(f"*Open crises ({len(open_crises)})*"))
        blocks += [crisis_row(c, now) for c in open_crises[:MAX_OPEN_SHOWN]]
        if len(open_crises) > MAX_OPEN_SHOWN:
            blocks.append(
                context(f"…and {len(open_crises) - MAX_OPEN_SHOWN} more: `/crisis list`.")
            )
    else:
        blocks.append(section("*Open crises*\n:sunny: None."))
    if recent:
        lines = [
            messages.account_recent_crisis(
                c.channel_id, c.severity, c.declared_at, c.seconds_to_resolve
            )
            for c in recent
        ]
        blocks.append(section(f"*Last {len(recent)} closed*\n" + "\n".join(lines)))
    else:
        blocks.append(section("*Closed crises*\nNone yet."))
    blocks.append(
        context(
            f"Edit it with `/crisis account edit {safe(account.name, 80)}` (its CSM or an admin)."
        )
    )
    return blocks


def accounts_blocks(
    rows: Sequence[tuple[Account, int]], *, matching: str = "", any_accounts: bool = True
) -> list[Block]:
    """The accounts, a line each (name, tier, CSM, open crises), at most ``MAX_LISTED``."""
    if not rows:
        return [
            section(
                messages.no_accounts_matching(matching)
                if matching and any_accounts
                else messages.no_accounts()
            )
        ]
    lines = [
        messages.account_line(account.name, account.tier, account.csm_id, count)
        for account, count in rows[:MAX_LISTED]
    ]
    blocks: list[Block] = [section(messages.accounts_header(len(rows), matching=matching))]
    for start in range(0, len(lines), LINES_PER_SECTION):
        blocks.append(section("\n".join(lines[start : start + LINES_PER_SECTION])))
    if len(rows) > MAX_LISTED:
        blocks.append(context(messages.accounts_more(len(rows) - MAX_LISTED)))
    return blocks


def account_modal(
    *,
    cells: Mapping[str, str],
    account_id: int | None,
    origin_channel_id: str | None,
    defaults: Mapping[str, timedelta],
) -> dict[str, Any]:
    """Every column of the CSV as a form; ``cells`` are the account's (empty to add one)."""
    languages = [_option(code, f"{label} ({code})") for code, label in LANGUAGES.items()]
    language = cells.get("language") or DEFAULT_LANGUAGE
    csm: dict[str, Any] = {"type": "users_select", "action_id": "value"}
    if cells.get("csm"):
        csm["initial_user"] = cells["csm"]
    team: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": "value",
        "max_selected_items": MAX_TEAM,
    }
    if cells.get("team"):
        team["initial_users"] = [u for u in cells["team"].split(";") if u]
    name = cells.get("name", "")
    intro = (
        f"Editing *{safe(name, 80)}*. The same fields as `crisisbot accounts import`."
        if account_id is not None
        else "A new account. The same fields as `crisisbot accounts import`."
    )
    blocks: list[Block] = [
        context(intro),
        _input(
            "name",
            "Name",
            _text("value", max_length=MAX_CUSTOMER, initial=name, placeholder="Acme Corp"),
        ),
        _input(
            "aliases",
            "Other names",
            _text(
                "value", max_length=1000, initial=cells.get("aliases"), placeholder="Acme;ACME Inc"
            ),
            optional=True,
            hint="Names the team also types for them, separated by ;",
        ),
        _input(
            "tier",
            "Tier",
            _text("value", max_length=MAX_TIER, initial=cells.get("tier"), placeholder="strategic"),
            optional=True,
        ),
        _input("csm", "CSM", csm, optional=True),
        _input("team", "Account team", team, optional=True),
        _input(
            "timezone",
            "Time zone",
            _text(
                "value", max_length=64, initial=cells.get("timezone"), placeholder="Europe/London"
            ),
            hint=f"The customer's: {TIMEZONE_HELP}.",
        ),
        _input(
            "business_hours",
            "Business hours",
            _text(
                "value",
                max_length=80,
                initial=cells.get("business_hours") or DEFAULT_BUSINESS_HOURS,
            ),
            hint=f"In their time zone: {HOURS_HELP}.",
        ),
        _input(
            "language",
            "Language",
            {
                "type": "static_select",
                "action_id": "value",
                "options": languages,
                "initial_option": next(
                    (o for o in languages if o["value"] == language), languages[0]
                ),
            },
            hint="The language we write to the customer in.",
        ),
        _input(
            "customer_channel",
            "Customer channel id",
            _text(
                "value",
                max_length=32,
                initial=cells.get("customer_channel"),
                placeholder="C0123ABCD",
            ),
            optional=True,
            hint="The channel shared with the customer: its id is at the bottom of the channel's"
            " details.",
        ),
    ]
    for severity, column in zip(SEVERITIES, CADENCE_COLUMNS, strict=True):
        blocks.append(
            _input(
                column,
                f"{severity.upper()} update cadence",
                _text("value", max_length=20, initial=cells.get(column), placeholder="30m"),
                optional=True,
                hint=f"As contracted, such as 15m or 2h. Empty: the team's default,"
                f" every {format_duration(defaults[severity])}.",
            )
        )
    title = "Edit account" if account_id is not None else "Add an account"
    metadata = {"account_id": account_id, "origin_channel_id": origin_channel_id}
    return _modal(ACCOUNT_FORM, title, "Save", blocks, metadata)
