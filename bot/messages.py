"""Every sentence the bot says. Calm, specific, focused on the customer and the outcome."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from bot.domain import KIND_LABELS, SEVERITIES, UNTRIAGED
from bot.durations import format_duration
from bot.text import date_token, escape, local_time, mention, mentions, safe

USAGE = {
    "new": (
        "`/crisis new <customer>: <what happened> [sev1|sev2|sev3|sev4]`,"
        " or `/crisis new` for the form"
    ),
    "update": "`/crisis update <what changed and what happens next>`",
    "close": "`/crisis close <how it was resolved>`",
    "owner": "`/crisis owner @someone`",
    "every": "`/crisis every <duration>`, for example `/crisis every 30m`",
    "ack": "`/crisis ack`",
    "status": "`/crisis status`",
    "reopen": "`/crisis reopen`",
    "list": "`/crisis list`",
    "help": "`/crisis help`",
}


def help_text(ack_emoji: str = "eyes") -> str:
    return "\n".join(
        [
            "*crisisbot* helps you run a customer crisis calmly: respond fast, tell the customer"
            " *when* they will hear from you next, and close every loose end.",
            "",
            "*Anywhere*",
            f"• {USAGE['new']}: declare a crisis and open its channel",
            f"• {USAGE['list']}: open crises, overdue first",
            f"• {USAGE['help']}: this message",
            "",
            "*In a crisis channel*",
            f"• {USAGE['update']}: post a status update and renew the commitment",
            f"• {USAGE['ack']}: acknowledge (or react with :{ack_emoji}: on the crisis card)",
            f"• {USAGE['owner']}: hand the crisis over",
            f"• {USAGE['every']}: change how often the customer gets an update",
            f"• {USAGE['close']}: close it and schedule a check-in with the customer",
            f"• {USAGE['status']}: the card and the timeline",
            f"• {USAGE['reopen']}: reopen a closed crisis",
            "",
            "*Who may do what*",
            "• Anyone on the team can declare, list and acknowledge.",
            "• A crisis's owner, its responders and crisisbot admins can post updates, close,"
            " reopen, hand over, change the cadence and snooze its reminders.",
            "• People from another organisation in a shared channel can't use `/crisis`.",
        ]
    )


def usage_error(problem: str, command: str) -> str:
    return f":warning: {problem}\nUsage: {USAGE[command]}"


def unknown_subcommand(word: str) -> str:
    return (
        f":warning: I don't know `{escape(word[:40])}`. Try `/crisis new`, `/crisis update`,"
        " `/crisis close`, `/crisis list` or `/crisis help`."
    )


def bad_duration(problem: str) -> str:
    return f":warning: {escape(problem)}\nUsage: {USAGE['every']}"


def not_in_crisis_channel(command: str) -> str:
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


def _admin(admin_id: str) -> str:
    # A user group shows as its handle (@cs-leads); only the reader sees a refusal.
    return f"<!subteam^{admin_id}>" if admin_id.startswith("S") else mention(admin_id)


def external_user() -> str:
    return (
        ":lock: crisisbot's commands are for the team running the crisis. If something is"
        " wrong, say it in this channel and the team will pick it up."
    )


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
) -> str:
    """The reply to a declaration; with ``lead`` the declarer owns it and this is their brief,
    with ``owner_id`` someone else owns it and has been told by DM."""
    where = f":white_check_mark: Crisis for *{safe(customer, 80)}* declared in <#{channel_id}>."
    if owner_id is not None:
        return (
            f"{where} {mention(owner_id)} owns it and has been told;"
            f" {safe(customer, 80)} has been promised an update by {date_token(due)}."
        )
    text = f"{where} You have promised the next update by {date_token(due)}."
    if lead is None:
        return text
    return f"{text}{_reminder_promise(lead)}\n{OWNER_VOICE}"


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
    severity: str,
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


def commitment(customer: str, due: datetime) -> str:
    return (
        f":hourglass_flowing_sand: *Next update to {safe(customer, 80)} by {date_token(due)}*"
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
) -> str:
    """The owner's brief by DM; ``declared_by`` when someone else declared it and named them."""
    if declared_by is not None:
        opening = (
            f":rotating_light: {mention(declared_by)} declared a crisis for"
            f" *{safe(customer, 80)}* (<#{channel_id}>) and named you owner;"
            f" {safe(customer, 80)} has been promised an update by {date_token(due)}."
        )
    else:
        opening = (
            f":rotating_light: You own the crisis for *{safe(customer, 80)}* (<#{channel_id}>)."
            f"\nYou have promised them the next update by {date_token(due)}."
        )
    return f"{opening}{_reminder_promise(lead)}\n{OWNER_VOICE}"


def announcement(
    customer: str,
    severity: str,
    kind: str,
    channel_id: str,
    owner_id: str,
    ack_emoji: str = "eyes",
) -> str:
    what = "crisis" if kind == UNTRIAGED else KIND_LABELS[kind].lower()
    later = " (kind not set yet)" if kind == UNTRIAGED else ""
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


# Updates


def update_posted(author_id: str, body: str, due: datetime) -> str:
    return (
        f":mega: *Status update* from {mention(author_id)}\n{body}"
        f"\n_Next update by {date_token(due)}._"
    )


def update_body(what_happened: str, doing: str, next_steps: str) -> str:
    parts = [
        ("What happened", what_happened),
        ("What we are doing", doing),
        ("Next steps", next_steps),
    ]
    return "\n".join(f"*{label}:* {safe(text, 900)}" for label, text in parts if text.strip())


def update_quoted(author_id: str, quoted: str, by: str, due: datetime) -> str:
    quote = "\n".join("> " + line for line in safe(quoted, 2600).splitlines() or [""])
    return (
        f":mega: *Status update* by {mention(author_id)}, marked by {mention(by)}\n{quote}"
        f"\n_Next update by {date_token(due)}._"
    )


def update_recorded(due: datetime) -> str:
    return f":white_check_mark: Update posted. The next one is promised by {date_token(due)}."


def update_empty() -> str:
    return (
        ":warning: An update needs some text: what changed, what you are doing, what comes"
        " next.\nUsage: " + USAGE["update"]
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


def follow_up(customer: str, channel_id: str, closed_at: datetime) -> str:
    return (
        f":handshake: Time to check in with *{safe(customer, 80)}*: the crisis was resolved"
        f" {date_token(closed_at)} (<#{channel_id}>). Ask how things are now and whether any loose"
        " end remains."
    )


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
        f"*What was resolved:* {safe(resolution, 1500)}",
    ]
    if follow_ups.strip():
        lines.append(f"*Follow-ups:* {safe(follow_ups, 1000)}")
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
        + USAGE["close"]
    )


def already_closed() -> str:
    return ":information_source: This crisis is already closed. Use `/crisis reopen` to reopen it."


def reopened(actor_id: str, due: datetime) -> str:
    return (
        f":arrows_counterclockwise: Reopened by {mention(actor_id)}. Next update promised by"
        f" {date_token(due)}."
    )


def handed_over(old_id: str, new_id: str) -> str:
    return (
        f":busts_in_silhouette: {mention(new_id)} now owns this crisis"
        f" (handed over by {mention(old_id)})."
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
    return ":warning: A bot can't own a crisis; hand it to a person.\nUsage: " + USAGE["owner"]


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


def list_header(count: int) -> str:
    return f"*{count} open {'crisis' if count == 1 else 'crises'}*, overdue first"


def update_reaction_unusable() -> str:
    return (
        ":information_source: React with the update emoji on a teammate's message that should go"
        " out as the status update (not on one of my messages), or use `/crisis update <text>`."
    )
