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
from bot.enums import CrisisKind, Severity, Subcommand
from bot.text import escape, from_slack

# An outage's title: it names the channel and heads the card.
MAX_OUTAGE_TITLE = 150
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USERS = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# Anything at the end that reads as a severity: sev1, [SEV2], sev-1, sev 3, severity 4, but
# also sev5 or sev0, which are refused rather than kept as part of the summary.
_SEVERITY_AT_END = re.compile(
    r"(?:^|\s)\[?(sev(?:erity)?[ _-]?(\d+))\]?\s*$",
    re.IGNORECASE,
)

CHANNEL_COMMANDS = (
    Subcommand.UPDATE,
    Subcommand.TELL,
    Subcommand.CLOSE,
    Subcommand.OWNER,
    Subcommand.ADD,
    Subcommand.REMOVE,
    Subcommand.EVERY,
    Subcommand.SEVERITY,
    Subcommand.KIND,
    Subcommand.ACK,
    Subcommand.STATUS,
    Subcommand.REOPEN,
)
ANYWHERE_COMMANDS = (
    Subcommand.NEW,
    Subcommand.LIST,
    Subcommand.ACCOUNT,
    Subcommand.ACCOUNTS,
    Subcommand.REPORT,
    Subcommand.HELP,
    Subcommand.OUTAGE,
)
# In an outage's channel (``status`` and ``close`` work there too).
OUTAGE_COMMANDS = (
    Subcommand.AFFECTED,
    Subcommand.UNAFFECTED,
    Subcommand.SPLIT,
    Subcommand.BROADCAST,
)


# ``/crisis report``'s periods, in days.
REPORT_PERIODS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_REPORT_PERIOD = "30d"


def subcommands() -> tuple[Subcommand, ...]:
    """Every subcommand, from the two tables above (new ones added there are included)."""
    return ANYWHERE_COMMANDS + CHANNEL_COMMANDS + OUTAGE_COMMANDS


class UsageError(ValueError):
    """The text was not a command we understand; ``str(error)`` tells the user how to fix it."""


@dataclass(frozen=True)
class Command:
    """A parsed ``/crisis`` command."""

    name: Subcommand
    text: str = ""
    customer: str = ""
    severity: Severity = DEFAULT_SEVERITY
    user_id: str = ""
    every: timedelta | None = None
    user_ids: tuple[str, ...] = ()
    kind: CrisisKind | None = None
    mine: bool = False
    # ``account``: "" shows the account named ``text``, "edit" edits it, "add" adds one.
    action: str = ""
    # ``affected``: the accounts named, comma-separated.
    names: tuple[str, ...] = ()
    # ``report``: how many days back the report looks.
    days: int = 0

    @property
    def needs_crisis_channel(self) -> bool:
        return self.name in CHANNEL_COMMANDS


def parse(text: str) -> Command:
    """Parse the text after ``/crisis``."""
    text = (text or "").strip()
    if not text:
        return Command(Subcommand.NEW)
    word, _, rest = text.partition(" ")
    word = word.lower()
    rest = rest.strip()
    if word not in subcommands():
        raise UsageError(messages.unknown_subcommand(word, suggestion=closest_subcommand(word)))
    name = Subcommand(word)
    if name in (
        Subcommand.NEW,
        Subcommand.UPDATE,
        Subcommand.TELL,
        Subcommand.CLOSE,
        Subcommand.REOPEN,
        Subcommand.ACCOUNT,
        Subcommand.ACCOUNTS,
        Subcommand.OUTAGE,
        Subcommand.BROADCAST,
        *OUTAGE_COMMANDS,
    ):
        # Slack sends text escaped, with mentions as tokens; keep what the person typed.
        rest = from_slack(rest).strip()
    if name == Subcommand.NEW:
        return _parse_new(rest)
    if name in (Subcommand.OUTAGE, *OUTAGE_COMMANDS):
        return _parse_outage(name, rest)
    if name in (Subcommand.UPDATE, Subcommand.TELL, Subcommand.CLOSE):
        if not rest:
            problem = {
                Subcommand.UPDATE: "Say what changed and what happens next.",
                Subcommand.TELL: "Say what the customer should know.",
            }.get(name, "Say how it was resolved.")
            raise UsageError(messages.usage_error(problem, name))
        limit = MAX_RESOLUTION if name == Subcommand.CLOSE else MAX_UPDATE
        if len(rest) > limit:
            what = {Subcommand.UPDATE: "The update", Subcommand.TELL: "The message"}.get(
                name, "The resolution"
            )
            problem = messages.text_too_long(what, len(rest), limit, where=f"in one {name}")
            raise UsageError(messages.usage_error(problem, name))
        return Command(name, text=rest)
    if name == Subcommand.OWNER:
        match = _USER.match(rest)
        if not match:
            raise UsageError(
                messages.usage_error(
                    "Mention the new owner by picking them from the list.", Subcommand.OWNER
                )
            )
        return Command(Subcommand.OWNER, user_id=match.group(1))
    if name in (Subcommand.ADD, Subcommand.REMOVE):
        return _parse_people(name, rest)
    if name == Subcommand.EVERY:
        if not rest:
            raise UsageError(messages.usage_error("Say how often.", Subcommand.EVERY))
        try:
            every = parse_duration(rest)
        except DurationError as error:
            raise UsageError(messages.bad_duration(str(error))) from None
        if every < timedelta(minutes=1):
            raise UsageError(
                messages.bad_duration("Updates more often than every minute would be noise.")
            )
        return Command(Subcommand.EVERY, every=every)
    if name == Subcommand.SEVERITY:
        severity = rest.lower().strip("[]")
        if severity not in SEVERITIES:
            raise UsageError(messages.bad_severity(rest, command=Subcommand.SEVERITY))
        return Command(Subcommand.SEVERITY, severity=Severity(severity))
    if name == Subcommand.KIND:
        kind = kind_named(rest)
        if kind is None:
            raise UsageError(messages.bad_kind(rest, list(SETTABLE_KINDS.values())))
        return Command(Subcommand.KIND, kind=kind)
    if name == Subcommand.REOPEN:
        if not rest:
            raise UsageError(
                messages.usage_error("Say why it is being reopened.", Subcommand.REOPEN)
            )
        return Command(Subcommand.REOPEN, text=rest)
    if name == Subcommand.LIST:
        if rest.lower() not in ("", "mine"):
            problem = f"I don't know `list {escape(rest[:40])}`."
            raise UsageError(messages.usage_error(problem, Subcommand.LIST))
        return Command(Subcommand.LIST, mine=rest.lower() == "mine")
    if name == Subcommand.ACCOUNT:
        return _parse_account(rest)
    if name == Subcommand.REPORT:
        days = REPORT_PERIODS.get(rest.lower() or DEFAULT_REPORT_PERIOD)
        if days is None:
            raise UsageError(messages.bad_report_period(rest, list(REPORT_PERIODS)))
        return Command(Subcommand.REPORT, days=days)
    if name == Subcommand.ACCOUNTS:
        return Command(Subcommand.ACCOUNTS, text=rest[:MAX_CUSTOMER])
    # ack, status, help: nothing follows them.
    return Command(name)


def closest_subcommand(word: str) -> Subcommand | None:
    """The subcommand ``word`` was probably meant to be (``nwe`` → ``new``), if any is close."""
    close = difflib.get_close_matches(word.lower(), subcommands(), n=1, cutoff=0.6)
    return Subcommand(close[0]) if close else None


# Kinds a crisis can be changed to: a question is not a crisis (close it instead).
SETTABLE_KINDS = {key: label for key, label in KIND_LABELS.items() if key != NOT_A_CRISIS}


def kind_named(text: str) -> CrisisKind | None:
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
        raise UsageError(messages.usage_error(problem, Subcommand.ACCOUNT))
    if len(name) > MAX_CUSTOMER:
        raise UsageError(
            messages.usage_error(messages.account_name_too_long(len(name)), Subcommand.ACCOUNT)
        )
    return Command(Subcommand.ACCOUNT, text=name, action=action)


def _parse_people(word: Subcommand, rest: str) -> Command:
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


def _parse_outage(name: Subcommand, rest: str) -> Command:
    """``outage [<title> [sevN]]``, ``affected a, b``, ``unaffected a``, ``split a``,
    ``broadcast <text>``."""
    if name == Subcommand.OUTAGE:
        if not rest:
            return Command(Subcommand.OUTAGE)
        severity = DEFAULT_SEVERITY
        match = _SEVERITY_AT_END.search(rest)
        if match:
            typed = f"sev{int(match.group(2)[:3])}"
            if typed not in SEVERITIES:
                raise UsageError(messages.bad_severity(match.group(1), command=name))
            severity = Severity(typed)
            rest = rest[: match.start()].strip()
        if not rest:
            raise UsageError(messages.usage_error("Give the outage a title.", name))
        if len(rest) > MAX_OUTAGE_TITLE:
            problem = messages.text_too_long("The title", len(rest), MAX_OUTAGE_TITLE)
            raise UsageError(messages.usage_error(problem, name))
        return Command(name, text=rest, severity=severity)
    if name == Subcommand.BROADCAST:
        if not rest:
            raise UsageError(messages.usage_error("Say what we are doing about it.", name))
        if len(rest) > MAX_UPDATE:
            problem = messages.text_too_long("The message", len(rest), MAX_UPDATE)
            raise UsageError(messages.usage_error(problem, name))
        return Command(name, text=rest)
    names = tuple(dict.fromkeys(part.strip() for part in rest.split(",") if part.strip()))
    if not names:
        raise UsageError(messages.usage_error("Name the account.", name))
    if name != Subcommand.AFFECTED and len(names) > 1:
        raise UsageError(messages.usage_error("Name one account at a time.", name))
    if any(len(part) > MAX_CUSTOMER for part in names):
        raise UsageError(
            messages.usage_error(messages.account_name_too_long(MAX_CUSTOMER + 1), name)
        )
    return Command(name, text=names[0], names=names)


def _parse_new(rest: str) -> Command:
    if not rest:
        return Command(Subcommand.NEW)
    severity = DEFAULT_SEVERITY
    match = _SEVERITY_AT_END.search(rest)
    if match:
        typed = f"sev{int(match.group(2)[:3])}"
        if typed not in SEVERITIES:
            raise UsageError(messages.bad_severity(match.group(1)))
        severity = Severity(typed)
        rest = rest[: match.start()].strip()
    customer, colon, summary = rest.partition(":")
    customer, summary = customer.strip(), summary.strip()
    if not colon:
        raise UsageError(
            messages.usage_error("Put a colon after the customer's name.", Subcommand.NEW)
        )
    if not customer:
        raise UsageError(
            messages.usage_error("Name the customer before the colon.", Subcommand.NEW)
        )
    if not summary:
        raise UsageError(
            messages.usage_error(
                "Say what happened to the customer after the colon.", Subcommand.NEW
            )
        )
    if len(customer) > MAX_CUSTOMER:
        raise UsageError(
            messages.usage_error(messages.customer_too_long(len(customer)), Subcommand.NEW)
        )
    if len(summary) > MAX_FIELD:
        raise UsageError(
            messages.usage_error(
                messages.text_too_long("The summary", len(summary), MAX_FIELD), Subcommand.NEW
            )
        )
    assert severity in SEVERITIES
    return Command(Subcommand.NEW, customer=customer, text=summary, severity=severity)
