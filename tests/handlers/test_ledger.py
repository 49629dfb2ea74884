"""The promise ledger: every promise of an update made to the customer, and how it ended
(kept on time, kept late, broken at closure), on the card, in ``/crisis status`` and in the
account's record; a crash the sweep repairs never keeps a promise twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import Crisis, CustomerPromise
from bot.services import accounts
from bot.services.accounts import AccountRecord
from bot.text import date_token
from sandbox import Emulator
from tests.conftest import Clock
from tests.harness import Bot
from tests.support import T0

BOTH_DATABASES = 1

ACME = AccountRecord(name="Acme Corp", aliases=("Acme",), tier="", timezone="Europe/Berlin")


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except clause catches it."""


def at(minutes: int) -> str:
    return date_token(T0 + timedelta(minutes=minutes))


def context_lines(blocks: list[dict[str, Any]] | None) -> list[str]:
    return [
        element["text"]
        for block in blocks or []
        if block["type"] == "context"
        for element in block["elements"]
    ]


def card_lines(emulator: Emulator, channel: str) -> list[str]:
    return context_lines(emulator.messages(channel)[0].blocks)


def section_texts(blocks: list[dict[str, Any]] | None) -> list[str]:
    return [b["text"]["text"] for b in blocks or [] if b["type"] == "section" and "text" in b]


def ledger_rows(bot: Bot) -> list[tuple[Any, ...]]:
    with bot.deps.session_factory() as session:
        return [
            (
                p.made_at - T0,
                p.due_at - T0,
                p.ended_at - T0 if p.ended_at else None,
                p.outcome,
                p.told,
                p.late_seconds,
            )
            for p in session.scalars(select(CustomerPromise).order_by(CustomerPromise.id))
        ]


def declare(bot: Bot, text: str = "new Acme Corp: dashboards empty sev1") -> str:
    bot.command(text)
    with bot.deps.session_factory() as session:
        crisis = session.scalars(select(Crisis).order_by(Crisis.id.desc())).first()
        assert crisis is not None and crisis.channel_id
        return crisis.channel_id


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def kept_late_and_broken(bot: Bot, clock: Clock) -> str:
    """A sev1 (a promise every 30 min) declared at T0: an update on time at +20, one 12 min
    late at +62, closed at +72 before its due time, reopened at +80 and closed at +120, 10
    min after that promise fell due."""
    channel = declare(bot)
    clock.advance(minutes=20)
    bot.command("update Root cause found", channel=channel)  # due +30: on time; next +50
    clock.advance(minutes=42)
    bot.command("update Fix rolling out", channel=channel)  # due +50: 12 min late; next +92
    clock.advance(minutes=10)
    bot.command("close Fixed and verified", channel=channel)  # due +92: kept at closure
    clock.advance(minutes=8)
    bot.command("reopen It came back", channel=channel)  # next +110
    clock.advance(minutes=40)
    bot.command("close Fixed for good", channel=channel)  # due +110: broken
    return channel


def test_each_promise_is_a_row_that_says_how_it_ended(bot: Bot, kept_late_and_broken: str) -> None:
    assert ledger_rows(bot) == [
        (minutes(0), minutes(30), minutes(20), "kept", "team", 0),
        (minutes(20), minutes(50), minutes(62), "late", "team", 12 * 60),
        (minutes(62), minutes(92), minutes(72), "kept", "team", 0),
        (minutes(80), minutes(110), minutes(120), "broken", None, 10 * 60),
    ]


def test_the_card_counts_the_promises_kept(bot: Bot, emulator: Emulator, clock: Clock) -> None:
    channel = declare(bot)
    # Nothing has ended yet: no line.
    assert not any("Promises kept" in line for line in card_lines(emulator, channel))
    clock.advance(minutes=20)
    bot.command("update Root cause found", channel=channel)
    assert "Promises kept: 1 of 1" in card_lines(emulator, channel)
    clock.advance(minutes=42)
    bot.command("update Fix rolling out", channel=channel)
    assert "Promises kept: 2 of 2 (one 12 min late)" in card_lines(emulator, channel)
    clock.advance(minutes=10)
    bot.command("close Fixed and verified", channel=channel)
    assert "Promises kept: 3 of 3 (one 12 min late)" in card_lines(emulator, channel)
    clock.advance(minutes=8)
    bot.command("reopen It came back", channel=channel)
    clock.advance(minutes=40)
    bot.command("close Fixed for good", channel=channel)
    assert "Promises kept: 3 of 4 (one 12 min late)" in card_lines(emulator, channel)


def test_status_lists_the_ledger(bot: Bot, emulator: Emulator, kept_late_and_broken: str) -> None:
    bot.command("status", channel=kept_late_and_broken)
    (answer,) = [p for p in emulator.response_posts if p.text.startswith("Crisis for")]
    texts = section_texts(answer.blocks)
    assert "*Promises to the customer (4)*" in texts
    ledger = [line for line in context_lines(answer.blocks) if line.startswith("Made ")]
    assert ledger == [
        "\n".join(
            [
                f"Made {at(0)} · due {at(30)} · :white_check_mark: kept on time, told the team",
                f"Made {at(20)} · due {at(50)} · :warning: kept 12 min late, told the team",
                f"Made {at(62)} · due {at(92)} · :white_check_mark: kept on time, told the team",
                f"Made {at(80)} · due {at(110)} · :x: broken: 10 min overdue when the crisis"
                " closed",
            ]
        )
    ]
    assert "Promises kept: 3 of 4 (one 12 min late)" in context_lines(answer.blocks)


def test_status_shows_the_promise_still_owed(bot: Bot, emulator: Emulator, clock: Clock) -> None:
    channel = declare(bot)
    bot.command("status", channel=channel)
    clock.advance(minutes=31)
    bot.command("status", channel=channel)
    first, second = [p for p in emulator.response_posts if p.text.startswith("Crisis for")]
    assert f"Made {at(0)} · due {at(30)} · :hourglass_flowing_sand: still owed" in (
        context_lines(first.blocks)
    )
    assert f"Made {at(0)} · due {at(30)} · :rotating_light: still owed, overdue" in (
        context_lines(second.blocks)
    )


def test_the_account_shows_its_record_across_its_crises(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    with bot.deps.session_factory() as session:
        accounts.upsert(session=session, records=[ACME], now=T0)
    first = declare(bot)
    clock.advance(minutes=20)
    bot.command("update Root cause found", channel=first)  # on time
    clock.advance(minutes=42)
    bot.command("update Fix rolling out", channel=first)  # 12 min late
    clock.advance(minutes=40)
    bot.command("close Fixed", channel=first)  # overdue since +92: broken
    second = declare(bot, "new Acme: invoices wrong sev1")
    clock.advance(minutes=5)
    bot.command("close Credited", channel=second)  # before due: kept
    # A customer with no account counts for nobody's record.
    other = declare(bot, "new Umbrella: logins fail sev1")
    clock.advance(minutes=1)
    bot.command("update Looking", channel=other)
    bot.command("account acme")
    answer = emulator.response_posts[-1]
    assert answer.text == "The account Acme Corp"
    sections = section_texts(answer.blocks)
    assert (
        "*Promises to them* (across 2 crises)\n2 kept on time · 1 kept late · 1 broken" in sections
    )


def test_an_account_with_no_promise_ended_says_so(bot: Bot, emulator: Emulator) -> None:
    with bot.deps.session_factory() as session:
        accounts.upsert(session=session, records=[ACME], now=T0)
    declare(bot)
    bot.command("account Acme Corp")
    sections = section_texts(emulator.response_posts[-1].blocks)
    assert "*Promises to them*\nNone kept or broken yet." in sections


def test_an_update_the_sweep_finishes_after_a_crash_keeps_its_promise_once(
    bot: Bot, emulator: Emulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = declare(bot)
    real_post = bot.deps.slack.post

    def post_then_die(**kwargs: object) -> str:
        real_post(**kwargs)  # type: ignore[arg-type]
        raise Killed  # Slack has the message; we die before recording its ts

    clock.advance(minutes=40)  # 10 min late
    with monkeypatch.context() as patch:
        patch.setattr(bot.deps.slack, "post", post_then_die)
        bot.command("update Root cause found", channel=channel)
    clock.advance(minutes=6)
    bot.sweep()
    bot.sweep()
    with bot.deps.session_factory() as session:
        crisis = session.scalars(select(Crisis)).one()
        assert crisis.pending_since is None and all(u.message_ts for u in crisis.updates)
    assert ledger_rows(bot) == [
        (minutes(0), minutes(30), minutes(40), "late", "team", 10 * 60),
        (minutes(40), minutes(70), None, None, None, None),
    ]
    assert "Promises kept: 1 of 1 (one 10 min late)" in card_lines(emulator, channel)
    # The sweep finishing a crashed closure ends the promise once too.
    with monkeypatch.context() as patch:
        patch.setattr(bot.deps.slack, "post", post_then_die)
        bot.command("close Fixed", channel=channel)
    clock.advance(minutes=6)
    bot.sweep()
    bot.sweep()
    assert ledger_rows(bot)[1] == (minutes(40), minutes(70), minutes(46), "kept", "team", 0)
    assert len(ledger_rows(bot)) == 2
    assert "Promises kept: 2 of 2 (one 10 min late)" in card_lines(emulator, channel)
