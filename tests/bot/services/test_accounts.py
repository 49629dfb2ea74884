"""Accounts from the CRM's CSV: every bad row named, all or nothing, a round trip, matching."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Account
from bot.db.session import SessionFactory
from bot.services import accounts
from tests.support import T0

BOTH_DATABASES = 1
HEADER = (
    "name,aliases,tier,csm,team,timezone,business_hours,language,customer_channel,"
    "cadence_sev1,cadence_sev2,cadence_sev3,cadence_sev4"
)
EMAILS = {"ana@acme.example": "U0ANA", "chen@acme.example": "U0CHEN"}


def lookup(email: str) -> str | None:
    return EMAILS.get(email.lower())


def read(text: str) -> list[accounts.AccountRecord]:
    return accounts.read_csv(text, default_timezone="Europe/London", lookup_email=lookup)


GOOD = "\n".join(
    [
        HEADER,
        "Globex Corp,Globex;GLOBEX Inc,strategic,ana@acme.example,U0BEN;chen@acme.example,"
        "America/New_York,Mon-Fri 09:00-17:00,en,C0SHARED,15m,1h,,",
        'שלום בע"מ,Shalom,enterprise,U0DANA,,Asia/Jerusalem,Sun-Thu 08:30-17:30,he,,,,8h,2d',
        "Initech,,,,,,,,,,,,",
        "",
    ]
)


def test_a_good_file_reads_every_column() -> None:
    globex, shalom, initech = read(GOOD)
    assert globex == accounts.AccountRecord(
        name="Globex Corp",
        aliases=("Globex", "GLOBEX Inc"),
        tier="strategic",
        csm_id="U0ANA",
        team=("U0BEN", "U0CHEN"),
        timezone="America/New_York",
        business_hours="Mon-Fri 09:00-17:00",
        language="en",
        customer_channel="C0SHARED",
        cadences=(900, 3600, None, None),
        line=2,
    )
    assert (shalom.language, shalom.business_hours, shalom.cadences) == (
        "he",
        "Sun-Thu 08:30-17:30",
        (None, None, 8 * 3600, 2 * 86400),
    )
    # Defaults: the configured time zone, office hours, English, nothing contracted.
    assert (initech.timezone, initech.business_hours, initech.language, initech.csm_id) == (
        "Europe/London",
        "Mon-Fri 09:00-17:00",
        "en",
        None,
    )


def test_every_bad_row_is_named_with_what_it_accepts() -> None:
    bad = f"""{HEADER},notes
,,,,,,,,,,,,,extra columns are ignored
Umbrella,,,nobody@acme.example,U0BEN;ben,Mars/Olympus,weekdays,fr,general,often,10s,,
Hooli,,,U0ANA,,,Mon-Fri 17:00-09:00,,,,,,
Umbrella Corp,umbrella,,,,,,,,,,,
"""
    with pytest.raises(accounts.AccountsFileError) as raised:
        read(bad)
    assert raised.value.problems == [
        "line 2: name: missing: every account needs a name, such as Acme Corp",
        "line 3: csm: no one in the workspace has the email nobody@acme.example: use their"
        " Slack email or their user id (U…)",
        "line 3: team: 'ben' is neither a Slack user id (U…) nor an email",
        "line 3: timezone: 'Mars/Olympus' is not a time zone: use an IANA time zone such as"
        " Europe/London, America/New_York or Asia/Jerusalem",
        "line 3: business_hours: 'weekdays' is not working hours: use days and hours such as"
        " Mon-Fri 09:00-17:00, Sun-Thu 08:30-17:30 or Mon,Wed,Fri 10:00-16:00 (or 24/7)",
        "line 3: language: 'fr' is not a language we write in: use en (English) or he (Hebrew)",
        "line 3: customer_channel: 'general' is not a channel id: use the id of the channel"
        " shared with the customer, such as C0123ABCD (in Slack: the channel's details, at the"
        " bottom)",
        "line 3: cadence_sev1: 'often' is not a duration: use a number followed by s, m, h or"
        " d, such as 45s, 30m, 2h or 1d (or 1h30m)",
        "line 3: cadence_sev2: '10s' is under a minute: updates that often are noise",
        "line 4: business_hours: 'Mon-Fri 17:00-09:00' closes before it opens: the hours must"
        " be within one day, days and hours such as Mon-Fri 09:00-17:00, Sun-Thu 08:30-17:30 or"
        " Mon,Wed,Fri 10:00-16:00 (or 24/7)",
    ]


def test_a_name_or_alias_twice_in_one_file_is_refused() -> None:
    text = f"{HEADER}\nAcme Corp,Acme,,,,,,,,,,,\nACME,,,,,,,,,,,,\n"
    with pytest.raises(accounts.AccountsFileError) as raised:
        read(text)
    assert raised.value.problems == [
        "line 3: name: 'acme' is already a name or alias on line 2: each name and alias"
        " belongs to one account"
    ]


def test_a_file_without_a_name_column_says_which_columns() -> None:
    with pytest.raises(accounts.AccountsFileError) as raised:
        read("customer,tier\nAcme,gold\n")
    assert raised.value.problems[0].startswith(
        "line 1: name: the header row has no name column; the columns are name, aliases, tier"
    )


def stored(session_factory: SessionFactory) -> list[tuple[object, ...]]:
    with session_factory() as session:
        return [
            (a.name, a.aliases, a.csm_id, a.team, a.cadence_sev1, a.updated_at)
            for a in session.scalars(select(Account).order_by(Account.name_key))
        ]


def test_import_is_an_upsert_by_name_and_a_dry_run_writes_nothing(
    session_factory: SessionFactory,
) -> None:
    with session_factory() as session:
        report = accounts.upsert(session=session, records=read(GOOD), now=T0, dry_run=True)
    assert report.created == ["Globex Corp", 'שלום בע"מ', "Initech"]
    assert stored(session_factory) == []
    with session_factory() as session:
        accounts.upsert(session=session, records=read(GOOD), now=T0)
    first = stored(session_factory)
    assert len(first) == 3
    # The same file again changes nothing, not even the time it was last updated.
    with session_factory() as session:
        again = accounts.upsert(session=session, records=read(GOOD), now=T0.replace(hour=23))
    assert (again.created, again.updated) == ([], [])
    assert stored(session_factory) == first
    # A name matched ignoring case and accents updates that account.
    changed = f"{HEADER}\nGLOBEX CORP,,gold,U0DANA,,,,,,5m,,,\n"
    with session_factory() as session:
        report = accounts.upsert(session=session, records=read(changed), now=T0)
    assert report.updated == ["GLOBEX CORP"]
    with session_factory() as session:
        globex = accounts.find(session, "globex corp")
        assert globex is not None
        assert (globex.name, globex.csm_id, globex.cadence_sev1, globex.aliases) == (
            "GLOBEX CORP",
            "U0DANA",
            300,
            [],
        )


def test_an_alias_taken_by_another_account_imports_nothing(
    session_factory: SessionFactory,
) -> None:
    with session_factory() as session:
        accounts.upsert(session=session, records=read(GOOD), now=T0)
    clash = f"{HEADER}\nNew One,,,,,,,,,,,,\nGlobal Exchange,globex inc,,,,,,,,,,,\n"
    with session_factory() as session, pytest.raises(accounts.AccountsFileError) as raised:
        accounts.upsert(session=session, records=read(clash), now=T0)
    assert raised.value.problems == [
        "line 3: aliases: 'globex inc' already names the account Globex Corp: each name and"
        " alias belongs to one account"
    ]
    with session_factory() as session:
        assert accounts.find(session, "New One") is None  # all or nothing


def test_export_then_import_changes_nothing(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        accounts.upsert(session=session, records=read(GOOD), now=T0)
        exported = accounts.to_csv(accounts.all_accounts(session))
    assert exported.splitlines()[0] == HEADER
    assert "Globex Corp,Globex;GLOBEX Inc,strategic,U0ANA,U0BEN;U0CHEN" in exported
    with session_factory() as session:
        report = accounts.upsert(session=session, records=read(exported), now=T0)
    assert report.unchanged == ["Globex Corp", "Initech", 'שלום בע"מ']
    with session_factory() as session:
        assert accounts.to_csv(accounts.all_accounts(session)) == exported


@pytest.mark.parametrize(
    "typed",
    ["Globex Corp", "globex corp", "  GLOBEX   CORP ", "Globex-Corp.", "Glóbex Corp", "globex inc"],
)
def test_names_match_ignoring_case_accents_and_punctuation(
    session_factory: SessionFactory, typed: str
) -> None:
    with session_factory() as session:
        accounts.upsert(session=session, records=read(GOOD), now=T0)
        found = accounts.find(session, typed)
        assert found is not None and found.name == "Globex Corp"


def test_a_near_miss_is_suggested_and_a_new_name_is_not(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        accounts.upsert(session=session, records=read(GOOD), now=T0)
        assert accounts.find(session, "Globex Crop") is None
        near = accounts.closest(session, "Globex Crop")
        assert near is not None and near.name == "Globex Corp"
        assert accounts.closest(session, "Intech") is not None
        assert accounts.closest(session, "Wayne Enterprises") is None


def test_the_type_ahead_finds_by_prefix_first(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        accounts.upsert(session=session, records=read(GOOD), now=T0)
        assert [a.name for a in accounts.search(session, "glo")] == ["Globex Corp"]
        assert [a.name for a in accounts.search(session, "tech")] == ["Initech"]
        assert len(accounts.search(session, "")) == 3
