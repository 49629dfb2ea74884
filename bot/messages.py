"""Every sentence the bot says. Calm, specific, focused on the customer and the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import KIND_LABELS, MAX_CUSTOMER, SEVERITIES
from bot.durations import format_duration
from bot.enums import CrisisKind, PromiseOutcome, PromiseTold, Severity, Subcommand
from bot.text import date_token, escape, local_time, mention, mentions, safe, safe_marked

if TYPE_CHECKING:
    from bot.customer.guard import Leak
    from bot.services.outages import Row

USAGE: dict[Subcommand, str] = {
    Subcommand.NEW: (
        "`/crisis new <customer>: <what happened> [sev1|sev2|sev3|sev4]`,"
        " or `/crisis new` for the form"
    ),
    Subcommand.UPDATE: "`/crisis update <what changed and what happens next>`",
    Subcommand.TELL: "`/crisis tell <what the customer should know>`",
    Subcommand.CLOSE: "`/crisis close <how it was resolved>`",
    Subcommand.OWNER: "`/crisis owner @someone`",
    Subcommand.ADD: "`/crisis add @someone [@someone…]`",
    Subcommand.REMOVE: "`/crisis remove @someone [@someone…]`",
    Subcommand.EVERY: "`/crisis every <duration>`, for example `/crisis every 30m`",
    Subcommand.SEVERITY: "`/crisis severity sev1|sev2|sev3|sev4`",
    Subcommand.KIND: "`/crisis kind <kind>`, for example `/crisis kind service outage`",
    Subcommand.ACK: "`/crisis ack`",
    Subcommand.STATUS: "`/crisis status`",
    Subcommand.REOPEN: "`/crisis reopen <why>`",
    Subcommand.LIST: "`/crisis list`, or `/crisis list mine` for yours",
    Subcommand.ACCOUNT: (
        "`/crisis account <name>`, `/crisis account edit <name>` or `/crisis account add`"
    ),
    Subcommand.ACCOUNTS: "`/crisis accounts`, or `/crisis accounts <part of a name>`",
    Subcommand.REPORT: "`/crisis report [7d|30d|90d]` (30d when not said)",
    Subcommand.HELP: "`/crisis help`",
    Subcommand.OUTAGE: (
        "`/crisis outage <title> [sev1|sev2|sev3|sev4]`, or `/crisis outage` for the form"
    ),
    Subcommand.AFFECTED: "`/crisis affected <account>[, <account>…]`",
    Subcommand.UNAFFECTED: "`/crisis unaffected <account>`",
    Subcommand.SPLIT: "`/crisis split <account>`",
    Subcommand.BROADCAST: "`/crisis broadcast <what we are doing>`",
}


def help_text(ack_emoji: str = "eyes") -> str:
    return "\n".join(
        [
            "*crisisbot* helps you run a customer crisis calmly: respond fast, tell the customer"
            " *when* they will hear from you next, and close every loose end.",
            "",
            "*Anywhere*",
            f"• {USAGE[Subcommand.NEW]}: declare a crisis and open its channel",
            f"• {USAGE[Subcommand.LIST]}: open crises, overdue first",
            "• `/crisis account <name>`: the account: its CSM and team, the customer's local"
            " time and business hours, the contracted cadences, its open and last crises",
            f"• {USAGE[Subcommand.ACCOUNTS]}: the accounts, with their CSM and open crises",
            "• `/crisis account edit <name>` or `/crisis account add`: the account's form",
            f"• {USAGE[Subcommand.REPORT]}: how we kept our promises to customers, how fast we"
            " acknowledged and resolved, by owner, account, tier, kind and severity (only you"
            " see it)",
            f"• {USAGE[Subcommand.HELP]}: this message",
            "",
            "*In a crisis channel*",
            f"• {USAGE[Subcommand.UPDATE]}: post a status update and renew the commitment",
            f"• {USAGE[Subcommand.TELL]}: preview a message for the customer, then send it to"
            " their channel (or copy it) and renew the commitment",
            f"• {USAGE[Subcommand.ACK]}: acknowledge"
            f" (or react with :{ack_emoji}: on the crisis card)",
            f"• {USAGE[Subcommand.OWNER]}: hand the crisis over",
            f"• {USAGE[Subcommand.ADD]}: add responders (invited to the channel)",
            f"• {USAGE[Subcommand.REMOVE]}: remove responders",
            f"• {USAGE[Subcommand.EVERY]}: change how often the customer gets an update",
            f"• {USAGE[Subcommand.SEVERITY]}: change the severity (and the update cadence with it)",
            f"• {USAGE[Subcommand.KIND]}: change the kind of crisis",
            f"• {USAGE[Subcommand.CLOSE]}: close it and schedule a check-in with the customer",
            f"• {USAGE[Subcommand.STATUS]}: the card and the timeline",
            f"• {USAGE[Subcommand.REOPEN]}: reopen a closed crisis",
            "",
            "*One outage, many customers*",
            f"• {USAGE[Subcommand.OUTAGE]}: declare an outage and open its channel",
            "In the outage channel:",
            f"• {USAGE[Subcommand.AFFECTED]}: add affected accounts (each gets its crisis,"
            " owned by its CSM, told by DM)",
            f"• {USAGE[Subcommand.UNAFFECTED]}: an account is not affected after all",
            f"• {USAGE[Subcommand.SPLIT]}: give an account its own crisis channel",
            f"• {USAGE[Subcommand.BROADCAST]}: preview the outage message for every affected"
            " customer, in their language, then send it (or the *Broadcast to customers* button)",
            "• `/crisis status`: a row per account: CSM, acknowledged, last told, next promise",
            "• `/crisis close <how it was resolved>`: close the outage and its accounts' crises",
            "",
            "*Who may do what*",
            "• Anyone on the team can declare, list and acknowledge.",
            "• A crisis's owner, its responders and crisisbot admins can post updates, close,"
            " reopen, hand over, change the cadence and snooze its reminders.",
            "• An account's CSM and crisisbot admins can edit it; crisisbot admins add accounts.",
            "• People from another organisation in a shared channel can't use `/crisis`.",
        ]
    )


def usage_error(problem: str, command: Subcommand) -> str:
    return f":warning: {problem}\nUsage: {USAGE[command]}"


def unknown_subcommand(word: str, *, suggestion: Subcommand | None = None) -> str:
    if suggestion:
        return (
            f":warning: I don't know `{escape(word[:40])}`. Did you mean `/crisis {suggestion}`?"
            f"\nUsage: {USAGE.get(suggestion, '`/crisis help`')}"
        )
    return (
        f":warning: I don't know `{escape(word[:40])}`. Try `/crisis new`, `/crisis update`,"
        " `/crisis close`, `/crisis list` or `/crisis help`."
    )


def bad_severity(word: str, *, command: Subcommand = Subcommand.NEW) -> str:
    """A severity that is not one of ours, in ``/crisis new`` or ``/crisis severity``."""
    valid = ", ".join(f"`{s}`" for s in SEVERITIES)
    shown = f"`{escape(word[:40])}` is not a severity I know." if word else "Say which severity."
    default = ", or leave it out for sev2" if command == Subcommand.NEW else ""
    return (
        f":warning: {shown} Pick one of {valid} (sev1 is the most critical){default}."
        f"\nUsage: {USAGE[command]}"
    )


def customer_too_long(length: int) -> str:
    return (
        f"The customer's name is {length:,} characters; at most {MAX_CUSTOMER} fit on the card,"
        " in the messages and in the channel name. Use the name the team knows them by."
    )


def account_name_too_long(length: int) -> str:
    return f"That name is {length:,} characters; an account's name is at most {MAX_CUSTOMER}."


def text_too_long(what: str, length: int, limit: int, *, where: str = "in one block") -> str:
    """``what`` is capitalised: "The summary", "The update"…"""
    return (
        f"{what} is {length:,} characters; Slack shows at most {limit:,} {where}."
        " Shorten it, or post the detail as a message in the crisis channel."
    )


def bad_duration(problem: str) -> str:
    return f":warning: {escape(problem)}\nUsage: {USAGE[Subcommand.EVERY]}"


def bad_kind(text: str, labels: list[str]) -> str:
    shown = f"I don't know the kind `{escape(text[:60])}`." if text else "Say which kind."
    return f":warning: {shown} Pick one of: {', '.join(labels)}.\nUsage: {USAGE[Subcommand.KIND]}"


def bad_report_period(text: str, periods: Sequence[str]) -> str:
    """``/crisis report`` with a period that is not one of ``periods``."""
    choices = ", ".join(f"`{period}`" for period in periods)
    return (
        f":warning: I don't know the period `{escape(text[:40])}`. Say one of {choices}"
        f" (days back from now).\nUsage: {USAGE[Subcommand.REPORT]}"
    )


def not_in_crisis_channel(command: Subcommand) -> str:
    return (
        f":warning: `/crisis {command}` works inside a crisis channel, and this is not one."
        " Open the crisis channel (see `/crisis list`) and run it there."
    )


def crisis_closed(what: str) -> str:
    return f":warning: This crisis is closed, so I can't {what}. Use `/crisis reopen` first."


def not_allowed(action: str, owner_id: str, responders: list[str], admins: list[str]) -> str:
    """A refusal naming everyone who may: ``admins`` are the configured user and group ids."""
    people = [f"the owner ({mention(owner_id)})"]
    if responders:
        people.append(f"the responders ({mentions(responders[:10])})")
    if admins:
        people.append(f"crisisbot admins ({', '.join(_admin(a) for a in admins[:10])})")
    who = people[0] if len(people) == 1 else ", ".join(people[:-1]) + " and " + people[-1]
    return (
        f":lock: Only {who} can {action} this crisis. Ask {mention(owner_id)} to add you as a"
        " responder or to hand it over with `/crisis owner`."
    )


def account_edit_not_allowed(account: str | None, csm_id: str | None, admins: list[str]) -> str:
    """Who may edit an account (its CSM and the admins) or add one (``account`` None: admins)."""
    named = ", ".join(_admin(a) for a in admins[:10])
    if account is None:
        if not admins:
            return (
                ":lock: Only crisisbot admins can add accounts, and none are set"
                " (`CRISISBOT_ADMINS`). Ask whoever runs crisisbot to set them, or to import"
                " your CRM's CSV with `crisisbot accounts import`."
            )
        return f":lock: Only crisisbot admins ({named}) can add accounts. Ask one of them."
    who = [f"its CSM ({mention(csm_id)})"] if csm_id else []
    if admins:
        who.append(f"crisisbot admins ({named})")
    if not who:
        return (
            f":lock: *{safe(account, 80)}* has no CSM and no crisisbot admins are set"
            " (`CRISISBOT_ADMINS`), so nobody can edit it here. Ask whoever runs crisisbot, or"
            " import the change with `crisisbot accounts import`."
        )
    ask = mention(csm_id) if csm_id else "one of them"
    return f":lock: Only {' and '.join(who)} can edit *{safe(account, 80)}*. Ask {ask}."


def _admin(admin_id: str) -> str:
    # A user group shows as its handle (@cs-leads); only the reader sees a refusal.
    return f"<!subteam^{admin_id}>" if admin_id.startswith("S") else mention(admin_id)


def external_user() -> str:
    return (
        ":lock: crisisbot's commands are for the team running the crisis. If something is"
        " wrong, say it in this channel and the team will pick it up."
    )


def guest_user() -> str:
    return (
        ":lock: crisisbot's commands are for the team running the crisis, and guests can't use"
        " them. If something is wrong, tell the person who invited you and the team will pick"
        " it up."
    )


_TEAM_ROLES = {
    "own": "own a crisis",
    "respond": "respond to a crisis",
    "csm": "be an account's CSM",
    "team": "be on an account's team",
}


def not_a_teammate(
    name: str,
    *,
    guest: bool,
    organisation: str | None,
    role: Literal["own", "respond", "csm", "team"],
) -> str:
    """Why someone can't own or respond to a crisis (or look after an account); plain text,
    as a form's field error too."""
    who = (
        f"{escape(name)} is a guest"
        if guest
        else f"{escape(name)} is from {escape(organisation or 'another organisation')}"
    )
    return f"{who}: only your team can {_TEAM_ROLES[role]}."


def crisis_gone() -> str:
    return ":warning: I can't find that crisis any more. See `/crisis list`."


def crisis_already_open() -> str:
    return ":information_source: This crisis is already open; nothing to reopen."


def slack_failed(error: str, *, crisis_id: int | None = None) -> str:
    ref = f" (crisis #{crisis_id})" if crisis_id else ""
    return (
        f":warning: Slack refused a step{ref}: `{escape(error)}`. Everything already recorded"
        " is kept; try again in a moment, and if it persists ask your Slack admin."
    )


def slack_unavailable(error: str, waited: timedelta, *, crisis_id: int | None = None) -> str:
    """Slack kept answering 429, 5xx or not at all for the whole retry budget."""
    waited_for = format_duration(waited) if waited.total_seconds() >= 1 else "a while"
    if crisis_id:
        return (
            f":hourglass: Slack has not been answering for {waited_for} (`{escape(error)}`),"
            f" so crisis #{crisis_id} is not finished yet. Everything already recorded is kept,"
            " and I'll finish the rest on my own once Slack answers again: nothing for you to do."
        )
    return (
        f":hourglass: Slack has not been answering for {waited_for} (`{escape(error)}`), so I"
        " couldn't do that. Nothing already recorded is lost; try again in a few minutes."
    )


def identity_unchecked(error: str) -> str:
    return (
        f":warning: I couldn't check with Slack who you are (`{escape(error)}`), so I did"
        " nothing. Try again in a moment."
    )


def unexpected_failure() -> str:
    return (
        ":warning: Something went wrong on my side. Nothing already recorded is lost;"
        " please try again, and tell the crisisbot maintainers if it keeps happening."
    )


# Declaring


def declaring(customer: str) -> str:
    return f":rotating_light: Declaring a crisis for *{safe(customer, 80)}*… opening its channel."


def declared(
    customer: str,
    channel_id: str,
    due: datetime,
    *,
    lead: timedelta | None = None,
    owner_id: str | None = None,
    zone: str | None = None,
) -> str:
    """The reply to a declaration; with ``lead`` the declarer owns it and this is their brief,
    with ``owner_id`` someone else owns it and has been told by DM."""
    where = f":white_check_mark: Crisis for *{safe(customer, 80)}* declared in <#{channel_id}>."
    if owner_id is not None:
        return (
            f"{where} {mention(owner_id)} owns it and has been told;"
            f" {safe(customer, 80)} has been promised an update by {promised_time(due, zone)}."
        )
    text = f"{where} You have promised the next update by {promised_time(due, zone)}."
    if lead is None:
        return text
    return f"{text}{_reminder_promise(lead)}\n{OWNER_VOICE}"


def experienced_missing() -> str:
    return "Write what the customer experienced, in their words."


def already_open(customer: str, channel_id: str | None, owner_id: str) -> str:
    where = f"<#{channel_id}>" if channel_id else "a channel being opened right now"
    return (
        f":information_source: *{safe(customer, 80)}* already has an open crisis: {where}"
        f" (owner {mention(owner_id)}). If this is the same problem, join it there. If it is a"
        " separate one, declare a second crisis. Nothing is declared until you choose."
    )


def held_declaration_gone() -> str:
    return ":warning: I can't find that declaration any more. Declare it again with `/crisis new`."


def already_declared_anyway(customer: str, channel_id: str | None) -> str:
    where = f" in <#{channel_id}>" if channel_id else "; its channel is being opened"
    return f":information_source: The second crisis for *{safe(customer, 80)}* is declared{where}."


def did_you_mean(typed: str, account_name: str) -> str:
    return (
        f":mag: No account is called *{safe(typed, 80)}*. Did you mean"
        f" *{safe(account_name, 80)}*? Nothing is declared until you choose."
    )


def new_customer(typed: str) -> str:
    """A choice that declares for a customer the team keeps no account for."""
    return f"New customer: {typed}"


def already_declared(customer: str, channel_id: str | None) -> str:
    where = f" in <#{channel_id}>" if channel_id else "; its channel is being opened"
    return f":information_source: The crisis for *{safe(customer, 80)}* is already declared{where}."


def declared_account_gone() -> str:
    return (
        ":warning: I can't find that account any more (it was removed). Declare it again with"
        " `/crisis new`."
    )


def card_account_line(tier: str, local: str | None) -> str:
    """The card's line about the customer's account: its tier, the time where they are."""
    parts = [safe(tier[:1].upper() + tier[1:], 60)] if tier else []
    if local:
        parts.append(f"customer's time {local}")
    return " · ".join(parts)


def not_a_crisis(links: list[tuple[str, str]]) -> str:
    lines = [
        ":raising_hand: Sounds like a question or a request rather than a crisis, so I have"
        " not opened anything. These usually answer it fastest:"
    ]
    lines += [f"• <{url}|{escape(title)}>" for title, url in links]
    lines.append("If it turns out to be a crisis after all, declare it with `/crisis new`.")
    return "\n".join(lines)


def channel_topic(
    customer: str,
    severity: Severity,
    owner_name: str,
    *,
    due: datetime | None,
    closed_at: datetime | None,
    zone: tzinfo,
) -> str:
    # Topics are plain text: date tokens do not render there, so write times in the team's
    # zone (CRISISBOT_TIMEZONE), with its abbreviation.
    if closed_at is not None:
        when = f"closed at {local_time(closed_at, zone)}"
    elif due is not None:
        when = f"next update {local_time(due, zone)}"
    else:
        when = "setting up"
    # Angle brackets are what make mentions; a customer's name never needs them.
    name = customer.replace("<", "‹").replace(">", "›")
    return f"{name} · {severity.upper()} · owner {owner_name} · {when}"


def promised_time(due: datetime, zone: str | None = None) -> str:
    """When an update is promised, in each reader's time; with ``zone`` (the customer's), the
    promise was moved to their next business opening, and this says so in their time."""
    token = date_token(due)
    try:
        local = due.astimezone(ZoneInfo(zone)) if zone else None
    except (ZoneInfoNotFoundError, ValueError):
        local = None
    if local is None:
        return token
    return f"{token} ({local:%A %H:%M} their time: the next business morning)"


def commitment(customer: str, due: datetime, zone: str | None = None) -> str:
    return (
        f":hourglass_flowing_sand: *Next update to {safe(customer, 80)} by"
        f" {promised_time(due, zone)}*"
        "\nThe owner posts it with `/crisis update`; I will remind them before it is due."
    )


def commitment_overdue(customer: str, due: datetime) -> str:
    return (
        f":rotating_light: *Update to {safe(customer, 80)} overdue since {date_token(due)}*"
        "\nThe owner posts it with `/crisis update`: a short holding update now is better than"
        " a perfect one later."
    )


def commitment_resolved(customer: str, closed_at: datetime) -> str:
    return (
        f":white_check_mark: *Resolved* {date_token(closed_at)}. No further update is promised to"
        f" {safe(customer, 80)}. If it comes back, `/crisis reopen` restarts the clock."
    )


OWNER_VOICE = "Listen first, say when they will hear next, and keep it about the outcome."


def _reminder_promise(lead: timedelta) -> str:
    if lead:
        return f" I will remind you {format_duration(lead)} before it is due."
    return " I will remind you when it is due."


def owner_commitment_dm(
    customer: str,
    channel_id: str,
    due: datetime,
    lead: timedelta,
    *,
    declared_by: str | None = None,
    zone: str | None = None,
    as_csm: bool = False,
) -> str:
    """The owner's brief by DM; ``declared_by`` when someone else declared it and named them
    (``as_csm``: it named them because they are the account's CSM)."""
    when = promised_time(due, zone)
    if declared_by is not None and as_csm:
        opening = (
            f":rotating_light: {mention(declared_by)} declared a crisis for"
            f" *{safe(customer, 80)}* (<#{channel_id}>); you own it as the account's CSM."
            f" {safe(customer, 80)} has been promised an update by {when}."
        )
    elif declared_by is not None:
        opening = (
            f":rotating_light: {mention(declared_by)} declared a crisis for"
            f" *{safe(customer, 80)}* (<#{channel_id}>) and named you owner;"
            f" {safe(customer, 80)} has been promised an update by {when}."
        )
    else:
        opening = (
            f":rotating_light: You own the crisis for *{safe(customer, 80)}* (<#{channel_id}>)."
            f"\nYou have promised them the next update by {when}."
        )
    return f"{opening}{_reminder_promise(lead)}\n{OWNER_VOICE}"


def announcement(
    customer: str,
    severity: Severity,
    kind: CrisisKind,
    channel_id: str,
    owner_id: str,
    ack_emoji: str = "eyes",
) -> str:
    what = "crisis" if kind == CrisisKind.UNTRIAGED else KIND_LABELS[kind].lower()
    later = " (kind not set yet)" if kind == CrisisKind.UNTRIAGED else ""
    return (
        f":rotating_light: *{SEVERITIES[severity]}* {what} for *{safe(customer, 80)}*{later}:"
        f" <#{channel_id}>, owner {mention(owner_id)}."
        f" React with :{ack_emoji}: to acknowledge and join the channel."
    )


# Acknowledging


def acknowledged(seconds: int) -> str:
    return (
        f":eyes: Acknowledged, thank you. Recorded {_ago(seconds)} after the crisis was declared."
    )


def ack_closed() -> str:
    return (
        ":information_source: This crisis is closed, so there is nothing to acknowledge and I"
        " have recorded nothing. If it is back, `/crisis reopen` in its channel reopens it."
    )


def joined_from_announcement(channel_id: str) -> str:
    return f":eyes: You're in: <#{channel_id}>. Your acknowledgement is on the crisis card."


def already_acknowledged(at: datetime) -> str:
    return f":information_source: You already acknowledged this crisis {date_token(at)}."


def _ago(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return format_duration(timedelta(seconds=seconds))


def ack_line(user_id: str, seconds: int) -> str:
    return f"{mention(user_id)} in {_ago(seconds)}"


# The promise ledger


def promises_kept(kept: int, ended: int, late: int, most_late: int) -> str:
    """The card's line: ``Promises kept: 3 of 4 (one 12 min late)``."""
    if late == 1:
        how = f" (one {_ago(most_late)} late)"
    elif late > 1:
        how = f" ({late} late, by up to {_ago(most_late)})"
    else:
        how = ""
    return f"Promises kept: {kept} of {ended}{how}"


_TOLD = {PromiseTold.TEAM: "told the team", PromiseTold.CUSTOMER: "told the customer"}


def ledger_line(
    made_at: datetime,
    due_at: datetime,
    outcome: PromiseOutcome | None,
    told: PromiseTold | None,
    late_seconds: int | None,
    *,
    now: datetime,
) -> str:
    """One promise in ``/crisis status``: when it was made, when it was due, how it ended."""
    start = f"Made {date_token(made_at)} · due {date_token(due_at)} · "
    said = f", {_TOLD[told]}" if told else ""
    if outcome == PromiseOutcome.KEPT:
        return f"{start}:white_check_mark: kept on time{said}"
    if outcome == PromiseOutcome.LATE:
        return f"{start}:warning: kept {_ago(late_seconds or 0)} late{said}"
    if outcome == PromiseOutcome.BROKEN:
        return f"{start}:x: broken: {_ago(late_seconds or 0)} overdue when the crisis closed"
    if now >= due_at:
        return f"{start}:rotating_light: still owed, overdue"
    return f"{start}:hourglass_flowing_sand: still owed"


def ledger_header(count: int) -> str:
    return f"*Promises to the customer ({count})*"


def no_promises_yet() -> str:
    return "No promise made yet."


# Updates


def update_posted(author_id: str, body: str, due: datetime, zone: str | None = None) -> str:
    return (
        f":mega: *Status update* from {mention(author_id)}\n{body}"
        f"\n_Next update by {promised_time(due, zone)}._"
    )


def update_body(what_happened: str, doing: str, next_steps: str) -> str:
    parts = [
        ("What happened", what_happened),
        ("What we are doing", doing),
        ("Next steps", next_steps),
    ]
    return "\n".join(
        f"*{label}:* {safe_marked(text, 900)}" for label, text in parts if text.strip()
    )


QUOTE_SHORTENED = " … _(shortened; the whole message is in the channel)_"


def update_quoted(
    author_id: str, quoted: str, by: str, due: datetime, zone: str | None = None
) -> str:
    quote = "\n".join(
        "> " + line for line in safe_marked(quoted, 2600, note=QUOTE_SHORTENED).splitlines() or [""]
    )
    return (
        f":mega: *Status update* by {mention(author_id)}, marked by {mention(by)}\n{quote}"
        f"\n_Next update by {promised_time(due, zone)}._"
    )


def update_recorded(due: datetime, zone: str | None = None) -> str:
    return (
        f":white_check_mark: Update posted. The next one is promised by {promised_time(due, zone)}."
    )


def tell_the_customer_too(customer: str, channel_id: str) -> str:
    """Under an update's reply, when the account has a customer channel."""
    return (
        f"That update is for the team. To tell *{safe(customer, 100)}* in <#{channel_id}>:"
        " `/crisis tell <what they should know>` (you see it before it goes)."
    )


def tell_empty() -> str:
    return usage_error("Say what the customer should know.", Subcommand.TELL)


def tell_preview_header(customer: str) -> str:
    return f":speech_balloon: *Preview: what {safe(customer, 100)} will see*"


def customer_message_hint() -> str:
    """Under the update form's message for the customer."""
    return (
        "Optional. Untouched, it says what we are doing and the next steps you wrote above;"
        " I add when they will hear from us next, and you see it before it goes. Empty it"
        " to tell only the team."
    )


def internal_note_hint() -> str:
    return "For the team, beside the message to the customer; never sent to them."


def prevention_label() -> str:
    return "What will we change so this doesn't happen again?"


def prevention_hint() -> str:
    return "Optional. `/crisis report` lists the answers of its period."


def closure_message_hint() -> str:
    return (
        "Optional. Shown to you after closing, to send or edit; untouched, it says the"
        " resolution and follow-ups you wrote above. Empty it to send nothing."
    )


def closure_resolved_placeholder() -> str:
    """Where the close form's closing message puts the resolution written above it."""
    return "[the resolution you write above]"


def tell_goes_to(channel_id: str) -> str:
    return f"It goes to <#{channel_id}> (only you see this preview)."


def tell_no_channel(customer: str) -> str:
    return (
        f"{safe(customer, 100)}'s account has no customer channel: a copy for you to send"
        " (by email or on a call). Press *I sent it* once they have it."
    )


def tell_no_account(customer: str) -> str:
    return (
        f"*{safe(customer, 100)}* has no account, so there is no customer channel to send to."
        " An admin adds one with `/crisis account add` (with its customer channel); meanwhile,"
        " here is the message ready to copy. Press *I sent it* once they have it."
    )


def tell_not_in_channel(channel_id: str) -> str:
    return (
        f":warning: I'm not a member of <#{channel_id}>, so nothing was sent. Invite me with"
        " `/invite @crisisbot` in that channel and press *Send* again, or send this copy"
        " yourself and press *I sent it*."
    )


def tell_blame(words: str, suggestion: str) -> str:
    return f":warning: *{safe(words, 100)}* may read as blaming the customer: {suggestion}."


def customer_leak(leaks: Sequence[Leak]) -> str:
    """Why a message was held back from the customer, naming the exact words."""
    found = "; ".join(f"{leak.what}: “{safe(leak.words, 100)}”" for leak in leaks)
    return (
        f":no_entry: Not sent: the message for the customer contains {found}."
        " Take it out (*Edit*) and try again."
    )


def send_to_customer_button(customer: str) -> str:
    return f"Send to {customer}"[:75]


def sent_to_customer(customer: str, channel_id: str, by: str) -> str:
    return f":outbox_tray: Sent to {safe(customer, 100)} in <#{channel_id}> by {mention(by)}"


def told_customer(customer: str, by: str) -> str:
    return f":outbox_tray: {mention(by)} told {safe(customer, 100)} directly (a copy they sent)"


def customer_quote(head: str, text: str, note: str, due: datetime, zone: str | None = None) -> str:
    """The crisis channel's record of what the customer was told, with the team's note."""
    quote = "\n".join("> " + line for line in text.splitlines() or [""])
    under = f"\n_Note for the team:_ {safe_marked(note, 1000)}" if note else ""
    return f"{head}\n{quote}{under}\n_Next update by {promised_time(due, zone)}._"


def customer_sent_reply(customer: str, channel_id: str) -> str:
    return f":white_check_mark: Sent to {safe(customer, 100)} in <#{channel_id}>."


def customer_told_reply(customer: str) -> str:
    return f":white_check_mark: Recorded: {safe(customer, 100)} was told."


def customer_message_done(status: str, by: str | None) -> str:
    who = f" by {mention(by)}" if by else ""
    what = "sent" if status == "sent" else "recorded as told"
    return f"That message was already {what}{who}; nothing was sent twice."


def customer_message_gone() -> str:
    return "I can't find that message any more. Run `/crisis tell <text>` again."


# -- One outage, many customers ----------------------------------------------------------------


def outage_needs_title() -> str:
    return usage_error("Give the outage a title.", Subcommand.OUTAGE)


def outage_topic(title: str, severity: Severity) -> str:
    return f"Outage · {SEVERITIES[severity]} · {title}"[:250]


def outage_card(
    title: str, severity: Severity, affected: str, declared_by: str, status: str
) -> str:
    what = f"\n*Affected:* {safe(affected, 1500)}" if affected.strip() else ""
    closed = " (closed)" if status == "closed" else ""
    return (
        f":rotating_light: *Outage{closed}: {safe(title, 150)}* ·"
        f" {SEVERITIES[severity]}{what}\nDeclared by {mention(declared_by)}."
        " Add the accounts it hits with `/crisis affected <account>[, <account>…]`; each one's"
        " CSM is told and keeps that customer's promise."
    )


def outage_status_line(accounts: int, told: int, overdue: int, *, closed: bool) -> str:
    if closed:
        return f":white_check_mark: Outage closed. {accounts} affected accounts."
    late = f" · :red_circle: {overdue} overdue" if overdue else ""
    return (
        f":pushpin: *Status:* {accounts} affected accounts · {told} told{late}."
        " `/crisis status` for a row per account."
    )


def outage_declared(channel_id: str) -> str:
    return f":rotating_light: Outage declared: <#{channel_id}>."


def outage_declaring(title: str) -> str:
    return f":hourglass_flowing_sand: Declaring the outage *{safe(title, 150)}*…"


def outage_csm_dm(
    customer: str,
    title: str,
    outage_channel: str,
    due: datetime,
    *,
    linked_channel: str | None = None,
    zone: str | None = None,
) -> str:
    """To an affected account's CSM: the outage, where the team works, their promise."""
    where = (
        f"Its open crisis <#{linked_channel}> is linked to the outage."
        if linked_channel
        else "It has no channel of its own: the team works in the outage channel."
    )
    return (
        f":rotating_light: *{safe(customer, 100)}* is affected by the outage"
        f" *{safe(title, 150)}* (<#{outage_channel}>). You are its CSM: the customer is"
        f" promised an update by {promised_time(due, zone)}. {where} Broadcasts from the outage"
        " channel keep that promise; `/crisis split <account>` there gives it its own channel."
    )


def outage_unknown_accounts(names: Sequence[str]) -> str:
    shown = ", ".join(f"`{escape(name[:60])}`" for name in names[:10])
    return (
        f":warning: No account is called {shown}. `/crisis accounts <part of a name>` lists"
        f" them.\nUsage: {USAGE[Subcommand.AFFECTED]}"
    )


def outage_not_affected(account: str) -> str:
    return (
        f":warning: *{safe(account, 100)}* is not among this outage's affected accounts."
        " `/crisis status` lists them."
    )


def outage_already_split(customer: str, channel_id: str) -> str:
    return f":information_source: *{safe(customer, 100)}* already has its channel: <#{channel_id}>."


def outage_already_closed() -> str:
    return ":information_source: This outage is closed."


def not_in_outage_channel(command: Subcommand) -> str:
    return (
        f":warning: `/crisis {command}` works in an outage's channel. Declare one with"
        f" {USAGE[Subcommand.OUTAGE]}, or run it in its `#outage-…` channel."
    )


def outage_added(added: Sequence[str], linked: Sequence[str], already: Sequence[str]) -> str:
    parts = []
    if added:
        parts.append(
            f":white_check_mark: Affected: {', '.join(safe(n, 100) for n in added)}."
            " Each has its crisis, owned by its CSM (told by DM)."
        )
    if linked:
        parts.append(f":link: Linked their open crisis: {', '.join(safe(n, 100) for n in linked)}.")
    if already:
        parts.append(
            f":information_source: Already affected: {', '.join(safe(n, 100) for n in already)}."
        )
    return "\n".join(parts)


def outage_removed(account: str) -> str:
    return (
        f":white_check_mark: *{safe(account, 100)}* is no longer affected: broadcasts leave it"
        " out. Its crisis stays open for its CSM to close."
    )


def outage_split(account: str, channel_id: str) -> str:
    return (
        f":twisted_rightwards_arrows: *{safe(account, 100)}* has its own channel: <#{channel_id}>."
    )


def outage_status_header(title: str, count: int) -> str:
    return f":bar_chart: *{safe(title, 150)}*: {count} affected accounts"


def outage_no_accounts_yet() -> str:
    return "No affected accounts yet: `/crisis affected <account>[, <account>…]`."


def outage_status_row(row: Row, *, now: datetime) -> str:
    """One affected account: CSM, acknowledged, last told, next promise, overdue."""
    acked = ":white_check_mark: acked" if row.acknowledged else ":hourglass: not acked"
    told = f"last told {date_token(row.last_told)}" if row.last_told else "not told yet"
    if row.closed:
        due = "closed"
    elif row.next_due is None:
        due = "no promise"
    else:
        due = f"next update by {date_token(row.next_due)}"
    late = " · :red_circle: *overdue*" if row.overdue else ""
    where = f" · <#{row.channel}>" if row.channel else ""
    return (
        f"• *{safe(row.account, 100)}* · CSM {mention(row.csm)} · {acked} · {told} · {due}"
        f"{late}{where}"
    )


def broadcast_empty() -> str:
    return usage_error("Say what we are doing about the outage.", Subcommand.BROADCAST)


def broadcast_no_accounts() -> str:
    return (
        ":warning: No affected account to broadcast to. Add them first with"
        f" {USAGE[Subcommand.AFFECTED]}."
    )


def outage_title_missing() -> str:
    return "Give the outage a title."


def broadcast_text_missing() -> str:
    return "Say what we are doing about the outage."


def outage_resolution_missing() -> str:
    return "Say how it was resolved."


def tell_text_missing() -> str:
    return "Say what the customer should know."


def outage_gone() -> str:
    return (
        "I can't find that outage any more. Run `/crisis close <resolution>` in its channel again."
    )


def broadcast_gone() -> str:
    return "I can't find that broadcast any more. Run `/crisis broadcast <text>` again."


def broadcast_form_hint() -> str:
    return (
        "Each affected customer gets the outage message in their language, with when they will"
        " hear from us next in their time zone. You see every message before it goes."
    )


def broadcast_preview_header(count: int) -> str:
    return f":loudspeaker: *Preview: the outage message for {count} affected accounts*"


def broadcast_as_seen_by(account: str) -> str:
    return f"As *{safe(account, 100)}* will see it:"


def broadcast_destination(account: str, channel: str | None, csm: str, leaks: Sequence[str]) -> str:
    where = f"→ <#{channel}>" if channel else f"→ a copy for {mention(csm)} to send"
    held = f" · :no_entry: contains {', '.join(leaks)}" if leaks else ""
    return f"• *{safe(account, 100)}* {where}{held}"


def broadcast_fix_leaks() -> str:
    return (
        ":no_entry: Some messages would tell a customer something internal (marked above)."
        " Nothing was sent: run `/crisis broadcast <text>` again without it."
    )


def broadcast_send_button(count: int) -> str:
    return f"Send to {count} accounts"


def broadcast_leak(leaks: Sequence[Leak]) -> str:
    found = "; ".join(f"{leak.what}: “{safe(leak.words, 100)}”" for leak in leaks)
    return (
        f":no_entry: Nothing was sent: the broadcast contains {found}. Every affected customer"
        " gets it, so it may name no account and nothing internal; take it out and run"
        " `/crisis broadcast <text>` again."
    )


def closing_leak(account: str, leaks: Sequence[Leak]) -> str:
    found = "; ".join(f"{leak.what}: “{safe(leak.words, 100)}”" for leak in leaks)
    return (
        f":no_entry: Nothing was closed: the closing message for *{safe(account, 100)}* contains"
        f" {found}. Take it out of the resolution and close again."
    )


def broadcast_copy_dm(customer: str, text: str) -> str:
    quote = "\n".join("> " + line for line in text.splitlines() or [""])
    return (
        f":clipboard: *{safe(customer, 100)}* has no customer channel. Send them this (by email"
        f" or on a call), then press *I sent it*:\n{quote}"
    )


def broadcast_sent(by: str, text: str, posted: Sequence[str], copies: Sequence[str]) -> str:
    copied = f" {len(copies)} copies DMed to their CSMs to send." if copies else ""
    return (
        f":loudspeaker: {mention(by)} broadcast to {len(posted) + len(copies)} affected"
        f" accounts: {len(posted)} posted in their customer channels.{copied}\n"
        f"> {safe(text, 1500)}"
    )


def broadcast_reply(posted: int, copies: int) -> str:
    copied = f", {copies} copies DMed to their CSMs" if copies else ""
    return f":white_check_mark: Broadcast: {posted} posted in customer channels{copied}."


def broadcast_handed_over(posted: int, copies: int) -> str:
    copied = f", {copies} copies DMed to their CSMs" if copies else ""
    return (
        f":hourglass: Broadcast: {posted} posted in customer channels{copied} so far. This bot"
        " process is stopping: another one sends the rest within seconds, once each, and posts"
        " the summary in the outage channel."
    )


def broadcast_already() -> str:
    return "That broadcast was already sent; nothing was sent twice."


def outage_close_hint(count: int) -> str:
    return (
        f"Every linked crisis ({count} open) is closed with a closing message to its customer,"
        " except those you leave open."
    )


def outage_closed(
    by: str, resolution: str, closed: Sequence[str], copies: Sequence[str], kept: Sequence[str]
) -> str:
    left = f" Left open: {', '.join(safe(n, 100) for n in kept)}." if kept else ""
    copied = f" {len(copies)} closing messages DMed to CSMs to send." if copies else ""
    return (
        f":white_check_mark: Outage closed by {mention(by)}: {safe(resolution, 1500)}\n"
        f"Closed {len(closed) + len(copies)} linked crises; {len(closed)} customers told in"
        f" their channel.{copied}{left}"
    )


def reminder_done(customer: str, channel_id: str, author_id: str, at: datetime) -> str:
    """What a reminder DM or escalation says once the update it asked for is posted."""
    return (
        f":white_check_mark: Done: update to *{safe(customer, 80)}* posted"
        f" {date_token(at, style='{time}')} by {mention(author_id)} in <#{channel_id}>."
    )


def update_empty() -> str:
    return (
        ":warning: An update needs some text: what changed, what you are doing, what comes"
        " next.\nUsage: " + USAGE[Subcommand.UPDATE]
    )


# Reminders


def heads_up(customer: str, channel_id: str, due: datetime) -> str:
    return (
        f":alarm_clock: Heads-up: the next update to *{safe(customer, 80)}* is due"
        f' {date_token(due)} in <#{channel_id}>. Even "still investigating, next update at …"'
        " keeps their trust."
    )


def overdue(customer: str, channel_id: str, due: datetime, count: int) -> str:
    again = f" (reminder {count})" if count > 1 else ""
    return (
        f":rotating_light: The update to *{safe(customer, 80)}* was due {date_token(due)}"
        f" and has not been posted{again}. Post it in <#{channel_id}> with `/crisis update`,"
        " snooze, or hand the crisis over."
    )


def escalation(
    customer: str, channel_id: str, owner_id: str, due: datetime, late: timedelta
) -> str:
    return (
        f":sos: *Escalation:* the crisis for *{safe(customer, 80)}* (<#{channel_id}>) is"
        f" {format_duration(late)} past its promised update ({date_token(due)})."
        f" Owner: {mention(owner_id)}. Can someone help them get an update out?"
    )


def escalation_note(late: timedelta, escalated_in: str | None) -> str:
    """In the crisis channel; ``escalated_in`` is the escalation channel, if one is set."""
    where = f"escalated in <#{escalated_in}>" if escalated_in else "escalated here"
    return (
        f":sos: The promised update is {format_duration(late)} overdue, so I have {where}."
        " A short holding update now is better than a perfect one later."
    )


def escalated_owner_dm(
    customer: str, channel_id: str, due: datetime, late: timedelta, places: list[str]
) -> str:
    """To the owner: that the crisis was escalated, and where."""
    if places:
        where = " and ".join(f"<#{place}>" for place in places)
        opening = f":sos: Escalated in {where}: the update"
    else:
        opening = ":sos: The update"
    return (
        f"{opening} to *{safe(customer, 80)}* is {format_duration(late)} past its promised time"
        f" ({date_token(due)}). Post even a short holding update in <#{channel_id}> now, or hand"
        " the crisis over."
    )


def snoozed(until: datetime) -> str:
    return (
        f":zzz: Snoozed until {date_token(until)}. The crisis card still shows the update as"
        " overdue."
    )


def checked_in(customer: str, user_id: str, at: datetime) -> str:
    return (
        f":white_check_mark: {mention(user_id)} checked in with *{safe(customer, 80)}*"
        f" {date_token(at)}. Recorded on the crisis timeline."
    )


def reopened_reply(due: datetime, zone: str | None = None) -> str:
    return (
        ":arrows_counterclockwise: Reopened. The next update is promised by"
        f" {promised_time(due, zone)}."
    )


def already_checked_in(at: datetime) -> str:
    return f":information_source: The check-in was already recorded {date_token(at)}."


def follow_up(customer: str, channel_id: str, closed_at: datetime) -> str:
    return (
        f":handshake: Time to check in with *{safe(customer, 80)}*: the crisis was resolved"
        f" {date_token(closed_at)} (<#{channel_id}>). Ask how things are now and whether any loose"
        " end remains."
    )


def check_in_suggested(customer: str) -> str:
    """Over the check-in the follow-up DM suggests."""
    return f"A check-in you could send *{safe(customer, 80)}* (you see it before it goes):"


# Closing, reopening, handing over, cadence


def closure(
    resolution: str,
    follow_ups: str,
    confirmed: bool | None,
    closer_id: str,
    *,
    customer: str,
    owner_id: str,
    follow_up_at: datetime | None,
) -> str:
    """The closure, posted in the crisis channel: the team's channel, not the customer's."""
    lines = [
        f":white_check_mark: *Resolved* by {mention(closer_id)}",
        f"*What was resolved:* {safe_marked(resolution, 1500)}",
    ]
    if follow_ups.strip():
        lines.append(f"*Follow-ups:* {safe_marked(follow_ups, 1000)}")
    if confirmed is True:
        lines.append("The customer has confirmed the resolution.")
    elif confirmed is False:
        lines.append("_The customer has not confirmed yet; we will check in with them._")
    check_in = (
        f" I will remind {mention(owner_id)} to check in with {safe(customer, 80)}"
        f" {date_token(follow_up_at)}."
        if follow_up_at
        else ""
    )
    lines.append(f"Reminders have stopped.{check_in}")
    return "\n".join(lines)


def closed_reply(follow_up_at: datetime) -> str:
    return (
        ":white_check_mark: Closed. Reminders are stopped. I will remind the owner to check in"
        f" with the customer {date_token(follow_up_at)}."
    )


def close_needs_resolution() -> str:
    return (
        ":warning: Say how it was resolved, so the customer and the team see the outcome.\nUsage: "
        + USAGE[Subcommand.CLOSE]
    )


def already_closed() -> str:
    return ":information_source: This crisis is already closed. Use `/crisis reopen` to reopen it."


def reopened(actor_id: str, due: datetime, reason: str = "", zone: str | None = None) -> str:
    why = f"\n*Why:* {safe(reason, 1500)}" if reason.strip() else ""
    return (
        f":arrows_counterclockwise: Reopened by {mention(actor_id)}. Next update promised by"
        f" {promised_time(due, zone)}.{why}"
    )


def handed_over(old_id: str, new_id: str) -> str:
    return (
        f":busts_in_silhouette: {mention(new_id)} now owns this crisis"
        f" (handed over by {mention(old_id)})."
    )


def taken_over(old_id: str, new_id: str) -> str:
    return f":busts_in_silhouette: {mention(new_id)} took over this crisis from {mention(old_id)}."


def took_over_reply(customer: str, channel_id: str, due: datetime | None) -> str:
    when = f" The next update is promised by {date_token(due)}." if due else ""
    return (
        f":busts_in_silhouette: You now own the crisis for *{safe(customer, 80)}*"
        f" (<#{channel_id}>).{when} Reminders come to you from now on."
    )


def new_owner_dm(customer: str, channel_id: str, old_id: str, due: datetime | None) -> str:
    when = f" The next update is promised by {date_token(due)}." if due else ""
    return (
        f":busts_in_silhouette: {mention(old_id)} handed you the crisis for *{safe(customer, 80)}*"
        f" (<#{channel_id}>).{when} Reminders now come to you."
    )


def old_owner_dm(customer: str, channel_id: str, new_id: str) -> str:
    return (
        f":busts_in_silhouette: {mention(new_id)} now owns the crisis for *{safe(customer, 80)}*"
        f" (<#{channel_id}>). Reminders go to them from now on."
    )


def already_owner(user_id: str) -> str:
    return f":information_source: {mention(user_id)} already owns this crisis."


def owner_is_bot() -> str:
    return (
        ":warning: A bot can't own a crisis; hand it to a person.\nUsage: "
        + USAGE[Subcommand.OWNER]
    )


# Responders


def responders_added(actor_id: str, added: list[str]) -> str:
    who = "a responder" if len(added) == 1 else "responders"
    if added == [actor_id]:
        return f":busts_in_silhouette: {mention(actor_id)} joined as {who} to help."
    return f":busts_in_silhouette: {mention(actor_id)} added {mentions(added)} as {who}."


def responders_removed(actor_id: str, removed: list[str]) -> str:
    return (
        f":busts_in_silhouette: {mention(actor_id)} removed {mentions(removed)} from the"
        " responders."
    )


def responder_is_bot(command: Subcommand) -> str:
    return ":warning: A bot can't be a responder; name people.\nUsage: " + USAGE[command]


def already_responders(user_ids: list[str], owner_id: str) -> str:
    parts = []
    if owner_id in user_ids:
        parts.append(f"{mention(owner_id)} owns this crisis")
    others = [u for u in user_ids if u != owner_id]
    if others:
        one = len(others) == 1
        parts.append(
            f"{mentions(others)} {'is already a responder' if one else 'are already responders'}"
        )
    return f":information_source: {'; '.join(parts)}. Nobody new to add."


def responders_skipped(user_ids: list[str], owner_id: str) -> str:
    text = already_responders(user_ids, owner_id).replace(" Nobody new to add.", "")
    return f"{text} The others are added."


def cannot_remove_owner(owner_id: str) -> str:
    return (
        f":warning: {mention(owner_id)} owns this crisis, so they can't be removed. Hand it over"
        " first with `/crisis owner @someone`."
    )


def not_responders(user_ids: list[str], responders: list[str]) -> str:
    current = mentions(responders[:20])
    return (
        f":warning: {mentions(user_ids)} {'is' if len(user_ids) == 1 else 'are'} not a responder"
        f" on this crisis, so nothing was removed. Responders: {current}."
    )


def too_many_responders(limit: int) -> str:
    return f":warning: A crisis can have at most {limit} responders; remove some first."


def added_but_not_invited(customer: str, channel_id: str, actor_id: str) -> str:
    return (
        f":busts_in_silhouette: {mention(actor_id)} added you as a responder to the crisis for"
        f" *{safe(customer, 80)}*, but I couldn't invite you to <#{channel_id}>. Please join it"
        " from the channel browser."
    )


def removed_dm(customer: str, channel_id: str, actor_id: str) -> str:
    return (
        f":busts_in_silhouette: {mention(actor_id)} removed you from the responders of the crisis"
        f" for *{safe(customer, 80)}* (<#{channel_id}>). Thank you for your help."
    )


def helping(customer: str, channel_id: str) -> str:
    return (
        f":raised_hands: Thank you: you are now a responder on the crisis for"
        f" *{safe(customer, 80)}*, and I've invited you to <#{channel_id}>."
    )


def already_helping(channel_id: str) -> str:
    return f":information_source: You are already helping on this crisis: <#{channel_id}>."


def you_own_it(channel_id: str) -> str:
    return f":information_source: You own this crisis already: <#{channel_id}>."


# Severity and kind


def severity_changed(
    actor_id: str, severity: Severity, every: timedelta, due: datetime | None
) -> str:
    stands = f" The update promised by {date_token(due)} stands." if due else ""
    return (
        f":rotating_light: {mention(actor_id)} changed the severity to *{SEVERITIES[severity]}*."
        f" Updates every {format_duration(every)} from the next one.{stands}"
    )


def same_severity(severity: Severity) -> str:
    return f":information_source: This crisis is already *{SEVERITIES[severity]}*."


def kind_changed(actor_id: str, kind: CrisisKind) -> str:
    return f":label: {mention(actor_id)} changed the kind to *{KIND_LABELS[kind]}*."


def same_kind(kind: CrisisKind) -> str:
    return f":information_source: This crisis is already a *{KIND_LABELS[kind].lower()}*."


def cadence_changed(actor_id: str, every: timedelta, due: datetime | None) -> str:
    still = f" The next update is still promised by {date_token(due)}." if due else ""
    return (
        f":repeat: {mention(actor_id)} set updates every {format_duration(every)}, from the"
        f" next update on.{still}"
    )


def cadence_reply(customer: str, every: timedelta, due: datetime | None) -> str:
    """To whoever changed the cadence: what moved (the cadence) and what did not (the promise)."""
    still = (
        f"The next promise is still {date_token(due)}, as told to {safe(customer, 80)}. "
        if due
        else ""
    )
    return (
        f":repeat: {still}From the next update on, updates come every {format_duration(every)}."
        " To move the promise, post an update that says when the next one comes"
        " (*Post update* on the card, with *Next update in*)."
    )


def home_intro() -> str:
    return (
        "Respond fast, listen, tell the customer *when* they hear next, keep it about the outcome,"
        " close every loose end. `/crisis new` declares one; `/crisis help` shows the rest."
    )


def no_open_crises() -> str:
    return ":sunny: No open crises. Calm seas."


def home_yours_header(count: int) -> str:
    return f"*Your open crises ({count})*, overdue first"


def home_no_crises_of_yours() -> str:
    return ":sunny: You own or respond to no open crisis."


def home_countdown(due: datetime | None, now: datetime) -> str:
    """How long until the next promise to the customer is due, or how long it is overdue."""
    if due is None:
        return ":hourglass: No promise yet: the crisis is being set up."
    seconds = int((due - now).total_seconds())
    if seconds <= 0:
        return f":rotating_light: *Overdue by {_ago(max(60, -seconds))}*: post an update"
    return f":stopwatch: Next promise due in *{_ago(max(60, seconds))}*"


def home_figures_header() -> str:
    return "*The last 30 days*"


def home_figures(
    *,
    pct: float | None,
    promises: int,
    late: int,
    broken: int,
    declared: int,
    closed: int,
    ack_median: timedelta | None,
    resolve_median: timedelta | None,
) -> str:
    """One column of the Home tab's figures: yours (as owner) or the team's."""
    return "\n".join(
        [
            f"Promises kept on time: {_pct_text(pct, promises)}",
            f"Kept late: {late} · broken: {broken}",
            f"Crises: {declared} declared, {closed} closed",
            f"First acknowledgement: median {_span(ack_median)}",
            f"Resolved in: median {_span(resolve_median)}",
        ]
    )


def home_figures_labels() -> tuple[str, str]:
    return "You (as owner)", "The team"


def list_header(count: int) -> str:
    return f"*{count} open {'crisis' if count == 1 else 'crises'}*, overdue first"


def list_mine_header(count: int) -> str:
    return f"*{count} open {'crisis' if count == 1 else 'crises'} of yours*, overdue first"


def no_open_crises_of_yours() -> str:
    return ":sunny: You own or respond to no open crisis. `/crisis list` shows everyone's."


# Insights: the weekly digest and its chart


def digest_title(start: date, last: date) -> str:
    """The digest's header: ``Weekly digest: 23 Nov – 29 Nov``."""
    return f"Weekly digest: {start.day} {start:%b} – {last.day} {last:%b}"


def digest_fallback(start: date, last: date, pct: float | None, before: float | None) -> str:
    """The notification text of the digest."""
    now = "no promise ended" if pct is None else f"{pct:.0f}% of promises kept on time"
    then = "" if before is None else f" ({before:.0f}% the week before)"
    return f"{digest_title(start, last)}: {now}{then}."


def _pct_text(pct: float | None, promises: int) -> str:
    return "no promise ended" if pct is None else f"{pct:.0f}% of {promises}"


def _span(delta: timedelta | None) -> str:
    return "—" if delta is None else _ago(int(delta.total_seconds()))


def _trend(now: float | None, before: float | None) -> str:
    if now is None or before is None or round(now) == round(before):
        return ""
    return " :arrow_up_small:" if now > before else " :arrow_down_small:"


def digest_kept(pct: float | None, promises: int, before: float | None, before_n: int) -> str:
    trend = _trend(pct, before)
    return (
        f"*Promises kept on time:* {_pct_text(pct, promises)}{trend}"
        f"  (week before: {_pct_text(before, before_n)})"
    )


def digest_late_broken(late: int, broken: int, late_before: int, broken_before: int) -> str:
    return (
        f"*Kept late:* {late} · *broken:* {broken}"
        f"  (week before: {late_before} late, {broken_before} broken)"
    )


def digest_declared_closed(
    declared: int, closed: int, declared_before: int, closed_before: int
) -> str:
    return (
        f"*Crises declared:* {declared} · *closed:* {closed}"
        f"  (week before: {declared_before} declared, {closed_before} closed)"
    )


def digest_ack(
    median: timedelta | None, p90: timedelta | None, median_before: timedelta | None
) -> str:
    return (
        f"*Time to first acknowledgement:* median {_span(median)}, 90th percentile {_span(p90)}"
        f"  (week before: median {_span(median_before)})"
    )


def digest_resolve(
    median: timedelta | None, p90: timedelta | None, median_before: timedelta | None
) -> str:
    return (
        f"*Time to resolve:* median {_span(median)}, 90th percentile {_span(p90)}"
        f"  (week before: median {_span(median_before)})"
    )


def digest_footer(zone: str) -> str:
    return (
        f"Calendar weeks from Monday, {zone} time. The chart follows: the last 12 weeks."
        " `/crisis report` has the breakdowns by owner, account, tier, kind and severity."
    )


def digest_chart_title(start: date, last: date) -> str:
    return (
        f"Promises kept on time and time to first acknowledgement, 12 weeks to {last.day} {last:%b}"
    )


def digest_chart_alt() -> str:
    return (
        "Two charts over the last 12 weeks: the share of promises to customers kept on time,"
        " per week, and the median time to first acknowledgement, per week."
    )


def chart_week_label(week_start: date) -> str:
    """A week on the chart's axis: ``23 Nov``."""
    return f"{week_start.day} {week_start:%b}"


def chart_kept_label(pct: float | None, promises: int) -> str:
    """Above a week's bar: ``83% of 12``, or ``none`` when no promise ended that week."""
    return "none" if pct is None else f"{pct:.0f}% of {promises}"


def chart_kept_title() -> str:
    return "Promises to customers kept on time, per week"


def chart_kept_axis() -> str:
    return "% kept on time"


def chart_ack_title() -> str:
    return "Median time to first acknowledgement (crises declared that week)"


def chart_ack_axis() -> str:
    return "minutes"


# The report (`/crisis report`)


def report_title(days: int) -> str:
    return f"Report: the last {days} days"


def report_period(start: datetime, end: datetime) -> str:
    day = "{date_short_pretty}"
    return (
        f"{date_token(start, style=day)} to {date_token(end, style=day)}"
        " · only you can see this · `crisisbot report` exports it as CSV or JSON"
    )


def report_empty(days: int) -> str:
    return (
        f":sunny: No crisis was declared or closed, and no promise to a customer ended,"
        f" in the last {days} days."
    )


def report_summary(days: int, declared: int, closed: int, kept_on_time_pct: float | None) -> str:
    """The report's notification text (its blocks say the rest)."""
    kept = "" if kept_on_time_pct is None else f", {kept_on_time_pct:.0f}% of promises on time"
    return f"The last {days} days: {declared} declared, {closed} closed{kept}."


def report_crises_label() -> str:
    return "Crises"


def report_crises(declared: int, closed: int) -> str:
    return f"{declared} declared · {closed} closed"


def report_promises_label() -> str:
    return "Promises to customers"


def report_promises(kept: int, late: int, broken: int, kept_on_time_pct: float | None) -> str:
    if kept_on_time_pct is None:
        return "None ended in the period."
    ended = kept + late + broken
    return (
        f"*{kept_on_time_pct:.0f}%* kept on time ({kept} of {ended})"
        f" · {late} kept late · {broken} broken"
    )


def report_ack_label() -> str:
    return "Time to first acknowledgement"


def report_resolve_label() -> str:
    return "Time to resolve"


def report_times(median: timedelta | None, p90: timedelta | None) -> str:
    if median is None or p90 is None:
        return "–"
    return f"median {_short(median)} · 90th percentile {_short(p90)}"


def _short(delta: timedelta) -> str:
    return format_duration(delta) if delta >= timedelta(seconds=1) else "0s"


def report_by(dimension: str) -> str:
    return f"*By {dimension}*"


def report_breakdown_line(
    who: str,
    *,
    declared: int,
    closed: int,
    kept_on_time_pct: float | None,
    late: int,
    broken: int,
    ack_median: timedelta | None,
) -> str:
    promises = (
        "no promise ended"
        if kept_on_time_pct is None
        else f"{kept_on_time_pct:.0f}% on time, {late} late, {broken} broken"
    )
    ack = "" if ack_median is None else f" · ack {_short(ack_median)}"
    return f"{who}: {declared} declared, {closed} closed · {promises}{ack}"


def report_no_tier() -> str:
    return "no tier"


def report_more(count: int) -> str:
    return f"…and {count} more"


def report_latest_promises() -> str:
    return "*Latest promises*"


def report_promise_line(
    customer: str,
    channel_id: str | None,
    *,
    made_at: datetime,
    due_at: datetime,
    outcome: PromiseOutcome | None,
    late_seconds: int | None,
) -> str:
    where = f" <#{channel_id}>" if channel_id else ""
    how = {
        PromiseOutcome.KEPT: "kept on time",
        PromiseOutcome.LATE: f"kept {format_duration(timedelta(seconds=late_seconds or 0))} late",
        PromiseOutcome.BROKEN: "broken",
        None: "open",
    }[outcome]
    return (
        f"*{safe(customer, 80)}*{where} · made {date_token(made_at)}"
        f" for {date_token(due_at)} · {how}"
    )


def report_changes(total: int) -> str:
    return f"*What we will change* ({total})"


def report_change_line(
    customer: str, channel_id: str | None, closed_at: datetime, text: str
) -> str:
    where = f" <#{channel_id}>" if channel_id else ""
    day = date_token(closed_at, style="{date_short}")
    return f"*{safe(customer, 80)}*{where}, closed {day}: {safe(text, 400)}"


# Accounts


def no_such_account(name: str, *, suggestion: str | None, any_accounts: bool) -> str:
    """An unknown account name: the near miss, or how to list or add accounts."""
    shown = f":warning: No account *{safe(name, 80)}*."
    if suggestion is not None:
        return (
            f"{shown} Did you mean *{safe(suggestion, 80)}*?"
            f" `/crisis account {safe(suggestion, 80)}` shows it."
        )
    if any_accounts:
        return (
            f"{shown} `/crisis accounts` lists them (`/crisis accounts <part of a name>` narrows"
            " the list); a crisisbot admin adds one with `/crisis account add`."
        )
    return f"{shown} {no_accounts()}"


def no_accounts() -> str:
    return (
        "There are no accounts yet. A crisisbot admin adds one with `/crisis account add`, or"
        " imports your CRM's CSV with `crisisbot accounts import`."
    )


def no_accounts_matching(text: str) -> str:
    return (
        f":mag: No account name or alias contains *{safe(text, 80)}*. `/crisis accounts` lists"
        " them all."
    )


def accounts_header(count: int, *, matching: str = "") -> str:
    which = f" matching *{safe(matching, 80)}*" if matching else ""
    return f"*{count} {'account' if count == 1 else 'accounts'}*{which}"


def accounts_more(count: int) -> str:
    return (
        f"…and {count} more. Narrow the list with `/crisis accounts <part of a name>`, or see"
        " one with `/crisis account <name>`."
    )


def account_line(name: str, tier: str, csm_id: str | None, open_count: int) -> str:
    """One account in ``/crisis accounts``."""
    parts = [f"*{safe(name, 80)}*"]
    if tier:
        parts.append(safe(tier, 60))
    parts.append(f"CSM {mention(csm_id)}" if csm_id else "no CSM")
    if open_count:
        parts.append(
            f":rotating_light: {open_count} open {'crisis' if open_count == 1 else 'crises'}"
        )
    else:
        parts.append("no open crisis")
    return " · ".join(parts)


def account_local_time(
    weekday: str, clock: str, zone: str, hours: str, *, open_now: bool, opens: str | None
) -> str:
    """``Tue 16:40 in Asia/Jerusalem, within business hours (Sun-Thu 08:30-17:30)``."""
    where = f"{weekday} {clock} in {escape(zone)}"
    if open_now:
        return f"{where}, within business hours ({escape(hours)})"
    back = f"; they open {opens}" if opens else ""
    return f"{where}, outside business hours ({escape(hours)}){back}"


def account_cadence(severity: str, every: timedelta, *, contracted: bool) -> str:
    return f"{severity.upper()} every {format_duration(every)}" + (
        "" if contracted else " (default)"
    )


def account_promise_record(on_time: int, late: int, broken: int, crises: int) -> str:
    """The account's record: how the promises made across its crises came out."""
    if on_time + late + broken == 0:
        return "*Promises to them*\nNone kept or broken yet."
    across = "1 crisis" if crises == 1 else f"{crises} crises"
    return (
        f"*Promises to them* (across {across})\n"
        f"{on_time} kept on time · {late} kept late · {broken} broken"
    )


def account_recent_crisis(
    channel_id: str | None, severity: str, declared_at: datetime, resolve_seconds: int | None
) -> str:
    where = f"<#{channel_id}>" if channel_id else "_no channel_"
    took = (
        f"resolved in {format_duration(timedelta(seconds=resolve_seconds))}"
        if resolve_seconds is not None
        else "resolved"
    )
    return f"{where} · {severity.upper()} · declared {date_token(declared_at)} · {took}"


def account_saved(name: str, *, created: bool) -> str:
    verb = "Added" if created else "Saved"
    return (
        f":white_check_mark: {verb} the account *{safe(name, 80)}*."
        f" `/crisis account {safe(name, 80)}` shows it."
    )


def account_not_saved(error: str) -> str:
    """Plain text: a form's field error."""
    return f"Slack did not answer ({error}), so nothing was saved. Try again in a moment."


def account_gone() -> str:
    return ":warning: That account no longer exists, so nothing was saved. See `/crisis accounts`."


def update_reaction_unusable() -> str:
    return (
        ":information_source: React with the update emoji on a teammate's message that should go"
        " out as the status update (not on one of my messages), or use `/crisis update <text>`."
    )
