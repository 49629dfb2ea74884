"""The weekly digest: last week's figures against the week before, and the chart, posted to
``CRISISBOT_REPORT_CHANNEL`` once a week at ``CRISISBOT_REPORT_AT``.

Exactly once across replicas and restarts, the way reminders are:

1. Claim: insert the ``digests`` row for (workspace, week) with this process's claims token
   and a ``CRISISBOT_LEASE`` lease, renewed by the process's heartbeat while it posts. The
   unique key lets one replica win; the others find the row and leave it. A claim whose lease
   ran out (its process died) is taken over, once, by a compare-and-set on who claimed it,
   when, and the lease having run out.
2. Post the figures with a key in the message's metadata, and record its ts.
3. Upload the chart under a name that carries the week, and record the file and ``sent_at``.

A process that dies between a step and its record leaves the claim to run out; the next one
looks in the channel (by the key, by the file's name) before doing the step again. The due
week is always the latest scheduled one, so a digest missed while every replica was down goes
out at the first tick after a start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import messages
from bot.blocks.digest import digest_blocks
from bot.config import Settings
from bot.db.models import Digest
from bot.db.session import SessionFactory
from bot.hours import WeeklyAt, parse_timezone
from bot.insights.chart import weekly_chart
from bot.services.leases import Claims
from bot.services.port import SlackFailure, SlackPort, post_once
from bot.services.report import Figures, Week, figures, weekly_series

log = logging.getLogger(__name__)

CHART_WEEKS = 12
CLOCK_SKEW = timedelta(minutes=1)


@dataclass(frozen=True)
class DigestPeriod:
    """The week a digest reports on: ``[start, end)`` in the report's zone, and the week before
    it; ``day`` (the scheduled day) names it."""

    day: date
    start: datetime
    end: datetime
    previous_start: datetime

    @property
    def key(self) -> str:
        return self.day.isoformat()


@dataclass(frozen=True)
class DigestContent:
    """What a digest says: the two weeks' figures, the weekly series and its chart."""

    week: Figures
    before: Figures
    series: list[Week]
    chart: bytes


def digest_period(now: datetime, *, report_at: WeeklyAt, zone: ZoneInfo) -> DigestPeriod:
    """The digest due at ``now``: the latest scheduled moment at or before it reports on the
    seven days up to that day's midnight (Monday to Sunday for ``Mon 09:00``)."""
    day = report_at.latest(now, zone).date()
    end = datetime.combine(day, time(), tzinfo=zone)
    start = datetime.combine(day - timedelta(days=7), time(), tzinfo=zone)
    previous = datetime.combine(day - timedelta(days=14), time(), tzinfo=zone)
    return DigestPeriod(day=day, start=start, end=end, previous_start=previous)


def digest_content(
    session: Session, *, team_id: str, period: DigestPeriod, zone: ZoneInfo
) -> DigestContent:
    """The figures of the period and the week before, and the chart of the last 12 weeks."""
    week = figures(session, team_id=team_id, start=period.start, end=period.end, changes_limit=0)
    before = figures(
        session, team_id=team_id, start=period.previous_start, end=period.start, changes_limit=0
    )
    series = weekly_series(session, team_id=team_id, end=period.end, weeks=CHART_WEEKS, tz=zone)
    return DigestContent(week=week, before=before, series=series, chart=weekly_chart(series))


def chart_filename(*, team_id: str, period: DigestPeriod) -> str:
    """The chart's file name: unique per workspace and week, so a retry can find it."""
    return f"crisisbot-digest-{team_id + '-' if team_id else ''}{period.key}.png"


def send_due_digest(
    *,
    session_factory: SessionFactory,
    slack: SlackPort,
    settings: Settings,
    now: datetime,
    team_id: str = "",
    claims: Claims | None = None,
) -> str | None:
    """Post the digest due at ``now`` unless it went out or another process is posting it
    (its lease renewed by ``claims``' heartbeat meanwhile); returns the week posted (its day,
    ISO), or None. No channel set, no digest."""
    channel = settings.report_channel
    if not channel:
        return None
    zone = parse_timezone(settings.timezone)
    period = digest_period(now, report_at=WeeklyAt.parse(settings.report_at), zone=zone)
    claims = claims or Claims()
    claimed = _claim(
        session_factory,
        team_id=team_id,
        period=period,
        channel=channel,
        now=now,
        token=claims.token,
        lease=settings.lease,
    )
    if claimed is None:
        return None
    digest_id, retry_since = claimed
    # Our clock and Slack's differ a little: look from a minute before the dead claim.
    look_since = retry_since - CLOCK_SKEW if retry_since is not None else None
    try:
        with claims.leasing(Digest, digest_id):
            posted = _post(
                session_factory,
                slack,
                team_id=team_id,
                period=period,
                zone=zone,
                zone_name=settings.timezone,
                token=claims.token,
                look_since=look_since,
                now=now,
            )
    except SlackFailure as failure:
        # The claim stays; when its lease runs out the next tick tries again, checking first.
        log.warning("weekly digest %s not posted yet: %s", period.key, failure)
        return None
    return period.key if posted else None


def _claim(
    session_factory: SessionFactory,
    *,
    team_id: str,
    period: DigestPeriod,
    channel: str,
    now: datetime,
    token: str,
    lease: timedelta,
) -> tuple[int, datetime | None] | None:
    """Take the week's digest: its id and, when taken over from a process that died, the
    earlier claim's time; None when sent already or being sent by another."""
    with session_factory() as session:
        found = session.scalar(
            select(Digest).where(Digest.team_id == team_id, Digest.week == period.key)
        )
        if found is None:
            claimed = Digest(
                team_id=team_id,
                week=period.key,
                channel=channel,
                claimed_by=token,
                claimed_at=now,
                lease_until=now + lease,
                attempts=1,
            )
            session.add(claimed)
            try:
                session.commit()
            except IntegrityError:
                # Another replica inserted it first: theirs to post.
                session.rollback()
                return None
            return claimed.id, None
        if found.sent_at is not None or (found.lease_until or found.claimed_at) > now:
            return None
        earlier = found.claimed_at
        # Its lease ran out: the process that claimed it stopped renewing (died, or gave it
        # back); one replica takes it over, and only while the lease is still run out.
        taken = session.execute(
            update(Digest)
            .where(
                Digest.id == found.id,
                Digest.claimed_by == found.claimed_by,
                Digest.claimed_at == earlier,
                Digest.sent_at.is_(None),
                or_(Digest.lease_until.is_(None), Digest.lease_until <= now),
            )
            .values(
                claimed_by=token,
                claimed_at=now,
                lease_until=now + lease,
                attempts=Digest.attempts + 1,
            )
        )
        session.commit()
        if not getattr(taken, "rowcount", 0):
            return None
        return found.id, earlier


def _post(
    session_factory: SessionFactory,
    slack: SlackPort,
    *,
    team_id: str,
    period: DigestPeriod,
    zone: ZoneInfo,
    zone_name: str,
    token: str,
    look_since: datetime | None,
    now: datetime,
) -> bool:
    """Post what is not in Slack yet; False when the claim is no longer this process's."""
    with session_factory() as session:
        digest = session.scalar(
            select(Digest).where(
                Digest.team_id == team_id, Digest.week == period.key, Digest.claimed_by == token
            )
        )
        if digest is None:
            return False
        content = digest_content(session, team_id=team_id, period=period, zone=zone)
        last = period.day - timedelta(days=1)
        start = period.start.date()
        if digest.message_ts is None:
            digest.message_ts = post_once(
                slack,
                channel=digest.channel,
                key=f"digest:{team_id}:{period.key}",
                text=messages.digest_fallback(
                    start, last, content.week.kept_on_time_pct, content.before.kept_on_time_pct
                ),
                blocks=digest_blocks(week=content.week, before=content.before, zone=zone_name),
                look_since=look_since,
            )
            session.commit()
        if digest.file_id is None:
            filename = chart_filename(team_id=team_id, period=period)
            found = (
                slack.find_file(channel=digest.channel, filename=filename, since=look_since)
                if look_since
                else None
            )
            digest.file_id = found or slack.upload_file(
                channel=digest.channel,
                filename=filename,
                content=content.chart,
                title=messages.digest_chart_title(start, last),
                alt_txt=messages.digest_chart_alt(),
            )
        digest.sent_at = now
        session.commit()
    return True
