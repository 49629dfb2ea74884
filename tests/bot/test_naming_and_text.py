import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.services.naming import channel_name, customer_slug, with_suffix
from bot.text import clip, date_token, escape, safe

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")
DAY = datetime(2026, 11, 22, tzinfo=UTC)


def test_channel_name_has_date_and_slug() -> None:
    assert channel_name("Acme Corp.", DAY) == "crisis-20261122-acme-corp"
    assert channel_name("Café Müller & Söhne", DAY) == "crisis-20261122-cafe-muller-sohne"


def test_a_hebrew_customer_still_gets_a_valid_stable_name() -> None:
    name = channel_name("לקוח חשוב", DAY)
    assert VALID.match(name)
    assert name == channel_name("לקוח חשוב", DAY)
    assert name != channel_name("לקוח אחר", DAY)
    assert name.startswith("crisis-20261122-customer-")


def test_other_scripts_are_transliterated_into_readable_names() -> None:
    assert channel_name("Москва Банк", DAY) == "crisis-20261122-moskva-bank"
    assert channel_name("Ελληνική Εταιρεία", DAY) == "crisis-20261122-ellenike-etaireia"
    assert channel_name("東京電力", DAY) == "crisis-20261122-dong-jing-dian-li"


def test_a_mixed_hebrew_and_latin_name_keeps_the_latin_part() -> None:
    assert channel_name("Acme ישראל", DAY) == "crisis-20261122-acme"


def test_suffixes_stay_within_80_characters() -> None:
    long = channel_name("x" * 300, DAY)
    assert len(long) <= 80
    assert len(with_suffix(long, 12)) <= 80 and with_suffix(long, 12).endswith("-12")
    assert with_suffix("crisis-a", 1) == "crisis-a"


@given(st.text(max_size=200))
def test_every_customer_name_yields_a_valid_channel_name(customer: str) -> None:
    for attempt in (1, 2, 99):
        assert VALID.match(with_suffix(channel_name(customer, DAY), attempt))
    assert customer_slug(customer)


def test_escape_defuses_mentions() -> None:
    text = escape("<!channel> <!here> <!everyone> <!subteam^S1> <@U123> & co")
    assert "<" not in text and ">" not in text
    assert text.startswith("&lt;!channel&gt;")
    assert "&amp; co" in text


def test_clip_cuts_with_an_ellipsis_and_never_half_an_entity() -> None:
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 3) == "abc"
    cut = safe("aaaaaa<<<<", 9)
    assert cut.endswith("…") and len(cut) <= 9 and "&l…" not in cut and "&" not in cut[-3:]


def test_date_token_renders_in_each_readers_time_zone_with_a_fallback() -> None:
    token = date_token(datetime(2026, 11, 22, 14, 30, tzinfo=UTC))
    assert token == (
        f"<!date^{int(datetime(2026, 11, 22, 14, 30, tzinfo=UTC).timestamp())}"
        "^{date_short_pretty} at {time}|2026-11-22 14:30 UTC>"
    )
