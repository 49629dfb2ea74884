"""sev3 and sev4 promises fall within the customer's business hours, through the real app."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.db.models import Account, Crisis
from bot.db.session import SessionFactory
from sandbox import Emulator
from tests.conftest import Clock
from tests.handlers.test_declare import replies
from tests.harness import Bot

# Friday 27 November 2026, 18:00 in Berlin (CET, UTC+1): after Globex's business hours.
FRIDAY_EVENING = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
# Monday 30 November, 09:00 in Berlin: Globex's next business morning.
MONDAY_OPENING = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
MOVED = "(Monday 09:00 their time: the next business morning)"


def token(moment: datetime) -> str:
    return f"<!date^{int(moment.timestamp())}^"


@pytest.fixture
def globex(session_factory: SessionFactory) -> Iterator[int]:
    """The Globex Corp account; every crisis declared for it is linked to it, as declaring
    from the account does (i12-acct-declare), so this lane is tested on its own."""
    with session_factory() as session:
        account = Account(
            name="Globex Corp",
            name_key="globex corp",
            timezone="Europe/Berlin",
            business_hours="Mon-Fri 09:00-17:00",
            updated_at=FRIDAY_EVENING,
        )
        session.add(account)
        session.commit()
        account_id = account.id

    def link(target: Crisis, args: Any, kwargs: dict[str, Any]) -> None:
        if kwargs.get("customer") == "Globex Corp":
            target.account_id = account_id

    event.listen(Crisis, "init", link)
    yield account_id
    event.remove(Crisis, "init", link)


def the_crisis(bot: Bot) -> Crisis:
    with bot.deps.session_factory() as session:
        return session.scalars(select(Crisis)).one()


def card_status(emulator: Emulator, channel: str) -> str:
    card = emulator.messages(channel)[0]
    return next(f["text"] for f in card.blocks[1]["fields"] if f["text"].startswith("*Status*"))


def test_a_sev4_declared_on_friday_evening_is_promised_for_monday_morning(
    bot: Bot, emulator: Emulator, clock: Clock, globex: int
) -> None:
    clock.current = FRIDAY_EVENING
    bot.command("new Globex Corp: invoices doubled sev4")
    crisis = the_crisis(bot)
    assert crisis.account_id == globex
    assert crisis.next_update_due_at == MONDAY_OPENING  # not Saturday 18:00
    assert crisis.channel_id is not None
    reply = next(text for text in replies(emulator) if "declared in" in text)
    assert f"You have promised the next update by {token(MONDAY_OPENING)}" in reply
    assert MOVED in reply
    status = card_status(emulator, crisis.channel_id)
    assert token(MONDAY_OPENING) in status and MOVED in status
    (commitment,) = emulator.pins(crisis.channel_id)
    assert f"*Next update to Globex Corp by {token(MONDAY_OPENING)}" in commitment.text
    assert MOVED in commitment.text


def test_the_next_promise_after_a_severity_change_keeps_to_business_hours(
    bot: Bot, emulator: Emulator, clock: Clock, globex: int
) -> None:
    clock.current = FRIDAY_EVENING.replace(hour=9)  # Friday 10:00 in Berlin
    bot.command("new Globex Corp: invoices doubled sev2")
    channel = the_crisis(bot).channel_id
    assert channel is not None
    bot.command("severity sev4", channel=channel)
    clock.current = FRIDAY_EVENING
    bot.command("update Fix found, rolling out over the weekend", channel=channel)
    crisis = the_crisis(bot)
    assert crisis.next_update_due_at == MONDAY_OPENING
    assert any(
        f"The next one is promised by {token(MONDAY_OPENING)}" in text and MOVED in text
        for text in replies(emulator)
    )
    posted = emulator.messages(channel)[-1].text
    assert f"_Next update by {token(MONDAY_OPENING)}" in posted and MOVED in posted
    status = card_status(emulator, channel)
    assert token(MONDAY_OPENING) in status and MOVED in status
    (commitment,) = emulator.pins(channel)
    assert token(MONDAY_OPENING) in commitment.text and MOVED in commitment.text


@pytest.mark.parametrize(
    "declaration",
    ["new Globex Corp: invoices doubled sev2", "new Initech: exports fail sev4"],
    ids=["sev2 round the clock", "no account"],
)
def test_sev2_and_crises_without_an_account_are_promised_at_any_hour(
    bot: Bot, emulator: Emulator, clock: Clock, globex: int, declaration: str
) -> None:
    clock.current = FRIDAY_EVENING
    bot.command(declaration)
    crisis = the_crisis(bot)
    assert crisis.next_update_due_at is not None
    assert crisis.next_update_due_at.astimezone(UTC).weekday() in (4, 5)  # Friday or Saturday
    assert crisis.channel_id is not None
    (commitment,) = emulator.pins(crisis.channel_id)
    assert token(crisis.next_update_due_at) in commitment.text
    assert "their time" not in commitment.text
