from datetime import timedelta

import pytest

from bot.config import ConfigError, load_settings
from tests.support import T0


def test_defaults_match_the_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CRISISBOT_CADENCE_SEV1",
        "CRISISBOT_TICK",
        "CRISISBOT_REMINDER_LEAD",
        "CRISISBOT_TIMEZONE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env here
    settings = load_settings()
    assert settings.cadence("sev1") == timedelta(minutes=30)
    assert settings.cadence("sev4") == timedelta(days=1)
    assert settings.reminder_lead == timedelta(minutes=10)
    assert settings.tick == timedelta(seconds=5)
    assert settings.ack_emoji == "eyes"
    assert settings.database_url == "sqlite:///crisisbot.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.timezone == "UTC"


def test_environment_accepts_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRISISBOT_NAG_EVERY", "45s")
    monkeypatch.setenv("CRISISBOT_REMINDER_LEAD", "0")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:8080/api")
    settings = load_settings()
    assert settings.nag_every == timedelta(seconds=45)
    assert settings.reminder_lead == timedelta(0)
    assert settings.slack_api_url == "http://127.0.0.1:8080/api/"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (
            "CRISISBOT_NAG_EVERY",
            "ten minutes",
            "CRISISBOT_NAG_EVERY: 'ten minutes' is not a duration",
        ),
        ("CRISISBOT_CADENCE_SEV1", "0m", "CRISISBOT_CADENCE_SEV1: '0m' is zero"),
        (
            "CRISISBOT_ANNOUNCE_CHANNEL",
            "#general",
            "CRISISBOT_ANNOUNCE_CHANNEL: '#general' is not a",
        ),
        ("PORT", "web", "PORT:"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL: 'slack.com/api' is not a URL"),
        (
            "CRISISBOT_TIMEZONE",
            "Mars/Olympus",
            "CRISISBOT_TIMEZONE: 'Mars/Olympus' is not an IANA time zone",
        ),
        ("CRISISBOT_TIMEZONE", "CET+1", "CRISISBOT_TIMEZONE: 'CET+1' is not an IANA time zone"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value).startswith(says)
    assert "\n" not in str(raised.value)


def test_self_service_links_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CRISISBOT_SELF_SERVICE_LINKS",
        "Docs|https://docs.example.com, Status|https://s.example.com",
    )
    assert load_settings().links() == [
        ("Docs", "https://docs.example.com"),
        ("Status", "https://s.example.com"),
    ]


def test_the_time_zone_is_an_iana_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRISISBOT_TIMEZONE", "Europe/Berlin")
    settings = load_settings()
    assert settings.timezone == "Europe/Berlin"
    assert T0.astimezone(settings.zone()).strftime("%H:%M %Z") == "15:00 CET"
