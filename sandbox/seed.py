"""The default seeded workspace: team Acme Success, crisisbot, four humans, a guest and one
customer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.workspace import Channel, Team, TextSetting, User, Workspace

TEAM_ID = "T0CRISIS"
CUSTOMER_TEAM_ID = "T0CUSTOMER"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
SEED_TIME = 1700000000

# (id, name, real name, tz, fallback offset in seconds if tz data is missing)
_HUMANS = [
    ("U0ANA", "ana", "Ana Alvarez", "America/New_York", -18000),
    ("U0BEN", "ben", "Ben Brooks", "Europe/London", 0),
    ("U0CHEN", "chen", "Chen Wei", "Asia/Singapore", 28800),
    ("U0DANA", "dana", "Dana Diaz", "America/Los_Angeles", -28800),
]


def tz_fields(tz: str, fallback_offset: int) -> tuple[str, int]:
    """Return (tz_label, tz_offset) for now, as Slack reports them (DST-aware)."""
    try:
        now = datetime.now(ZoneInfo(tz))
    except ZoneInfoNotFoundError:
        return tz, fallback_offset
    offset = now.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else fallback_offset
    return now.tzname() or tz, seconds


def _human(uid: str, name: str, real: str, tz: str, fallback: int, team: str, domain: str) -> User:
    label, offset = tz_fields(tz, fallback)
    return User(
        id=uid,
        name=name,
        real_name=real,
        team_id=team,
        tz=tz,
        tz_label=label,
        tz_offset=offset,
        email=f"{name}@{domain}",
    )


def seed_default(ws: Workspace) -> None:
    """Fill an empty workspace with the default users and channels."""
    ws.teams[CUSTOMER_TEAM_ID] = Team(CUSTOMER_TEAM_ID, "Globex Corp", "globex", "globex.example")
    ws.add_user(
        User(
            id=BOT_USER_ID,
            name="crisisbot",
            real_name="Crisis Bot",
            team_id=TEAM_ID,
            is_bot=True,
            bot_id=BOT_ID,
        )
    )
    for uid, name, real, tz, fallback in _HUMANS:
        ws.add_user(_human(uid, name, real, tz, fallback, TEAM_ID, "acme.example"))
    ws.users["U0ANA"].is_admin = True
    ws.usergroups["S0CSLEADS"] = ("cs-leads", {"U0DANA"})
    customer = _human(
        "U0CORA", "cora", "Cora Customer", "Europe/Berlin", 3600, CUSTOMER_TEAM_ID, "globex.example"
    )
    customer.is_stranger = True
    ws.add_user(customer)
    # A multi-channel guest of our own workspace (a contractor): in the team's list of
    # people, but never part of a crisis.
    guest = _human(
        "U0GUS", "gus", "Gus Guest", "Europe/Madrid", 3600, TEAM_ID, "contractor.example"
    )
    guest.is_restricted = True
    ws.add_user(guest)

    humans = {uid for uid, *_ in _HUMANS}
    channels = [
        ("C0GENERAL", "general", "Company-wide announcements", humans | {BOT_USER_ID}),
        ("C0CRISES", "cs-crises", "Announcements of customer crises", humans | {BOT_USER_ID}),
        ("C0ESCAL", "cs-escalations", "Escalations from the CS team", {"U0ANA", "U0BEN"}),
        (
            "C0WEEKLY",
            "cs-weekly",
            "How we keep our promises: the weekly digest",
            humans | {BOT_USER_ID},
        ),
    ]
    for cid, name, purpose, members in channels:
        ws.add_channel(
            Channel(
                id=cid,
                name=name,
                created=SEED_TIME,
                creator="U0ANA",
                is_general=name == "general",
                purpose=TextSetting(purpose, "U0ANA", SEED_TIME),
                members=set(members),
            )
        )
    # A Slack Connect channel shared with the customer; the bot was invited, to speak to them.
    ws.add_channel(
        Channel(
            id="C0SHARED",
            name="globex-acme",
            created=SEED_TIME,
            creator="U0CHEN",
            is_ext_shared=True,
            purpose=TextSetting("Shared with Globex", "U0CHEN", SEED_TIME),
            members={"U0CHEN", "U0CORA", BOT_USER_ID},
        )
    )


def default_workspace() -> Workspace:
    """Return a new seeded workspace (team T0CRISIS 'Acme Success')."""
    team = Team(TEAM_ID, "Acme Success", "acme-success", "acme.example")
    return Workspace(team, bot_user_id=BOT_USER_ID, seeder=seed_default)


SECOND_TEAM_ID = "T0SECOND"
SECOND_BOT_USER_ID = "U1BOT"
SECOND_BOT_ID = "B1BOT"
SECOND_TOKEN = "xoxb-second"
_SECOND_HUMANS = [
    ("U1IVY", "ivy", "Ivy Ito", "Asia/Tokyo", 32400),
    ("U1JON", "jon", "Jon Jones", "Europe/Paris", 3600),
]


def seed_second(ws: Workspace) -> None:
    """Another company's workspace with crisisbot installed: its own people and channels."""
    ws.add_user(
        User(
            id=SECOND_BOT_USER_ID,
            name="crisisbot",
            real_name="Crisis Bot",
            team_id=SECOND_TEAM_ID,
            is_bot=True,
            bot_id=SECOND_BOT_ID,
        )
    )
    for uid, name, real, tz, fallback in _SECOND_HUMANS:
        ws.add_user(_human(uid, name, real, tz, fallback, SECOND_TEAM_ID, "initech.example"))
    humans = {uid for uid, *_ in _SECOND_HUMANS}
    for cid, name, purpose in (
        ("C1GENERAL", "general", "Everything Initech"),
        ("C1CRISES", "cs-crises", "Initech's customer crises"),
    ):
        ws.add_channel(
            Channel(
                id=cid,
                name=name,
                created=SEED_TIME,
                creator="U1IVY",
                is_general=name == "general",
                purpose=TextSetting(purpose, "U1IVY", SEED_TIME),
                members=humans | {SECOND_BOT_USER_ID},
            )
        )


def second_workspace() -> Workspace:
    """A second seeded workspace (team T0SECOND 'Initech Support'), for installs in many."""
    team = Team(SECOND_TEAM_ID, "Initech Support", "initech-support", "initech.example")
    return Workspace(team, bot_user_id=SECOND_BOT_USER_ID, seeder=seed_second, id_space="1")
