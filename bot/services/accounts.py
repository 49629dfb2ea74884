"""Customer accounts: the CSV the team's CRM exports, matching a typed name to an account.

The CSV columns are a contract (README, `crisisbot accounts import|export`): ``name``,
``aliases``, ``tier``, ``csm``, ``team``, ``timezone``, ``business_hours``, ``language``,
``customer_channel``, ``cadence_sev1`` … ``cadence_sev4``.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.db.models import Account, Crisis
from bot.domain import MAX_CUSTOMER, SEVERITIES
from bot.durations import DurationError, compact_duration, parse_duration
from bot.enums import CrisisStatus
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
    """Every bad cell of a file (or of the edit form): ``(line, column, what is wrong and what
    it accepts)``."""

    found: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, line: int, column: str, problem: str) -> None:
        self.found.append((line, column, problem))

    @property
    def lines(self) -> list[str]:
        """As a file's problems are printed: ``line N: <column>: <problem>``."""
        return [f"line {line}: {column}: {problem}" for line, column, problem in self.found]

    def by_column(self) -> dict[str, str]:
        """Each column's problems in one sentence, as a form shows them next to its fields."""
        out: dict[str, str] = {}
        for _, column, problem in self.found:
            out[column] = f"{out[column]} {problem}" if column in out else problem
        return out


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]


class AccountsFileError(ValueError):
    """Records that store nothing; ``problems`` lists every bad row, ``fields`` has each bad
    column's problems (for a form)."""

    def __init__(self, problems: list[str], *, fields: dict[str, str] | None = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.fields = fields or {}

    @classmethod
    def of(cls, problems: CsvProblems) -> AccountsFileError:
        return cls(problems.lines, fields=problems.by_column())


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
    if problems.found:
        raise AccountsFileError.of(problems)
    return records


def check_record(
    cells: Mapping[str, str], *, default_timezone: str, lookup_email: EmailLookup, line: int = 0
) -> AccountRecord:
    """One account's cells (the CSV's columns, as text) checked by the CSV's rules; raise
    ``AccountsFileError`` with every bad cell at once."""
    problems = CsvProblems()
    clean = {k: (v or "").strip() for k, v in cells.items() if k in COLUMNS}
    record = _record(clean, line, problems, default_timezone, lookup_email)
    if record is None:
        raise AccountsFileError.of(problems)
    return record


def _record(
    cells: dict[str, str],
    line: int,
    problems: CsvProblems,
    default_timezone: str,
    lookup_email: EmailLookup,
) -> AccountRecord | None:
    before = len(problems.found)
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
    if len(problems.found) > before:
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
    everyone = list(session.scalars(select(Account)))
    existing = {a.name_key: a for a in everyone}
    report, _ = _store(
        session,
        [(record, existing.get(record.key)) for record in records],
        everyone,
        now,
        dry_run=dry_run,
    )
    return report


def save(
    *, session: Session, record: AccountRecord, now: datetime, account_id: int | None = None
) -> Account:
    """Store one account from the edit form: the account ``account_id`` (renamed if the name
    changed), or a new one; the same checks and writes as an import."""
    everyone = list(session.scalars(select(Account)))
    account = None
    if account_id is not None:
        account = next((a for a in everyone if a.id == account_id), None)
        if account is None:
            raise AccountsFileError(
                [f"line {record.line}: name: that account is gone"],
                fields={"name": "This account no longer exists; nothing was saved."},
            )
    _, written = _store(session, [(record, account)], everyone, now, dry_run=False)
    return written[0]


def _store(
    session: Session,
    targets: Sequence[tuple[AccountRecord, Account | None]],
    everyone: Sequence[Account],
    now: datetime,
    *,
    dry_run: bool,
) -> tuple[ImportReport, list[Account]]:
    """Write each record onto its account (None: a new one) in one transaction, unless a name
    or alias belongs to an account not being written."""
    written_ids = {id(account) for _, account in targets if account is not None}
    # Names and aliases of the accounts left alone: nobody else may take them.
    claimed = {
        key: account.name
        for account in everyone
        if id(account) not in written_ids
        for key in _keys(account)
    }
    problems = CsvProblems()
    created, updated, unchanged = [], [], []
    written: list[Account] = []
    for record, target in targets:
        for column, text in (("name", record.name), *(("aliases", a) for a in record.aliases)):
            other = claimed.get(name_key(text))
            if other is not None:
                problems.add(
                    record.line,
                    column,
                    f"{text!r} already names the account {other}: each name and alias"
                    " belongs to one account",
                )
        account = target
        if account is None:
            account = Account(name_key=record.key, updated_at=now)
            created.append(record.name)
            if not dry_run:
                session.add(account)
        elif as_record(account) == dataclasses.replace(record, line=0):
            unchanged.append(record.name)
            written.append(account)
            continue
        else:
            updated.append(record.name)
        _apply(account, record, now)
        written.append(account)
    if problems.found:
        session.rollback()
        raise AccountsFileError.of(problems)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return ImportReport(created=created, updated=updated, unchanged=unchanged), written


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


def as_record(account: Account) -> AccountRecord:
    """What is stored for an account, as the record an import or the form would give."""
    return AccountRecord(
        name=account.name,
        aliases=tuple(account.aliases),
        tier=account.tier,
        csm_id=account.csm_id,
        team=tuple(account.team),
        timezone=account.timezone,
        business_hours=account.business_hours,
        language=account.language,
        customer_channel=account.customer_channel,
        cadences=(
            account.cadence_sev1,
            account.cadence_sev2,
            account.cadence_sev3,
            account.cadence_sev4,
        ),
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
        cells = to_cells(account)
        writer.writerow([cells[column] for column in COLUMNS])
    return out.getvalue()


def to_cells(account: Account) -> dict[str, str]:
    """An account as the CSV's cells (the edit form starts from these)."""
    cadences = as_record(account).cadences
    return {
        "name": account.name,
        "aliases": ";".join(account.aliases),
        "tier": account.tier,
        "csm": account.csm_id or "",
        "team": ";".join(account.team),
        "timezone": account.timezone,
        "business_hours": account.business_hours,
        "language": account.language,
        "customer_channel": account.customer_channel or "",
        **{
            column: compact_duration(timedelta(seconds=c)) if c else ""
            for column, c in zip(CADENCE_COLUMNS, cadences, strict=True)
        },
    }


def by_id(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def any_accounts(session: Session) -> bool:
    return session.scalars(select(Account.id).limit(1)).first() is not None


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


def search(session: Session, text: str, *, limit: int | None = 100) -> list[Account]:
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


@dataclass(frozen=True)
class CustomerTime:
    """What time it is where the customer is, and whether they are at work."""

    local: datetime
    zone: str
    hours: str
    open_now: bool
    # When they open next (their local time), if they are closed now.
    opens: datetime | None


def customer_time(account: Account, now: datetime) -> CustomerTime | None:
    """The account's local time and business hours now; None if what is stored is unusable."""
    try:
        zone = parse_timezone(account.timezone)
        hours = WorkingHours.parse(account.business_hours)
    except HoursError:
        return None
    open_now = hours.is_open(now, zone)
    opens = None if open_now else hours.next_open(now, zone).astimezone(zone)
    return CustomerTime(
        local=now.astimezone(zone),
        zone=account.timezone,
        hours=str(hours),
        open_now=open_now,
        opens=opens,
    )


def _is_for(crisis: Crisis, account: Account, keys: Collection[str]) -> bool:
    # Linked when declared for the account; one declared before the account existed (or typed
    # by hand) is the account's when its customer is one of the account's names.
    if crisis.account_id is not None:
        return crisis.account_id == account.id
    return name_key(crisis.customer) in keys


def open_crises(session: Session, account: Account) -> list[Crisis]:
    """The account's open crises, the next update due first."""
    keys = _keys(account)
    query = (
        select(Crisis)
        .where(Crisis.status.in_((CrisisStatus.OPEN, CrisisStatus.DECLARING)))
        .order_by(Crisis.next_update_due_at, Crisis.id)
    )
    return [c for c in session.scalars(query) if _is_for(c, account, keys)]


def recent_crises(session: Session, account: Account, *, limit: int = 5) -> list[Crisis]:
    """The account's last ``limit`` closed crises, the latest first."""
    keys = _keys(account)
    query = (
        select(Crisis)
        .where(Crisis.status == CrisisStatus.CLOSED)
        .where(or_(Crisis.account_id == account.id, Crisis.account_id.is_(None)))
        .order_by(Crisis.closed_at.desc(), Crisis.id.desc())
    )
    found = []
    for crisis in session.scalars(query):
        if _is_for(crisis, account, keys):
            found.append(crisis)
            if len(found) == limit:
                break
    return found


def open_crisis_counts(session: Session, accounts: Sequence[Account]) -> dict[int, int]:
    """How many open crises each account has, by account id."""
    counts = {account.id: 0 for account in accounts}
    by_key = {key: account.id for account in accounts for key in _keys(account)}
    query = select(Crisis).where(Crisis.status.in_((CrisisStatus.OPEN, CrisisStatus.DECLARING)))
    for crisis in session.scalars(query):
        if crisis.account_id is not None:
            owner = crisis.account_id if crisis.account_id in counts else None
        else:
            owner = by_key.get(name_key(crisis.customer))
        if owner is not None:
            counts[owner] += 1
    return counts
