from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s", 45),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        (" 2H ", 7200),
        ("500ms", 0.5),
    ],
)
def test_parses_the_documented_forms(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "ten", "5x", "-5m", "1.5h", "0m", "400d"])
def test_rejects_with_a_message_saying_what_is_accepted(text: str) -> None:
    with pytest.raises(DurationError, match="45s, 30m, 2h or 1d"):
        parse_duration(text)


def test_zero_is_accepted_only_where_it_turns_something_off() -> None:
    assert parse_duration("0", allow_zero=True) == timedelta(0)
    with pytest.raises(DurationError):
        parse_duration("0")


def test_formats_like_people_talk() -> None:
    assert format_duration(timedelta(minutes=150)) == "2h 30m"
    assert format_duration(timedelta(seconds=45)) == "45s"
    assert format_duration(timedelta(days=3)) == "3d"


@given(st.text(max_size=30))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        result = parse_duration(text)
    except DurationError as error:
        assert "45s" in str(error)
    else:
        assert timedelta(0) < result <= timedelta(days=365)


@given(st.integers(min_value=1, max_value=365 * 86400))
def test_formatted_durations_parse_back(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    text = format_duration(delta).replace(" ", "")
    # Formatting keeps the two largest units, so parsing back is never longer than the original.
    assert timedelta(0) < parse_duration(text) <= delta
