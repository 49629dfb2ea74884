"""The weekly digest: posted once a week at CRISISBOT_REPORT_AT, across replicas, restarts
and crashes; a digest missed while every replica was down goes out on start."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bot.config import Settings
from bot.db.models import Crisis, Digest
from bot.deps import Deps
from bot.ratelimit import RateLimiter
from bot.services import digest
from bot.services.port import SlackFailure
from bot.slack_gateway import SlackGateway, make_client
from sandbox import Emulator
from sandbox.workspace import Message
from scheduler.factory import Senders, build_scheduler
from scheduler.jobs import post_weekly_digest
from scheduler.senders import release_claims, renew_leases
from tests.conftest import Clock, make_settings
from tests.harness import Bot

# Every database test here runs on SQLite and on a real PostgreSQL.
BOTH_DATABASES = True

# T0 is Sunday 22 November 2026, 14:00 UTC; the digest for 16–22 November is due Monday 23rd.
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except clause catches it."""


@pytest.fixture
def settings() -> Settings:
    return make_settings(report_channel="C0CRISES", report_at="Mon 09:00", timezone="UTC")


def replica(bot: Bot) -> Deps:
    """Another process on the same database: its own gateway (and caches), the same clock."""
    client = make_client(token="xoxb-sandbox", base_url=bot.emulator.api_url, timeout=5)
    return Deps(
        settings=bot.deps.settings,
        session_factory=bot.deps.session_factory,
        slack=SlackGateway(client, limiter=RateLimiter(window=0.06)),
        clock=bot.clock,
        workers=bot.deps.workers,
    )


def digests(emulator: Emulator) -> list[Message]:
    return [
        m
        for m in emulator.messages("C0CRISES")
        if (m.metadata or {}).get("event_payload", {}).get("key", "").startswith("digest:")
    ]


def charts(emulator: Emulator) -> list[Message]:
    return [m for m in emulator.messages("C0CRISES") if m.files]


def a_week_of_crises(bot: Bot, clock: Clock) -> None:
    """One crisis declared in the week of 16–22 November, acknowledged and updated in time."""
    bot.command("new Acme Corp: dashboards empty sev1")
    with bot.deps.session_factory() as session:
        channel = session.query(Crisis).one().channel_id
    assert channel
    clock.advance(minutes=4)
    bot.command("ack", user="U0BEN", channel=channel)
    clock.advance(minutes=10)
    bot.command("update Restored the ingest workers", channel=channel)


def at(clock: Clock, moment: datetime) -> None:
    clock.current = moment


def test_the_digest_goes_out_once_across_two_replicas_and_a_restart(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    a_week_of_crises(bot, clock)
    at(clock, MONDAY_0900 - timedelta(minutes=1))
    one, two = bot.deps, replica(bot)
    # Before Monday 09:00 the digest due is last week's: posted by the first replica only.
    assert post_weekly_digest(one) == "2026-11-16"
    assert post_weekly_digest(two) is None
    clock.advance(minutes=1, seconds=30)
    assert [post_weekly_digest(one), post_weekly_digest(two)] == ["2026-11-23", None]
    assert post_weekly_digest(two) is None and post_weekly_digest(one) is None
    # A restart: a new process, new caches, the same database.
    clock.advance(hours=3)
    assert post_weekly_digest(replica(bot)) is None
    assert len(digests(emulator)) == 2 and len(charts(emulator)) == 2

    message = digests(emulator)[-1]
    assert message.blocks is not None
    assert message.blocks[0]["text"]["text"] == "Weekly digest: 16 Nov – 22 Nov"
    body = message.blocks[1]["text"]["text"]
    assert "*Crises declared:* 1 · *closed:* 0  (week before: 0 declared, 0 closed)" in body
    assert "*Promises kept on time:* 100% of 1" in body
    assert "median 4 min" in body
    (shared,) = charts(emulator)[-1].files or []
    assert shared["name"] == "crisisbot-digest-2026-11-23.png"
    assert shared["mimetype"] == "image/png"
    png = emulator.workspace.files[shared["id"]].content or b""
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1000, 600)
        assert int((np.asarray(image.convert("RGB")) != 255).any(axis=2).sum()) > 30_000

    # Next Monday, next week's digest.
    at(clock, MONDAY_0900 + timedelta(weeks=1))
    assert [post_weekly_digest(two), post_weekly_digest(one)] == ["2026-11-30", None]
    with bot.deps.session_factory() as session:
        rows = session.query(Digest).order_by(Digest.week).all()
        assert [(r.week, r.attempts, r.sent_at is not None) for r in rows] == [
            ("2026-11-16", 1, True),
            ("2026-11-23", 1, True),
            ("2026-11-30", 1, True),
        ]
        assert all(r.message_ts and r.file_id and r.team_id == "" for r in rows)


def test_replicas_ticking_at_the_same_moment_post_it_once(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    at(clock, MONDAY_0900)
    replicas = [bot.deps, replica(bot), replica(bot)]
    start = threading.Barrier(len(replicas))
    posted: list[str | None] = []

    def tick(deps: Deps) -> None:
        start.wait()
        posted.append(post_weekly_digest(deps))

    threads = [threading.Thread(target=tick, args=(deps,)) for deps in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(posted, key=str) == ["2026-11-23", None, None]
    assert len(digests(emulator)) == 1 and len(charts(emulator)) == 1


@pytest.mark.parametrize("step", ["post", "upload_file"])
def test_a_crash_after_posting_is_not_doubled(
    bot: Bot, emulator: Emulator, clock: Clock, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    at(clock, MONDAY_0900)
    real: Callable[..., Any] = getattr(bot.deps.slack, step)

    def post_then_die(**kwargs: Any) -> Any:
        real(**kwargs)
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(bot.deps.slack, step, post_then_die)
        with pytest.raises(Killed):
            post_weekly_digest(bot.deps)
    assert len(digests(emulator)) == 1
    # Nobody else posts it while the claim's lease runs.
    assert post_weekly_digest(replica(bot)) is None
    lease = bot.deps.settings.lease
    clock.advance(seconds=lease.total_seconds() - 1)
    assert post_weekly_digest(replica(bot)) is None
    # Just past one lease (20 s, not 5 minutes): the next check of any replica takes it over.
    clock.advance(seconds=2)
    assert post_weekly_digest(replica(bot)) == "2026-11-23"
    # Found in Slack, by the message's key and by the chart's name: nothing twice.
    assert len(digests(emulator)) == 1 and len(charts(emulator)) == 1
    with bot.deps.session_factory() as session:
        row = session.query(Digest).one()
        assert row.attempts == 2 and row.sent_at is not None and row.file_id


def test_a_digest_being_posted_is_not_taken_over_while_its_process_renews_the_lease(
    bot: Bot, emulator: Emulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(clock, MONDAY_0900)
    settings = bot.deps.settings
    real = bot.deps.slack.upload_file
    checked: list[str | None] = []

    def slow_upload(**kwargs: Any) -> Any:
        # Slack holds the chart for two leases while the heartbeat beats and another ticks.
        for _ in range(2 * int(settings.lease / settings.heartbeat)):
            clock.advance(seconds=settings.heartbeat.total_seconds())
            assert renew_leases(bot.deps) == 1
            checked.append(post_weekly_digest(replica(bot)))
        return real(**kwargs)

    monkeypatch.setattr(bot.deps.slack, "upload_file", slow_upload)
    assert post_weekly_digest(bot.deps) == "2026-11-23"
    assert checked == [None] * 8
    assert len(digests(emulator)) == 1 and len(charts(emulator)) == 1
    assert renew_leases(bot.deps) == 0  # posted: nothing left to renew
    with bot.deps.session_factory() as session:
        assert session.query(Digest).one().attempts == 1


def test_a_digest_its_process_could_not_post_is_given_back_at_shutdown(
    bot: Bot, emulator: Emulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(clock, MONDAY_0900)

    def slack_down(**kwargs: Any) -> Any:
        raise SlackFailure("chat.postMessage", "service_unavailable", transient=True)

    with monkeypatch.context() as patch:
        patch.setattr(bot.deps.slack, "post", slack_down)
        assert post_weekly_digest(bot.deps) is None
    assert post_weekly_digest(replica(bot)) is None  # its lease still runs
    assert release_claims(bot.deps) == 1  # the process stops (Runtime.close)
    # Another replica takes it at once, not a lease later.
    assert post_weekly_digest(replica(bot)) == "2026-11-23"
    assert len(digests(emulator)) == 1 and len(charts(emulator)) == 1


def test_a_digest_missed_while_every_replica_was_down_goes_out_on_start(
    bot: Bot, emulator: Emulator, clock: Clock
) -> None:
    # Everyone was down from Sunday to Wednesday: Monday's digest has not gone out.
    at(clock, MONDAY_0900 + timedelta(days=2))
    senders = Senders.start(bot.deps)
    scheduler = build_scheduler(bot.deps, senders)
    try:
        job = scheduler.get_job("post_weekly_digest")
        # Added to run at once on start, like the sweep.
        assert job is not None and job.next_run_time <= datetime.now(UTC) + timedelta(seconds=1)
    finally:
        senders.shutdown()
    assert post_weekly_digest(replica(bot)) == "2026-11-23"
    assert len(digests(emulator)) == 1 and len(charts(emulator)) == 1


def test_no_channel_no_digest(bot: Bot, emulator: Emulator, clock: Clock) -> None:
    at(clock, MONDAY_0900)
    quiet = Deps(
        settings=make_settings(report_channel=None),
        session_factory=bot.deps.session_factory,
        slack=bot.deps.slack,
        clock=clock,
        workers=bot.deps.workers,
    )
    assert post_weekly_digest(quiet) is None
    assert digests(emulator) == [] and charts(emulator) == []
    with bot.deps.session_factory() as session:
        assert session.query(Digest).count() == 0


def test_the_digest_period_is_the_calendar_week_in_the_report_zone() -> None:
    at = digest.WeeklyAt.parse("Mon 09:00")
    zone = digest.parse_timezone("Asia/Jerusalem")
    # Monday 06:59 UTC is 08:59 in Jerusalem: the digest due is still last week's.
    early = digest.digest_period(datetime(2026, 11, 23, 6, 59, tzinfo=UTC), report_at=at, zone=zone)
    due = digest.digest_period(datetime(2026, 11, 23, 7, 0, tzinfo=UTC), report_at=at, zone=zone)
    assert early.key == "2026-11-16" and due.key == "2026-11-23"
    assert due.start == datetime(2026, 11, 15, 22, 0, tzinfo=UTC)
    assert due.end == datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert due.previous_start == datetime(2026, 11, 8, 22, 0, tzinfo=UTC)
