from datetime import timedelta

import pytest

from bot.config import Admins, ConfigError, Settings, load_settings
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
        ("CRISISBOT_ADMINS", "U0ANA,bob", "CRISISBOT_ADMINS: 'bob' is not a user or user group id"),
        (
            "CRISISBOT_REPORT_AT",
            "Mondays 9am",
            "CRISISBOT_REPORT_AT: 'Mondays 9am' is not a day and a time: use a day and a time"
            " such as Mon 09:00",
        ),
        ("CRISISBOT_REPORT_CHANNEL", "#cs-weekly", "CRISISBOT_REPORT_CHANNEL: '#cs-weekly' is not"),
        ("CRISISBOT_LISTENER_THREADS", "0", "CRISISBOT_LISTENER_THREADS:"),
        (
            "CRISISBOT_SELF_SERVICE_LINKS",
            "Docs|https://docs.example.com,Status|status.example.com",
            "CRISISBOT_SELF_SERVICE_LINKS: 'status.example.com' is not a URL: use Title|https://…",
        ),
        (
            "CRISISBOT_SELF_SERVICE_LINKS",
            "Help center",
            "CRISISBOT_SELF_SERVICE_LINKS: 'Help center' is not a URL",
        ),
        (
            "CRISISBOT_SELF_SERVICE_LINKS",
            "Docs|ftp://docs.example.com",
            "CRISISBOT_SELF_SERVICE_LINKS: 'ftp://docs.example.com' is not a URL",
        ),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN: not a bot token: use the Bot"),
        ("SLACK_APP_TOKEN", "xoxb-bot-token", "SLACK_APP_TOKEN: not an app-level token: use"),
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
    if name.startswith("SLACK_") and name.endswith("_TOKEN"):
        assert value not in str(raised.value)  # a secret, even a wrong one, is never echoed


def test_self_service_links_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CRISISBOT_SELF_SERVICE_LINKS",
        "Docs|https://docs.example.com, Status|https://s.example.com",
    )
    assert load_settings().self_service_links == [
        ("Docs", "https://docs.example.com"),
        ("Status", "https://s.example.com"),
    ]


def test_the_weekly_digest_is_set_by_a_channel_and_a_moment_of_the_week(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().report_channel is None
    monkeypatch.setenv("CRISISBOT_REPORT_CHANNEL", "C0WEEKLY")
    monkeypatch.setenv("CRISISBOT_REPORT_AT", "friday 16:30")
    settings = load_settings()
    assert (settings.report_channel, settings.report_at) == ("C0WEEKLY", "Fri 16:30")


def test_the_time_zone_is_an_iana_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRISISBOT_TIMEZONE", "Europe/Berlin")
    settings = load_settings()
    assert settings.timezone == "Europe/Berlin"
    assert T0.astimezone(settings.zone()).strftime("%H:%M %Z") == "15:00 CET"


def test_self_service_links_default_and_a_bare_url_is_its_own_title(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRISISBOT_SELF_SERVICE_LINKS", raising=False)
    assert Settings().self_service_links == [
        ("Help center", "https://help.example.com"),
        ("Status page", "https://status.example.com"),
    ]
    assert Settings(self_service_links=" https://wiki.example.com/faq ,").self_service_links == [
        ("https://wiki.example.com/faq", "https://wiki.example.com/faq")
    ]
    assert Settings(self_service_links="").self_service_links == []


def test_admins_are_parsed_once_into_user_and_user_group_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRISISBOT_ADMINS", " U0ANA, S0LEADS ,W0BOB,")
    settings = load_settings()
    assert settings.admins == Admins(users=("U0ANA", "W0BOB"), groups=("S0LEADS",))
    # The start-up log (model_dump) shows them as the operator writes them.
    assert settings.model_dump()["admins"] == "U0ANA,W0BOB,S0LEADS"
    assert Settings(admins="S0LEADS").admins.groups == ("S0LEADS",)
    monkeypatch.delenv("CRISISBOT_ADMINS")
    assert Settings().admins == Admins(users=(), groups=())


def test_fields_are_set_by_name_and_by_their_environment_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(nag_every="45s", slack_bot_token="xoxb-1", port=8000, admins="U0A")
    assert settings.nag_every == timedelta(seconds=45)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1"
    assert settings.port == 8000
    monkeypatch.setenv("CRISISBOT_LISTENER_THREADS", "7")
    monkeypatch.setenv("CRISISBOT_MIGRATE_ON_START", "false")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("PORT", "8081")
    settings = load_settings()
    assert (settings.listener_threads, settings.migrate_on_start) == (7, False)
    assert (settings.log_level, settings.port) == ("DEBUG", 8081)


def test_only_the_documented_name_sets_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRISISBOT_NAG_EVERY", raising=False)
    monkeypatch.setenv("NAG_EVERY", "45s")  # the attribute name is not an environment name
    assert load_settings().nag_every == timedelta(minutes=10)


def test_a_new_setting_is_read_through_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    class WithQuietHours(Settings):
        quiet_hours: str = "none"

    monkeypatch.setenv("CRISISBOT_QUIET_HOURS", "22-7")
    assert WithQuietHours().quiet_hours == "22-7"


def test_settings_need_no_slack_credentials_until_slack_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()  # what `crisisbot db upgrade` and the test fixtures do
    with pytest.raises(ConfigError) as raised:
        settings.require_slack()
    assert str(raised.value) == "SLACK_BOT_TOKEN: required (xoxb-…, from your app's OAuth page)"


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"slack_signing_secret": "s"}, "SLACK_BOT_TOKEN: required (xoxb-…, from your app's"),
        (
            {"slack_bot_token": "xoxb-1"},
            "SLACK_SIGNING_SECRET: required in HTTP mode (from Basic Information)",
        ),
        (
            {"slack_bot_token": "xoxb-1", "slack_app_token": ""},
            "SLACK_SIGNING_SECRET: required in HTTP mode (from Basic Information)",
        ),
        ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, None),
        ({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}, None),  # Socket Mode
        # Installed through OAuth: no bot token of its own, all three OAuth settings.
        (
            {
                "slack_client_id": "1.2",
                "slack_client_secret": "c",
                "slack_state_secret": "s",
                "slack_signing_secret": "s",
            },
            None,
        ),
        (
            {"slack_client_id": "1.2", "slack_signing_secret": "s"},
            "SLACK_CLIENT_SECRET, SLACK_STATE_SECRET: required with the other OAuth settings",
        ),
        (
            {"slack_client_id": "1.2", "slack_client_secret": "c", "slack_state_secret": "s"},
            "SLACK_SIGNING_SECRET: required in HTTP mode",
        ),
    ],
)
def test_require_slack_names_the_missing_credential(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], says: str | None
) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_STATE_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(**values)
    if says is None:
        settings.require_slack()
        return
    with pytest.raises(ConfigError) as raised:
        settings.require_slack()
    assert str(raised.value).startswith(says)


def test_leases_are_durations_and_the_heartbeat_renews_well_within_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRISISBOT_LEASE", "20s")
    monkeypatch.setenv("CRISISBOT_HEARTBEAT", "5s")
    settings = load_settings()
    assert (settings.lease, settings.heartbeat) == (timedelta(seconds=20), timedelta(seconds=5))
    monkeypatch.setenv("CRISISBOT_HEARTBEAT", "15s")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value).startswith("CRISISBOT_HEARTBEAT: must be at most half of")
