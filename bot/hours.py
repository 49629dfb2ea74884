"""Working hours in a time zone: ``Mon-Fri 09:00-17:00``, ``Sun-Thu 08:30-17:30``, ``24/7``.

All arithmetic is on wall-clock times in the zone (``zoneinfo``), so opening at 09:00 stays
09:00 across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {name.lower(): index for index, name in enumerate(DAY_NAMES)}
_SPEC = re.compile(
    r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?(?:\s*,\s*[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3})?)*)"
    r"\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
ALWAYS_WORDS = ("24/7", "always")
HOURS_HELP = (
    "days and hours such as Mon-Fri 09:00-17:00, Sun-Thu 08:30-17:30 or Mon,Wed,Fri 10:00-16:00"
    " (or 24/7)"
)
TIMEZONE_HELP = "an IANA time zone such as Europe/London, America/New_York or Asia/Jerusalem"


class HoursError(ValueError):
    """A text that is not working hours or a time zone; the message says what is accepted."""


@lru_cache(maxsize=512)
def parse_timezone(text: str) -> ZoneInfo:
    """An IANA zone by name, or ``HoursError`` naming what is accepted. Cached: listing the
    zones the database has takes milliseconds, and cards and the sweep ask often."""
    name = text.strip()
    if name and name in available_timezones():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise HoursError(f"{text.strip()!r} is not a time zone: use {TIMEZONE_HELP}")


@dataclass(frozen=True)
class WorkingHours:
    """Opening days (0 = Monday) and the daily window ``[start, end)``; ``always`` for 24/7."""

    days: frozenset[int]
    start: time
    end: time
    always: bool = False

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """``Mon-Fri 09:00-17:00``, ``Sun-Thu 08:30-17:30``, ``Mon,Wed 10:00-16:00``, ``24/7``."""
        if text.strip().lower() in ALWAYS_WORDS:
            return cls(frozenset(range(7)), time(0), time(0), always=True)
        match = _SPEC.match(text)
        if not match:
            raise HoursError(f"{text.strip()!r} is not working hours: use {HOURS_HELP}")
        days: set[int] = set()
        for part in match["days"].split(","):
            first, _, last = (p.strip().lower() for p in part.partition("-"))
            if first not in _DAY_INDEX or (last and last not in _DAY_INDEX):
                raise HoursError(f"{part.strip()!r} is not a day: use {', '.join(DAY_NAMES)}")
            begin, finish = _DAY_INDEX[first], _DAY_INDEX[last or first]
            span = (finish - begin) % 7
            days.update((begin + step) % 7 for step in range(span + 1))
        start, end = _clock(match["start"], text), _clock(match["end"], text)
        if end <= start:
            raise HoursError(
                f"{text.strip()!r} closes before it opens: the hours must be within one day,"
                f" {HOURS_HELP}"
            )
        return cls(frozenset(days), start, end)

    def __str__(self) -> str:
        if self.always:
            return "24/7"
        return f"{_days_text(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"

    def is_open(self, at: datetime, zone: ZoneInfo) -> bool:
        """Whether ``at`` (an aware instant) falls within these hours in ``zone``."""
        if self.always:
            return True
        local = at.astimezone(zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, at: datetime, zone: ZoneInfo) -> datetime:
        """``at`` itself when open, else the next opening (an aware UTC instant)."""
        if self.is_open(at, zone):
            return at
        today = at.astimezone(zone).date()
        for offset in range(8):
            day = today + timedelta(days=offset)
            opening = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
            if day.weekday() in self.days and opening >= at:
                return opening
        raise HoursError(f"{self} never opens")  # parse() never builds hours without days


_WEEKLY = re.compile(r"^\s*(?P<day>[A-Za-z]{3,9})\s+(?P<at>\d{1,2}:\d{2})\s*$")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKLY_HELP = "a day and a time such as Mon 09:00 or Fri 16:30"


@dataclass(frozen=True)
class WeeklyAt:
    """A moment of the week, ``Mon 09:00``: when the weekly digest goes out."""

    weekday: int
    at: time

    @classmethod
    def parse(cls, text: str) -> WeeklyAt:
        match = _WEEKLY.match(text)
        word = match["day"].lower() if match else ""
        day = word[:3] if word in _FULL_DAYS else word
        if not match or day not in _DAY_INDEX:
            raise HoursError(f"{text.strip()!r} is not a day and a time: use {WEEKLY_HELP}")
        at = _clock(match["at"], text)
        if at == time(23, 59, 59, 999999):
            raise HoursError(f"{text.strip()!r}: use a time from 00:00 to 23:59")
        return cls(_DAY_INDEX[day], at)

    def __str__(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.at:%H:%M}"

    def latest(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The last such moment at or before ``now``, in ``zone`` (an aware datetime there)."""
        today = now.astimezone(zone).date()
        back = (today.weekday() - self.weekday) % 7
        for days in (back, back + 7):
            moment = datetime.combine(today - timedelta(days=days), self.at, tzinfo=zone)
            if moment <= now:
                return moment
        raise AssertionError("a week back is always before now")


def _clock(text: str, whole: str) -> time:
    hours, minutes = (int(n) for n in text.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise HoursError(f"{text!r} in {whole.strip()!r} is not a time of day: use 00:00 to 24:00")
    return time(23, 59, 59, 999999) if hours == 24 else time(hours, minutes)


def _days_text(days: frozenset[int]) -> str:
    ordered = sorted(days)
    if len(ordered) == 1:
        return DAY_NAMES[ordered[0]]
    # One run of days, possibly across the week's end (Sun-Thu), reads as a range.
    for start in ordered:
        run = [(start + i) % 7 for i in range(len(ordered))]
        if set(run) == days:
            return f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}"
    return ",".join(DAY_NAMES[d] for d in ordered)
