"""Settings, read from the environment or a ``.env`` file and checked at start."""

from __future__ import annotations

from datetime import timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.durations import parse_duration
from bot.enums import Severity
from bot.hours import HoursError, WeeklyAt, WorkingHours, parse_timezone

SLACK_API_URL = "https://slack.com/api/"


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


class ConfigError(Exception):
    """A setting has a value we cannot use; the message is one line for the operator."""


class Admins(BaseModel):
    """``CRISISBOT_ADMINS``, parsed: who may manage any crisis."""

    model_config = ConfigDict(frozen=True)

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


Link = tuple[str, str]
"""A self-service link: (title, url)."""

DEFAULT_LINKS: list[Link] = [
    ("Help center", "https://help.example.com"),
    ("Status page", "https://status.example.com"),
]


class Settings(BaseSettings):
    """Every knob of the bot. Environment names are the contract documented in the README:
    ``CRISISBOT_`` + the field name, except the aliased names Slack and hosting platforms use."""

    model_config = SettingsConfigDict(
        env_prefix="CRISISBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    slack_bot_token: SecretStr = Field(default=SecretStr(""), validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=SLACK_API_URL, validation_alias="SLACK_API_URL")
    # A distributed app (OAuth, many workspaces): all three set, Bolt's own names.
    slack_client_id: str = Field(default="", validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="SLACK_CLIENT_SECRET"
    )
    slack_state_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="SLACK_STATE_SECRET"
    )
    database_url: str = Field(default="sqlite:///crisisbot.db", validation_alias="DATABASE_URL")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")

    cadence_sev1: Duration = timedelta(minutes=30)
    cadence_sev2: Duration = timedelta(hours=1)
    cadence_sev3: Duration = timedelta(hours=4)
    cadence_sev4: Duration = timedelta(days=1)
    reminder_lead: OptionalDuration = timedelta(minutes=10)
    nag_every: Duration = timedelta(minutes=10)
    escalate_after: Duration = timedelta(minutes=30)
    follow_up: Duration = timedelta(days=3)
    snooze: Duration = timedelta(minutes=15)
    tick: Duration = timedelta(seconds=5)
    # Work in flight (a declaration, a post, a reminder, an outage broadcast, the weekly
    # digest) is held by a lease this long, renewed every ``heartbeat`` while the process is
    # alive: a dead replica's work is taken over within ``lease`` plus a tick.
    lease: Duration = timedelta(seconds=20)
    heartbeat: Duration = timedelta(seconds=5)

    announce_channel: str | None = None
    escalation_channel: str | None = None
    # The weekly digest: where (unset, no digest) and when, in ``timezone``.
    report_channel: str | None = None
    report_at: str = "Mon 09:00"
    # Where text cannot carry Slack's date token (the channel topic), times are in this zone.
    timezone: str = "UTC"
    # Customer message templates that replace the shipped ones (bot/customer/templates).
    templates_dir: Path | None = None
    # When owners work (each in their own Slack time zone): sev3 and sev4 reminders wait for it.
    working_hours: str = "Mon-Fri 09:00-18:00"
    ack_emoji: str = "eyes"
    update_emoji: str = "mega"
    # NoDecode: comma lists, not JSON; the validators below parse them.
    admins: Annotated[Admins, NoDecode] = Admins()
    self_service_links: Annotated[list[Link], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_LINKS)
    )
    listener_threads: int = Field(default=32, ge=1, le=512)
    # At least Slack's tier-2 allowance (20 a minute): in a mass outage every tier-2 slot
    # that opens finds a worker ready to use it.
    worker_threads: int = Field(default=32, ge=1, le=512)
    # How long a Web API call that meets 429, 5xx or a dropped connection keeps being retried
    # before the person is told (the sweep still finishes the work later).
    slack_retry_for: Duration = timedelta(minutes=10)
    # The HTTP server (waitress): threads that run requests up to their ack, open connections
    # at most, and seconds a request has to arrive whole (or stay idle) before it is dropped.
    http_threads: int = Field(default=16, ge=1, le=512)
    http_connection_limit: int = Field(default=1000, ge=10, le=100_000)
    http_read_timeout: float = Field(default=30.0, gt=0, le=3600)
    migrate_on_start: bool = True
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")

    @field_validator("heartbeat")
    @classmethod
    def _heartbeat_within_lease(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        lease = info.data.get("lease")
        if lease is not None and value * 2 > lease:
            raise ValueError(
                f"must be at most half of CRISISBOT_LEASE ({lease.total_seconds():g}s), so a"
                " lease is renewed at least twice before it runs out"
            )
        return value

    @field_validator("announce_channel", "escalation_channel", "report_channel", mode="before")
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
            parse_timezone(text)
        except HoursError:
            raise ValueError(
                f"{value!r} is not an IANA time zone: use a name such as UTC, Europe/Berlin"
                " or America/New_York"
            ) from None
        return text

    @field_validator("report_at", mode="before")
    @classmethod
    def _report_at(cls, value: Any) -> Any:
        try:
            return str(WeeklyAt.parse(str(value or "")))
        except HoursError as error:
            raise ValueError(str(error)) from None

    @field_validator("templates_dir", mode="before")
    @classmethod
    def _templates_dir(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        path = Path(str(value)).expanduser()
        if not path.is_dir():
            raise ValueError(
                f"{str(value)!r} is not a directory: use a directory of templates laid out like"
                " bot/customer/templates (en/outage.md.j2, he/closure.md.j2…)"
            )
        return path

    @field_validator("working_hours", mode="before")
    @classmethod
    def _working_hours(cls, value: Any) -> Any:
        try:
            return str(WorkingHours.parse(str(value or "")))
        except HoursError as error:
            raise ValueError(str(error)) from None

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
        if not isinstance(value, str | None):
            return value
        ids = [part.strip() for part in (value or "").split(",") if part.strip()]
        for item in ids:
            if not (item[0] in "UWS" and item.isalnum() and item.isupper()):
                raise ValueError(
                    f"{item!r} is not a user or user group id: use ids such as U0123ABCD"
                    " or S0456EFGH, separated by commas"
                )
        return Admins(
            users=tuple(i for i in ids if i[0] in "UW"), groups=tuple(i for i in ids if i[0] == "S")
        )

    @field_serializer("admins")
    def _admins_as_set(self, admins: Admins) -> str:
        # Dumped as the operator writes it (the start-up log shows model_dump()).
        return ",".join(admins.users + admins.groups)

    @field_validator("self_service_links", mode="before")
    @classmethod
    def _links(cls, value: Any) -> Any:
        if not isinstance(value, str | None):
            return value
        links = []
        for item in (value or "").split(","):
            if not item.strip():
                continue
            title, url = item.split("|", 1) if "|" in item else ("", item)
            title, url = title.strip(), url.strip()
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
                raise ValueError(f"{url!r} is not a URL: use Title|https://…, separated by commas")
            links.append((title or url, url))
        return links

    @field_serializer("self_service_links")
    def _links_as_set(self, links: list[Link]) -> str:
        return ",".join(f"{title}|{url}" for title, url in links)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        # Never echo the value: it is a secret, even when it is the wrong one.
        token = value.get_secret_value()
        if token and not token.startswith("xoxb-"):
            raise ValueError(
                "not a bot token: use the Bot User OAuth Token (xoxb-…, from your app's OAuth page)"
            )
        return value

    @field_validator("slack_app_token", mode="before")
    @classmethod
    def _app_token_unset(cls, value: Any) -> Any:
        return None if value in (None, "") else value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError(
                "not an app-level token: use one that starts with xapp- (Basic Information,"
                " App-Level Tokens), or leave it unset to serve HTTP"
            )
        return value

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
        return parse_timezone(self.timezone)

    def owner_hours(self) -> WorkingHours:
        """``CRISISBOT_WORKING_HOURS``, parsed: when owners are reminded of sev3 and sev4."""
        return _working_hours(self.working_hours)

    @property
    def oauth(self) -> bool:
        """Installed through OAuth in many workspaces (the three ``SLACK_CLIENT_*``/state
        settings), rather than one workspace's ``SLACK_BOT_TOKEN``."""
        return bool(
            self.slack_client_id
            and self.slack_client_secret.get_secret_value()
            and self.slack_state_secret.get_secret_value()
        )

    def require_slack(self) -> None:
        """Check the credentials that talking to Slack needs (``crisisbot run``); other entry
        points, such as ``crisisbot db upgrade``, start without them."""
        oauth_parts = {
            "slack_client_id": self.slack_client_id,
            "slack_client_secret": self.slack_client_secret.get_secret_value(),
            "slack_state_secret": self.slack_state_secret.get_secret_value(),
        }
        if any(oauth_parts.values()) and not all(oauth_parts.values()):
            missing = ", ".join(env_name(name) for name, value in oauth_parts.items() if not value)
            raise ConfigError(
                f"{missing}: required with the other OAuth settings (from Basic Information;"
                " the state secret is any long random string), or unset all three"
            )
        if self.oauth:
            if self.slack_app_token is None and not self.slack_signing_secret.get_secret_value():
                raise ConfigError(
                    f"{env_name('slack_signing_secret')}: required in HTTP mode"
                    " (from Basic Information)"
                )
            return
        if not self.slack_bot_token.get_secret_value():
            raise ConfigError(
                f"{env_name('slack_bot_token')}: required (xoxb-…, from your app's OAuth page)"
            )
        if self.slack_app_token is None and not self.slack_signing_secret.get_secret_value():
            raise ConfigError(
                f"{env_name('slack_signing_secret')}: required in HTTP mode"
                " (from Basic Information)"
            )


@lru_cache(maxsize=8)
def _working_hours(text: str) -> WorkingHours:
    # The sweep asks for every crisis it looks at; parse once.
    return WorkingHours.parse(text)


def env_name(field: str) -> str:
    """The environment variable that sets a field."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, str):
        return alias
    return (Settings.model_config.get("env_prefix", "") + field).upper()


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
