"""Settings, read from the environment or a ``.env`` file and checked at start."""

from __future__ import annotations

from datetime import UTC, timedelta, tzinfo
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.durations import parse_duration
from bot.enums import Severity

SLACK_API_URL = "https://slack.com/api/"
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")


def _duration(allow_zero: bool) -> BeforeValidator:
    def parse(value: Any) -> Any:
        if isinstance(value, timedelta):
            return value
        if isinstance(value, int | float):
            return timedelta(seconds=value)
        return parse_duration(str(value), allow_zero=allow_zero)

    return BeforeValidator(parse)


Duration = Annotated[timedelta, _duration(allow_zero=False)]
OptionalDuration = Annotated[timedelta, _duration(allow_zero=True)]


def _env(name: str, default: Any) -> Any:
    # Accept the environment name and the attribute name, so tests can build Settings(...) directly.
    attribute = name.lower().removeprefix("crisisbot_")
    return Field(
        default=default, validate_default=True, validation_alias=AliasChoices(name, attribute)
    )


def _zone(name: str) -> tzinfo:
    # UTC needs no time zone database, so the default works on a machine without one.
    return UTC if name == "UTC" else ZoneInfo(name)


class Settings(BaseSettings):
    """Every knob of the bot. Environment names are the contract documented in the README."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    slack_bot_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_api_url: str = Field(
        default=SLACK_API_URL, validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url")
    )
    database_url: str = Field(
        default="sqlite:///crisisbot.db",
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
    )
    port: int = Field(default=3000, ge=1, le=65535, validation_alias=AliasChoices("PORT", "port"))

    cadence_sev1: Duration = _env("CRISISBOT_CADENCE_SEV1", "30m")
    cadence_sev2: Duration = _env("CRISISBOT_CADENCE_SEV2", "1h")
    cadence_sev3: Duration = _env("CRISISBOT_CADENCE_SEV3", "4h")
    cadence_sev4: Duration = _env("CRISISBOT_CADENCE_SEV4", "1d")
    reminder_lead: OptionalDuration = _env("CRISISBOT_REMINDER_LEAD", "10m")
    nag_every: Duration = _env("CRISISBOT_NAG_EVERY", "10m")
    escalate_after: Duration = _env("CRISISBOT_ESCALATE_AFTER", "30m")
    follow_up: Duration = _env("CRISISBOT_FOLLOW_UP", "3d")
    snooze: Duration = _env("CRISISBOT_SNOOZE", "15m")
    tick: Duration = _env("CRISISBOT_TICK", "5s")

    announce_channel: str | None = _env("CRISISBOT_ANNOUNCE_CHANNEL", None)
    escalation_channel: str | None = _env("CRISISBOT_ESCALATION_CHANNEL", None)
    # Where text cannot carry Slack's date token (the channel topic), times are in this zone.
    timezone: str = _env("CRISISBOT_TIMEZONE", "UTC")
    ack_emoji: str = _env("CRISISBOT_ACK_EMOJI", "eyes")
    update_emoji: str = _env("CRISISBOT_UPDATE_EMOJI", "mega")
    admins: str = _env("CRISISBOT_ADMINS", "")
    self_service_links: str = _env(
        "CRISISBOT_SELF_SERVICE_LINKS",
        "Help center|https://help.example.com,Status page|https://status.example.com",
    )
    listener_threads: int = Field(
        default=32,
        ge=1,
        le=512,
        validation_alias=AliasChoices("CRISISBOT_LISTENER_THREADS", "listener_threads"),
    )
    worker_threads: int = Field(
        # At least Slack's tier-2 allowance (20 a minute): in a mass outage every tier-2 slot
        # that opens finds a worker ready to use it.
        default=32,
        ge=1,
        le=512,
        validation_alias=AliasChoices("CRISISBOT_WORKER_THREADS", "worker_threads"),
    )
    migrate_on_start: bool = Field(
        default=True,
        validation_alias=AliasChoices("CRISISBOT_MIGRATE_ON_START", "migrate_on_start"),
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))

    @field_validator("announce_channel", "escalation_channel", mode="before")
    @classmethod
    def _channel_id(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        text = str(value).strip().lstrip("#")
        if not text or text[0] not in "CGD" or not text.isalnum() or not text.isupper():
            raise ValueError(f"{value!r} is not a channel id: use an id such as C0123ABCD")
        return text

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: Any) -> Any:
        text = str(value or "").strip()
        try:
            _zone(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone: use a name such as UTC, Europe/Berlin"
                " or America/New_York"
            ) from None
        return text

    @field_validator("ack_emoji", "update_emoji", mode="before")
    @classmethod
    def _emoji(cls, value: Any) -> Any:
        text = str(value).strip().strip(":")
        if not text or any(ch.isspace() for ch in text):
            raise ValueError(f"{value!r} is not an emoji name: use a name such as eyes or mega")
        return text

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        ids = [part.strip() for part in str(value or "").split(",") if part.strip()]
        for item in ids:
            if not (item[0] in "UWS" and item.isalnum() and item.isupper()):
                raise ValueError(
                    f"{item!r} is not a user or user group id: use ids such as U0123ABCD"
                    " or S0456EFGH, separated by commas"
                )
        return ",".join(ids)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not a URL: use http(s)://host/api/")
        return value if value.endswith("/") else value + "/"

    def cadence(self, severity: Severity) -> timedelta:
        """How often the customer is promised an update for this severity."""
        return {
            Severity.SEV1: self.cadence_sev1,
            Severity.SEV2: self.cadence_sev2,
            Severity.SEV3: self.cadence_sev3,
            Severity.SEV4: self.cadence_sev4,
        }[severity]

    def zone(self) -> tzinfo:
        """``CRISISBOT_TIMEZONE`` as a time zone."""
        return _zone(self.timezone)

    def admin_ids(self) -> tuple[list[str], list[str]]:
        """Configured admins as (user ids, user group ids)."""
        ids = [i for i in self.admins.split(",") if i]
        return [i for i in ids if i[0] in "UW"], [i for i in ids if i[0] == "S"]

    def links(self) -> list[tuple[str, str]]:
        """Self-service links as (title, url) pairs, from ``Title|https://…,Other|https://…``."""
        pairs = []
        for item in self.self_service_links.split(","):
            if "|" in item:
                title, url = item.split("|", 1)
                pairs.append((title.strip(), url.strip()))
            elif item.strip():
                pairs.append((item.strip(), item.strip()))
        return pairs


class ConfigError(Exception):
    """A setting has a value we cannot use; the message is one line for the operator."""


def env_name(field: str) -> str:
    """The environment variable that sets a field."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        return str(first)
    return field.upper()


def describe_error(error: ValidationError) -> str:
    """Turn pydantic's report into one line naming the variable and what it accepts."""
    first = error.errors()[0]
    loc = first.get("loc") or ("?",)
    field = str(loc[0])
    if field in Settings.model_fields:
        name = env_name(field)
    else:
        name = next(
            (env_name(f) for f in Settings.model_fields if env_name(f).lower() == field.lower()),
            field,
        )
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{name}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings, raising ConfigError with one clear line when a value is bad."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(describe_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings."""
    return load_settings()
