"""When the customer will hear from us next: a Slack date token with a local fallback.

Slack shows a date token (``<!date^…>``) in each reader's own time zone; where it cannot, it
shows the fallback, which we write in the account's time zone and language with Babel.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from babel import Locale
from babel.dates import format_datetime

from bot.customer.bidi import FSI, LRI, isolate
from bot.text import escape

# Per language: the date (Babel pattern), the word before the time, and the token's format.
# Slack renders a token in the reader's Slack language, and Slack has no Hebrew interface, so
# the Hebrew token carries no Hebrew word ("Tomorrow 3:30 PM", not "Tomorrow בשעה 3:30 PM").
_PATTERNS: dict[str, tuple[str, str, str]] = {
    "en": ("EEEE, d MMMM", "at", "{date_short_pretty} at {time}"),
    "he": ("EEEE, d בMMMM", "בשעה", "{date_short_pretty} {time}"),
}


def is_rtl(language: str) -> bool:
    """Whether ``language`` is written right to left (from Babel's locale data)."""
    return bool(Locale.parse(language).character_order == "right-to-left")


def zone_label(moment: datetime, zone: tzinfo, language: str) -> str:
    """The zone as a reader of ``language`` knows it.

    English readers know the abbreviations (``CET``, ``EST``); other languages get Babel's
    localized name (Hebrew: ``שעון ישראל (חורף)``). Zones without a lettered abbreviation
    (``+03``) fall back to Babel's ``GMT+03:00``.
    """
    local = moment.astimezone(zone)
    if language == "en":
        abbreviation = local.tzname() or ""
        if abbreviation.isalpha():
            return abbreviation
        return format_datetime(local, "ZZZZ", tzinfo=zone, locale=language)
    return format_datetime(local, "zzzz", tzinfo=zone, locale=language)


def local_moment(moment: datetime, zone: tzinfo, language: str) -> str:
    """``moment`` for a reader in ``zone``: ``Tuesday, 1 December at 14:30 CET``.

    In a right-to-left language the time and the zone are isolates, so a Latin zone name or
    an offset stays in its place.
    """
    date_pattern, at, _ = _PATTERNS.get(language, ("EEEE, d MMMM", "", ""))
    local = moment.astimezone(zone)
    date = format_datetime(local, date_pattern, tzinfo=zone, locale=language)
    time = format_datetime(local, "HH:mm", tzinfo=zone, locale=language)
    label = zone_label(moment, zone, language)
    if is_rtl(language):
        time, label = isolate(time, opener=LRI), isolate(label, opener=FSI)
    return " ".join(part for part in (date, at, time, label) if part)


def next_update_token(moment: datetime, zone: tzinfo, language: str) -> str:
    """The Slack date token for ``moment``, its fallback written by :func:`local_moment`."""
    _, _, style = _PATTERNS.get(language, ("", "", "{date_short_pretty} {time}"))
    fallback = escape(local_moment(moment, zone, language)).replace("|", "/")
    stamp = int(moment.astimezone(UTC).timestamp())
    return f"<!date^{stamp}^{style}|{fallback}>"
