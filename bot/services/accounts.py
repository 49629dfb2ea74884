"""Customer accounts: the CSV the team's CRM exports, matching a typed name to an account.

The CSV columns are a contract (README, `crisisbot accounts import|export`): ``name``,
``aliases``, ``tier``, ``csm``, ``team``, ``timezone``, ``business_hours``, ``language``,
``customer_channel``, ``cadence_sev1`` … ``cadence_sev4``.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Account
from bot.domain import MAX_CUSTOMER, SEVERITIES
from bot.durations import DurationError, compact_duration, parse_duration
from bot.hours import HoursError, WorkingHours, parse_timezone

COLUMNS = (
    "name",
    "aliases",
    "tier",
    "csm",
    "team",
    "timezone",
    "business_hours",
    "language",
    "customer_channel",
    "cadence_sev1",
    "cadence_sev2",
    "cadence_sev3",
    "cadence_sev4",
)
CADENCE_COLUMNS = tuple(f"cadence_{severity}" for severity in SEVERITIES)
LANGUAGES = {"en": "English", "he": "Hebrew"}
DEFAULT_LANGUAGE = "en"
DEFAULT_BUSINESS_HOURS = "Mon-Fri 09:00-17:00"
MAX_TIER = 60
MAX_TEAM = 50
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
# How alike an unknown name must be to an account's to ask "did you mean…?" (difflib ratio).
NEAR_MISS = 0.8

EmailLookup = Callable[[str], str | None]


def name_key(text: str) -> str:
    """A name as it is matched: case, accents and punctuation ignored (``Café-Müller`` and
    ``cafe muller`` are the same account)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.sub(r"[\W_]+", " ", bare.casefold())
    return " ".join(words.split())


@dataclass(frozen=True)
class AccountRecord:
    """One account as the CSV (or the edit form) describes it, checked."""

    name: str
    aliases: tuple[str, ...] = ()
    tier: str = ""
    csm_id: str | None = None
    team: tuple[str, ...] = ()
    timezone: str = "UTC"
    business_hours: str = DEFAULT_BUSINESS_HOURS
    language: str = DEFAULT_LANGUAGE
    customer_channel: str | None = None
    # Seconds per severity, None where nothing was contracted.
    cadences: tuple[int | None, ...] = (None, None, None, None)
    # Where it came from in the file, for messages.
    line: int = 0

    @property
    def key(self) -> str:
        return name_key(self.name)


@dataclass
class CsvProblems:
    """Every bad cell of a file, as ``line N: <column>: <what is wrong and what it accepts>``."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: int, column: str, problem: str) -> None:
        self.lines.append(f"line {line}: {column}: {problem}")


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]


class AccountsFileError(ValueError):
    """A file that imports nothing; ``problems`` lists every bad row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_csv(text: str, *, default_timezone: str, lookup_email: EmailLookup) -> list[AccountRecord]:
    """Parse and check a whole accounts CSV; raise ``AccountsFileError`` with every problem.

    ``lookup_email`` turns an email into a Slack user id (``users.lookupByEmail``), or None for
    someone who is not in the workspace.
    """
    problems = CsvProblems()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    if "name" not in header:
        raise AccountsFileError(
            [
                "line 1: name: the header row has no name column; the columns are "
                + ", ".join(COLUMNS)
            ]
        )
    reader.fieldnames = header
    records: list[AccountRecord] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        cells = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS}
        record = _record(cells, line, problems, default_timezone, lookup_email)
        if record is None:
            continue
        for key in (record.key, *(name_key(a) for a in record.aliases)):
            if key in seen and seen[key] != line:
                problems.add(
                    line,
                    "name" if key == record.key else "aliases",
                    f"{key!r} is already a name or alias on line {seen[key]}: each name and"
                    " alias belongs to one account",
                )
            seen.setdefault(key, line)
        records.append(record)
    if problems.lines:
        raise AccountsFileError(problems.lines)
    return records


def _record(
    cells: dict[str, str],
    line: int,
    problems: CsvProblems,
    default_timezone: str,
    lookup_email: EmailLookup,
) -> AccountRecord | None:
    before = len(problems.lines)
    name = cells.get("name", "")
    if not name:
        problems.add(line, "name", "missing: every account needs a name, such as Acme Corp")
    elif len(name) > MAX_CUSTOMER:
        problems.add(line, "name", f"{len(name)} characters: at most {MAX_CUSTOMER}")
    elif not name_key(name):
        problems.add(line, "name", f"{name!r} has no letters or digits")
    aliases = tuple(a.strip() for a in cells.get("aliases", "").split(";") if a.strip())
    for alias in aliases:
        if not name_key(alias) or len(alias) > MAX_CUSTOMER:
            problems.add(
                line,
                "aliases",
                f"{alias!r} is not a usable name: letters or digits, at most {MAX_CUSTOMER}"
                " characters, separated by ;",
            )
    tier = cells.get("tier", "")
    if len(tier) > MAX_TIER:
        problems.add(line, "tier", f"{len(tier)} characters: at most {MAX_TIER}")
    csm_text = cells.get("csm", "")
    csm = _person(csm_text, line, "csm", problems, lookup_email) if csm_text else None
    team = tuple(
        person
        for item in cells.get("team", "").split(";")
        if item.strip()
        and (person := _person(item.strip(), line, "team", problems, lookup_email)) is not None
    )
    if len(team) > MAX_TEAM:
        problems.add(line, "team", f"{len(team)} people: at most {MAX_TEAM}")
    timezone = cells.get("timezone") or default_timezone
    try:
        parse_timezone(timezone)
    except HoursError as error:
        problems.add(line, "timezone", str(error))
    hours_text = cells.get("business_hours") or DEFAULT_BUSINESS_HOURS
    hours = None
    try:
        hours = WorkingHours.parse(hours_text)
    except HoursError as error:
        problems.add(line, "business_hours", str(error))
    language = (cells.get("language") or DEFAULT_LANGUAGE).lower()
    if language not in LANGUAGES:
        problems.add(
            line,
            "language",
            f"{cells.get('language')!r} is not a language we write in: use en (English) or he"
            " (Hebrew)",
        )
    channel = cells.get("customer_channel", "").lstrip("#") or None
    if channel is not None and not _CHANNEL_ID.match(channel):
        problems.add(
            line,
            "customer_channel",
            f"{channel!r} is not a channel id: use the id of the channel shared with the"
            " customer, such as C0123ABCD (in Slack: the channel's details, at the bottom)",
        )
    cadences: list[int | None] = []
    for column in CADENCE_COLUMNS:
        text = cells.get(column, "")
        cadences.append(_cadence(text, line, column, problems) if text else None)
    if len(problems.lines) > before:
        return None
    return AccountRecord(
        name=name,
        aliases=aliases,
        tier=tier,
        csm_id=csm,
        team=tuple(dict.fromkeys(team)),
        timezone=timezone,
        business_hours=str(hours),
        language=language,
        customer_channel=channel,
        cadences=tuple(cadences),
        line=line,
    )


def _person(
    text: str, line: int, column: str, problems: CsvProblems, lookup_email: EmailLookup
) -> str | None:
    if _USER_ID.match(text):
        return text
    if _EMAIL.match(text):
        found = lookup_email(text)
        if found is None:
            problems.add(
                line,
                column,
                f"no one in the workspace has the email {text}: use their Slack email or"
                " their user id (U…)",
            )
        return found
    problems.add(line, column, f"{text!r} is neither a Slack user id (U…) nor an email")
    return None


def _cadence(text: str, line: int, column: str, problems: CsvProblems) -> int | None:
    try:
        every = parse_duration(text)
    except DurationError as error:
        problems.add(line, column, str(error))
        return None
    if every < timedelta(minutes=1):
        problems.add(line, column, f"{text!r} is under a minute: updates that often are noise")
        return None
    return int(every.total_seconds())


def upsert(
    *, session: Session, records: Sequence[AccountRecord], now: datetime, dry_run: bool = False
) -> ImportReport:
    """Create or update each account by name (case, accents and punctuation ignored), all in
    one transaction; accounts not in ``records`` stay as they are."""
    existing = {a.name_key: a for a in session.scalars(select(Account))}
    in_file = {record.key for record in records}
    # Names and aliases of the accounts this file leaves alone: nobody else may take them.
    claimed = {
        key: account.name
        for account in existing.values()
        if account.name_key not in in_file
        for key in _keys(account)
    }
    problems = CsvProblems()
    created, updated, unchanged = [], [], []
    for record in records:
        for column, text in (("name", record.name), *(("aliases", a) for a in record.aliases)):
            other = claimed.get(name_key(text))
            if other is not None:
                problems.add(
                    record.line,
                    column,
                    f"{text!r} already names the account {other}: each name and alias"
                    " belongs to one account",
                )
        account = existing.get(record.key)
        if account is None:
            account = Account(name_key=record.key, updated_at=now)
            created.append(record.name)
            if not dry_run:
                session.add(account)
        elif _fields(account) == _record_fields(record):
            unchanged.append(record.name)
            continue
        else:
            updated.append(record.name)
        _apply(account, record, now)
    if problems.lines:
        session.rollback()
        raise AccountsFileError(problems.lines)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return ImportReport(created=created, updated=updated, unchanged=unchanged)


def _apply(account: Account, record: AccountRecord, now: datetime) -> None:
    account.name = record.name
    account.name_key = record.key
    account.aliases = list(record.aliases)
    account.tier = record.tier
    account.csm_id = record.csm_id
    account.team = list(record.team)
    account.timezone = record.timezone
    account.business_hours = record.business_hours
    account.language = record.language
    account.customer_channel = record.customer_channel
    (
        account.cadence_sev1,
        account.cadence_sev2,
        account.cadence_sev3,
        account.cadence_sev4,
    ) = record.cadences
    account.updated_at = now


def _record_fields(record: AccountRecord) -> tuple[object, ...]:
    return (
        record.name,
        list(record.aliases),
        record.tier,
        record.csm_id,
        list(record.team),
        record.timezone,
        record.business_hours,
        record.language,
        record.customer_channel,
        record.cadences,
    )


def _fields(account: Account) -> tuple[object, ...]:
    return (
        account.name,
        list(account.aliases),
        account.tier,
        account.csm_id,
        list(account.team),
        account.timezone,
        account.business_hours,
        account.language,
        account.customer_channel,
        (account.cadence_sev1, account.cadence_sev2, account.cadence_sev3, account.cadence_sev4),
    )


def all_accounts(session: Session) -> list[Account]:
    """Every account, by name."""
    return sorted(session.scalars(select(Account)), key=lambda a: a.name_key)


def to_csv(accounts: Iterable[Account]) -> str:
    """The accounts in the import format (import it back and nothing changes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for account in accounts:
        cadences = (
            account.cadence_sev1,
            account.cadence_sev2,
            account.cadence_sev3,
            account.cadence_sev4,
        )
        writer.writerow(
            [
                account.name,
                ";".join(account.aliases),
                account.tier,
                account.csm_id or "",
                ";".join(account.team),
                account.timezone,
                account.business_hours,
                account.language,
                account.customer_channel or "",
                *(compact_duration(timedelta(seconds=c)) if c else "" for c in cadences),
            ]
        )
    return out.getvalue()


def find(session: Session, name: str) -> Account | None:
    """The account called ``name`` or known by it as an alias (case, accents, punctuation
    ignored)."""
    key = name_key(name)
    if not key:
        return None
    found = session.scalars(select(Account).where(Account.name_key == key)).first()
    if found is not None:
        return found
    # Aliases are a JSON list: compared here, the same on SQLite and PostgreSQL.
    return next((a for a in session.scalars(select(Account)) if key in _keys(a)), None)


def _keys(account: Account) -> tuple[str, ...]:
    """Every name an account goes by, as it is matched."""
    return (account.name_key, *(name_key(alias) for alias in account.aliases))


def closest(session: Session, name: str) -> Account | None:
    """An account whose name or alias is nearly ``name`` ("Acme Crop" → Acme Corp)."""
    key = name_key(name)
    best: tuple[float, Account] | None = None
    for account in session.scalars(select(Account)):
        for candidate in _keys(account):
            ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
            if ratio >= NEAR_MISS and (best is None or ratio > best[0]):
                best = (ratio, account)
    return best[1] if best else None


def search(session: Session, text: str, *, limit: int = 100) -> list[Account]:
    """Accounts whose name or an alias contains ``text`` (for a type-ahead), best first."""
    key = name_key(text)
    scored = []
    for account in session.scalars(select(Account)):
        names = _keys(account)
        if not key:
            scored.append((2, account.name_key, account))
        elif any(n.startswith(key) for n in names):
            scored.append((0, account.name_key, account))
        elif any(key in n for n in names):
            scored.append((1, account.name_key, account))
    scored.sort(key=lambda item: item[:2])
    return [account for *_, account in scored[:limit]]
