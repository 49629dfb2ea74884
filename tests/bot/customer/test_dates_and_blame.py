"""The next-update time in the customer's language and zone; the blame check."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.customer import find_blame, local_moment, next_update_token
from bot.customer.blame import SUGGESTION

FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"
WINTER = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
SUMMER = datetime(2026, 7, 7, 6, 5, tzinfo=UTC)


def test_english_local_time_names_the_zone_as_readers_know_it() -> None:
    assert local_moment(WINTER, ZoneInfo("Europe/Berlin"), "en") == (
        "Tuesday, 1 December at 14:30 CET"
    )
    assert local_moment(SUMMER, ZoneInfo("Europe/Berlin"), "en") == "Tuesday, 7 July at 08:05 CEST"
    assert local_moment(WINTER, ZoneInfo("America/New_York"), "en") == (
        "Tuesday, 1 December at 08:30 EST"
    )
    # No lettered abbreviation in the time zone database: the offset.
    assert local_moment(WINTER, ZoneInfo("Asia/Dubai"), "en") == (
        "Tuesday, 1 December at 17:30 GMT+04:00"
    )


def test_hebrew_local_time_is_babel_hebrew_with_the_time_isolated() -> None:
    assert local_moment(SUMMER, ZoneInfo("Asia/Jerusalem"), "he") == (
        f"יום שלישי, 7 ביולי בשעה {LRI}09:05{PDI} {FSI}שעון ישראל (קיץ){PDI}"
    )
    assert local_moment(WINTER, ZoneInfo("America/New_York"), "he") == (
        f"יום שלישי, 1 בדצמבר בשעה {LRI}08:30{PDI} {FSI}שעון החוף המזרחי (חורף){PDI}"
    )


def test_the_token_shows_each_reader_their_own_time_and_falls_back_to_the_account_zone() -> None:
    assert next_update_token(WINTER, ZoneInfo("Europe/Berlin"), "en") == (
        "<!date^1796131800^{date_short_pretty} at {time}|Tuesday, 1 December at 14:30 CET>"
    )
    token = next_update_token(WINTER, ZoneInfo("Asia/Jerusalem"), "he")
    assert token.startswith("<!date^1796131800^{date_short_pretty} {time}|יום שלישי, 1 בדצמבר")


def test_blame_on_the_customer_or_a_person_is_found_with_its_place() -> None:
    text = "Honestly, it's YOUR fault; you shouldn’t have skipped it. Human-error, again."
    findings = find_blame(text)
    assert [(f.words, text[f.start : f.end]) for f in findings] == [
        ("YOUR fault", "YOUR fault"),
        ("you shouldn’t have", "you shouldn’t have"),
        ("Human-error", "Human-error"),
    ]
    assert all(f.suggestion == SUGGESTION for f in findings)
    assert SUGGESTION == "focus on the outcome: say what we are doing about it"


def test_blame_in_hebrew_also_after_attached_words() -> None:
    text = "זו הייתה שגיאת משתמש, ובאשמתכם. הייתם צריכים לעדכן."
    assert [f.words for f in find_blame(text)] == ["שגיאת משתמש", "ובאשמתכם", "הייתם צריכים"]


def test_outcome_focused_text_has_no_findings() -> None:
    assert find_blame("We are restoring the exports and will confirm by 15:00.") == []
    assert find_blame("The user errored out? No: the userbase grew.") == []
    assert find_blame("אנחנו מחזירים את הייצוא ונעדכן עד 15:00.") == []
