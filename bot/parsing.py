"""Parsing ``/crisis`` text into a command, or a clear message saying how to do it right."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import timedelta

from bot import messages
from bot.domain import (
    DEFAULT_SEVERITY,
    KIND_LABELS,
    MAX_CUSTOMER,
    MAX_FIELD,
    MAX_RESOLUTION,
    MAX_UPDATE,
    NOT_A_CRISIS,
    SEVERITIES,
)
from bot.durations import DurationError, parse_duration
from bot.text import escape, from_slack

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USERS = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# Anything at the end that reads as a severity: sev1, [SEV2], sev-1, sev 3, severity 4, but
# also sev5 or sev0, which are refused rather than kept as part of the summary.
_SEVERITY_AT_END = re.compile(
    r"(?:^|\s)\[?(sev(?:erity)?[ _-]?(\d+))\]?\s*$",
    re.IGNORECASE,
)

CHANNEL_COMMANDS = (
    "update",
    "close",
    "owner",
    "add",
    "remove",
    "every",
    "severity",
    "kind",
    "ack",
    "status",
    "reopen",
)
ANYWHERE_COMMANDS = ("new", "list", "account", "accounts", "help")


def subcommands() -> tuple[str, ...]:
    """Every subcommand, from the two tables above (new ones added there are included)."""
    return ANYWHERE_COMMANDS + CHANNEL_COMMANDS


class UsageError(ValueError):
    """The text was not a command we understand; ``str(error)`` tells the user how to fix it."""


@dataclass(frozen=True)
class Command:
    """A parsed ``/crisis`` command."""

    name: str
    text: str = ""
    customer: str = ""
    severity: str = DEFAULT_SEVERITY
    user_id: str = ""
    every: timedelta | None = None
    user_ids: tuple[str, ...] = ()
    kind: str = ""
    mine: bool = False
    # ``account``: "" shows the account named ``text``, "edit" edits it, "add" adds one.
    action: str = ""

    @property
    def needs_crisis_channel(self) -> bool:
        return self.name in CHANNEL_COMMANDS


def parse(text: str) -> Command:
    """Parse the text after ``/crisis``."""
    text = (text or "").strip()
    if not text:
        return Command("new")
    word, _, rest = text.partition(" ")
    word = word.lower()
    rest = rest.strip()
    if word in ("new", "update", "close", "reopen", "account", "accounts"):
        # Slack sends text escaped, with mentions as tokens; keep what the person typed.
        rest = from_slack(rest).strip()
    if word == "new":
        return _parse_new(rest)
    if word in ("update", "close"):
        if not rest:
            problem = (
                "Say what changed and what happens next."
                if word == "update"
                else "Say how it was resolved."
            )
            raise UsageError(messages.usage_error(problem, word))
        limit = MAX_UPDATE if word == "update" else MAX_RESOLUTION
        if len(rest) > limit:
            what = "The update" if word == "update" else "The resolution"
            problem = messages.text_too_long(what, len(rest), limit, where=f"in one {word}")
            raise UsageError(messages.usage_error(problem, word))
        return Command(word, text=rest)
    if word == "owner":
        match = _USER.match(rest)
        if not match:
            raise UsageError(
                messages.usage_error(
                    "Mention the new owner by picking them from the list.", "owner"
                )
            )
        return Command("owner", user_id=match.group(1))
    if word in ("add", "remove"):
        return _parse_people(word, rest)
    if word == "every":
        if not rest:
            raise UsageError(messages.usage_error("Say how often.", "every"))
        try:
            every = parse_duration(rest)
        except DurationError as error:
            raise UsageError(messages.bad_duration(str(error))) from None
        if every < timedelta(minutes=1):
            raise UsageError(
                messages.bad_duration("Updates more often than every minute would be noise.")
            )
        return Command("every", every=every)
    if word == "severity":
        severity = rest.lower().strip("[]")
        if severity not in SEVERITIES:
            raise UsageError(messages.bad_severity(rest, command="severity"))
        return Command("severity", severity=severity)
    if word == "kind":
        kind = kind_named(rest)
        if kind is None:
            raise UsageError(messages.bad_kind(rest, list(SETTABLE_KINDS.values())))
        return Command("kind", kind=kind)
    if word == "reopen":
        if not rest:
            raise UsageError(messages.usage_error("Say why it is being reopened.", "reopen"))
        return Command("reopen", text=rest)
    if word == "list":
        if rest.lower() not in ("", "mine"):
            problem = f"I don't know `list {escape(rest[:40])}`."
            raise UsageError(messages.usage_error(problem, "list"))
        return Command("list", mine=rest.lower() == "mine")
    if word == "account":
        return _parse_account(rest)
    if word == "accounts":
        return Command("accounts", text=rest[:MAX_CUSTOMER])
    if word in ("ack", "status", "help"):
        return Command(word)
    raise UsageError(messages.unknown_subcommand(word, suggestion=closest_subcommand(word)))


def closest_subcommand(word: str) -> str | None:
    """The subcommand ``word`` was probably meant to be (``nwe`` → ``new``), if any is close."""
    close = difflib.get_close_matches(word.lower(), subcommands(), n=1, cutoff=0.6)
    return close[0] if close else None


# Kinds a crisis can be changed to: a question is not a crisis (close it instead).
SETTABLE_KINDS = {key: label for key, label in KIND_LABELS.items() if key != NOT_A_CRISIS}


def kind_named(text: str) -> str | None:
    """The kind whose key or label is ``text``, ignoring case; None if there is none."""
    wanted = " ".join(text.lower().replace("_", " ").split())
    for key, label in SETTABLE_KINDS.items():
        if wanted in (key.replace("_", " "), label.lower()):
            return key
    return None


def _parse_account(rest: str) -> Command:
    """``account <name>``, ``account edit <name>`` or ``account add [<name>]``."""
    first, _, name = rest.partition(" ")
    action = first.lower() if first.lower() in ("edit", "add") else ""
    name = name.strip() if action else rest
    if not name and action != "add":
        problem = "Say which account to edit." if action else "Name the account."
        raise UsageError(messages.usage_error(problem, "account"))
    if len(name) > MAX_CUSTOMER:
        raise UsageError(messages.usage_error(messages.account_name_too_long(len(name)), "account"))
    return Command("account", text=name, action=action)


def _parse_people(word: str, rest: str) -> Command:
    """``add``/``remove`` followed by one or more mentions, and nothing else."""
    users = tuple(dict.fromkeys(_USERS.findall(rest)))
    leftover = _USERS.sub(" ", rest).replace(",", " ").strip()
    if not users or leftover:
        problem = (
            "Mention each person by picking them from the list"
            f" (I could not read `{escape(leftover[:40])}`)."
            if users
            else "Mention who, by picking them from the list."
        )
        raise UsageError(messages.usage_error(problem, word))
    return Command(word, user_ids=users)


def _parse_new(rest: str) -> Command:
    if not rest:
        return Command("new")
    severity = DEFAULT_SEVERITY
    match = _SEVERITY_AT_END.search(rest)
    if match:
        severity = f"sev{int(match.group(2)[:3])}"
        if severity not in SEVERITIES:
            raise UsageError(messages.bad_severity(match.group(1)))
        rest = rest[: match.start()].strip()
    customer, colon, summary = rest.partition(":")
    customer, summary = customer.strip(), summary.strip()
    if not colon:
        raise UsageError(messages.usage_error("Put a colon after the customer's name.", "new"))
    if not customer:
        raise UsageError(messages.usage_error("Name the customer before the colon.", "new"))
    if not summary:
        raise UsageError(
            messages.usage_error("Say what happened to the customer after the colon.", "new")
        )
    if len(customer) > MAX_CUSTOMER:
        raise UsageError(messages.usage_error(messages.customer_too_long(len(customer)), "new"))
    if len(summary) > MAX_FIELD:
        raise UsageError(
            messages.usage_error(
                messages.text_too_long("The summary", len(summary), MAX_FIELD), "new"
            )
        )
    assert severity in SEVERITIES
    return Command("new", customer=customer, text=summary, severity=severity)
