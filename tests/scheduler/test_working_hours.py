"""sev3 and sev4 reminders wait for the owner's working hours, in the owner's Slack time zone;
sev1 and sev2 remind at any hour. Driven through ``bot.sweep()`` with an injected clock."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db.models import Crisis
from sandbox import Emulator
from tests.conftest import Clock, make_settings
from tests.harness import Bot
from tests.scheduler.test_nags import nags

# Every database test here runs on SQLite and on a real PostgreSQL.
BOTH_DATABASES = True

NEW_YORK = ZoneInfo("America/New_York")
JERUSALEM = ZoneInfo("Asia/Jerusalem")


def local(text: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def sweep_at(bot: Bot, clock: Clock, moment: datetime) -> list[str]:
    clock.current = moment
    return [s.kind for s in bot.sweep()]


def the_crisis(bot: Bot) -> Crisis:
    with bot.deps.session_factory() as session:
        return session.scalars(select(Crisis)).one()


def test_a_sev3_due_on_friday_night_reminds_the_owner_on_monday_morning(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    emulator.workspace.users["U0ANA"].tz = "America/New_York"
    clock.current = local("2026-11-27T16:00", NEW_YORK)  # Friday; sev3 promises in 4h
    bot.command("new Initech: exports fail sev3")
    due = local("2026-11-27T20:00", NEW_YORK)
    monday = local("2026-11-30T09:00", NEW_YORK)
    crisis = the_crisis(bot)
    assert crisis.next_update_due_at == due
    # Deferred in our tables, not in memory: a restart or another replica looks on Monday.
    assert crisis.next_check_at == monday
    for moment in (
        due - timedelta(minutes=10),  # the heads-up's time, after hours
        due,
        due + timedelta(hours=1),
        local("2026-11-28T12:00", NEW_YORK),  # Saturday noon
        local("2026-11-29T23:00", NEW_YORK),
        monday - timedelta(seconds=1),
    ):
        assert sweep_at(bot, clock, moment) == []
    assert nags(emulator) == []
    assert sweep_at(bot, clock, monday) == ["overdue"]
    assert len(nags(emulator)) == 1 and "has not been posted" in nags(emulator)[0]
    assert sweep_at(bot, clock, monday + timedelta(minutes=10)) == ["overdue"]
    # Escalated only once the owner has had escalate_after of their working day.
    assert sweep_at(bot, clock, monday + timedelta(minutes=30)) == ["overdue", "escalation"]
    # Learned from users.info when ana became owner, stored with the crisis.
    assert the_crisis(bot).owner_timezone == "America/New_York"


def test_sev1_reminds_at_three_in_the_morning(bot: Bot, emulator: Emulator, clock: Clock) -> None:
    emulator.workspace.users["U0ANA"].tz = "America/New_York"
    clock.current = local("2026-11-29T02:30", NEW_YORK)  # Sunday night; sev1 promises in 30m
    bot.command("new Initech: exports fail sev1")
    assert sweep_at(bot, clock, local("2026-11-29T02:50", NEW_YORK)) == ["heads_up"]
    assert sweep_at(bot, clock, local("2026-11-29T03:00", NEW_YORK)) == ["overdue"]
    assert len(nags(emulator)) == 2


def test_reminders_follow_a_new_owner_into_their_hours(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    emulator.workspace.users["U0ANA"].tz = "America/New_York"
    emulator.workspace.users["U0BEN"].tz = "Asia/Jerusalem"
    clock.current = local("2026-11-27T10:00", NEW_YORK)  # Friday; sev3 due at 14:00
    bot.command("new Initech: exports fail sev3")
    crisis = the_crisis(bot)
    assert crisis.channel_id is not None and crisis.owner_timezone == "America/New_York"
    bot.command("owner <@U0BEN|ben>", channel=crisis.channel_id)
    crisis = the_crisis(bot)
    assert (crisis.owner_id, crisis.owner_timezone) == ("U0BEN", "Asia/Jerusalem")
    # 14:00 in New York is 21:00 on Friday for Ben: his reminders wait for his Monday.
    ben_monday = local("2026-11-30T09:00", JERUSALEM)
    assert the_crisis(bot).next_check_at == ben_monday
    told = emulator.dm_messages("U0BEN")  # that he owns it now
    for moment in (local("2026-11-27T13:50", NEW_YORK), local("2026-11-27T14:00", NEW_YORK)):
        assert sweep_at(bot, clock, moment) == []
    assert emulator.dm_messages("U0BEN") == told
    assert sweep_at(bot, clock, ben_monday) == ["overdue"]
    assert "has not been posted" in emulator.dm_messages("U0BEN")[-1].text


class TestASundayToThursdayWeek:
    @pytest.fixture
    def settings(self) -> Settings:
        return make_settings(working_hours="Sun-Thu 08:30-17:30")

    def test_an_owner_in_jerusalem_is_reminded_on_sunday_after_the_clocks_go_forward(
        self, bot: Bot, emulator: Emulator, clock: Clock
    ) -> None:
        emulator.workspace.users["U0DANA"].tz = "Asia/Jerusalem"
        # Thursday 26 March 2026, 17:00 (UTC+2); Israel moves to UTC+3 on Friday.
        clock.current = local("2026-03-26T17:00", JERUSALEM)
        bot.command("new Initech: exports fail sev4", user="U0DANA")  # due Friday 17:00
        sunday = local("2026-03-29T08:30", JERUSALEM)
        assert sunday == datetime(2026, 3, 29, 5, 30, tzinfo=UTC)
        assert the_crisis(bot).next_check_at == sunday
        for moment in (
            local("2026-03-27T16:50", JERUSALEM),
            local("2026-03-27T17:00", JERUSALEM),
            local("2026-03-28T12:00", JERUSALEM),  # Saturday
            sunday - timedelta(seconds=1),
        ):
            assert sweep_at(bot, clock, moment) == []
        assert nags(emulator, "U0DANA") == []
        assert sweep_at(bot, clock, sunday) == ["overdue"]
        assert len(nags(emulator, "U0DANA")) == 1
