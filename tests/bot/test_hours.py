"""Working hours across time zones, daylight-saving changes and a Sunday–Thursday week."""

from datetime import UTC, datetime

import pytest

from bot.hours import HoursError, WorkingHours, parse_timezone

NEW_YORK = parse_timezone("America/New_York")
JERUSALEM = parse_timezone("Asia/Jerusalem")


def local(zone_name: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=parse_timezone(zone_name))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Mon-Fri 09:00-17:00", "Mon-Fri 09:00-17:00"),
        ("sun-thu 8:30-17:30", "Sun-Thu 08:30-17:30"),
        ("Mon,Wed,Fri 10:00-16:00", "Mon,Wed,Fri 10:00-16:00"),
        ("Sat 10:00-14:00", "Sat 10:00-14:00"),
        ("24/7", "24/7"),
    ],
)
def test_hours_read_and_print_the_same(text: str, shown: str) -> None:
    assert str(WorkingHours.parse(text)) == shown
    assert WorkingHours.parse(shown) == WorkingHours.parse(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("weekdays", "is not working hours: use days and hours such as Mon-Fri 09:00-17:00"),
        ("Mon-Fri 17:00-09:00", "closes before it opens"),
        ("Mon-Fry 09:00-17:00", "'Mon-Fry' is not a day: use Mon, Tue"),
        ("Mon-Fri 09:00-25:00", "'25:00' in 'Mon-Fri 09:00-25:00' is not a time of day"),
    ],
)
def test_bad_hours_say_what_is_accepted(text: str, problem: str) -> None:
    with pytest.raises(HoursError) as raised:
        WorkingHours.parse(text)
    assert problem in str(raised.value)


def test_a_bad_time_zone_says_what_is_accepted() -> None:
    with pytest.raises(HoursError) as raised:
        parse_timezone("Mars/Olympus")
    assert str(raised.value) == (
        "'Mars/Olympus' is not a time zone: use an IANA time zone such as Europe/London,"
        " America/New_York or Asia/Jerusalem"
    )


def test_friday_evening_waits_for_monday_morning() -> None:
    hours = WorkingHours.parse("Mon-Fri 09:00-17:00")
    saturday_evening = local("America/New_York", 2026, 11, 28, 18, 0)
    assert hours.next_open(saturday_evening, NEW_YORK) == local(
        "America/New_York", 2026, 11, 30, 9, 0
    )
    inside = local("America/New_York", 2026, 11, 30, 16, 59)
    assert hours.next_open(inside, NEW_YORK) == inside
    assert not hours.is_open(local("America/New_York", 2026, 11, 30, 17, 0), NEW_YORK)


def test_a_sunday_to_thursday_week() -> None:
    hours = WorkingHours.parse("Sun-Thu 08:30-17:30")
    thursday_night = local("Asia/Jerusalem", 2026, 12, 3, 18, 0)
    assert hours.next_open(thursday_night, JERUSALEM) == local("Asia/Jerusalem", 2026, 12, 6, 8, 30)
    assert hours.is_open(local("Asia/Jerusalem", 2026, 12, 6, 8, 30), JERUSALEM)
    assert not hours.is_open(local("Asia/Jerusalem", 2026, 12, 4, 10, 0), JERUSALEM)  # Friday


def test_opening_stays_at_nine_across_the_spring_change_in_new_york() -> None:
    # Clocks go forward on Sunday 8 March 2026: Friday 9:00 is 14:00 UTC, Monday 9:00 is 13:00.
    hours = WorkingHours.parse("Mon-Fri 09:00-17:00")
    after_friday = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)
    opening = hours.next_open(after_friday, NEW_YORK)
    assert opening == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert opening.astimezone(NEW_YORK).hour == 9


def test_opening_stays_at_nine_across_the_autumn_change_in_new_york() -> None:
    # Clocks go back on Sunday 1 November 2026: Monday 9:00 is 14:00 UTC again.
    hours = WorkingHours.parse("Mon-Fri 09:00-17:00")
    opening = hours.next_open(datetime(2026, 10, 30, 22, 0, tzinfo=UTC), NEW_YORK)
    assert opening == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_opening_stays_at_half_past_eight_across_the_changes_in_jerusalem() -> None:
    # Israel moves forward on Friday 27 March 2026 and back on Sunday 25 October 2026.
    hours = WorkingHours.parse("Sun-Thu 08:30-17:30")
    spring = hours.next_open(datetime(2026, 3, 26, 16, 0, tzinfo=UTC), JERUSALEM)
    assert spring == datetime(2026, 3, 29, 5, 30, tzinfo=UTC)  # 08:30 IDT, UTC+3
    autumn = hours.next_open(datetime(2026, 10, 22, 16, 0, tzinfo=UTC), JERUSALEM)
    assert autumn == datetime(2026, 10, 25, 6, 30, tzinfo=UTC)  # 08:30 IST, UTC+2


def test_always_open() -> None:
    at = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert WorkingHours.parse("24/7").next_open(at, JERUSALEM) == at
