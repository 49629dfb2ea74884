"""Installs in many workspaces: Bolt's OAuth flow with slack_sdk's SQLAlchemy stores in our
database (their tables are created by our migrations, not by the stores)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.config import Settings
from bot.db.session import SessionFactory
from bot.deps import Clock
from bot.ratelimit import RateLimiter
from bot.services import workspaces
from bot.slack_gateway import RETRY_FOR, Gateways

log = logging.getLogger(__name__)

STATE_SECONDS = 600
# What an install asks for: exactly the manifest's bot scopes (tests/test_manifest.py checks).
BOT_SCOPES = (
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "im:history",
    "im:write",
    "pins:write",
    "reactions:read",
    "team:read",
    "usergroups:read",
    "users:read",
    "users:read.email",
)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)


def gateways(
    settings: Settings,
    store: SQLAlchemyInstallationStore,
    *,
    limiter_for: Callable[[str], RateLimiter] | None = None,
    retry_for: float = RETRY_FOR,
) -> Gateways:
    """One gateway per installed workspace, with the bot token its installation stored, its
    own rate limiter (``limiter_for(team_id)``) and retries for ``retry_for`` seconds."""

    def find_token(team_id: str) -> str | None:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    def drop_tokens(team_id: str) -> None:
        store.delete_all(enterprise_id=None, team_id=team_id)

    return Gateways(
        find_token=find_token,
        base_url=settings.slack_api_url,
        drop_tokens=drop_tokens,
        limiter_for=limiter_for,
        retry_for=retry_for,
    )


class SignedStateStore(OAuthStateStore):
    """slack_sdk's SQLAlchemy state store, its states signed with ``SLACK_STATE_SECRET``: a
    forged or altered state is refused before the database is asked, and each is used once."""

    def __init__(self, inner: OAuthStateStore, *, secret: str) -> None:
        self.inner = inner
        self._key = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, state: str) -> str:
        return hmac.new(self._key, state.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = self.inner.issue(*args, **kwargs)
        return f"{state}.{self._sign(state)}"

    def consume(self, state: str) -> bool:
        raw, _, signature = state.rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            return False
        return self.inner.consume(raw)


def oauth_settings(
    settings: Settings,
    *,
    engine: Engine,
    store: SQLAlchemyInstallationStore,
    gateways: Gateways,
    session_factory: SessionFactory,
    clock: Clock,
    authorization_url: str | None = None,
    redirect_uri: str | None = None,
) -> OAuthSettings:
    """``/slack/install`` and ``/slack/oauth_redirect``; each install is recorded as a
    workspace (its reminders on again) and its gateway rebuilt with the new token."""

    def installed(args: SuccessArgs) -> BoltResponse:
        team_id = args.installation.team_id or ""
        with session_factory() as session:
            workspaces.installed(
                session=session,
                team_id=team_id,
                name=args.installation.team_name or "",
                now=clock(),
            )
        gateways.forget(team_id)
        log.info("installed in workspace %s", team_id)
        return args.default.success(args)

    def failed(args: FailureArgs) -> BoltResponse:
        log.warning("an install failed: %s", args.reason)
        return args.default.failure(args)

    state = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
    extra: dict[str, Any] = {}
    if authorization_url:
        extra["authorization_url"] = authorization_url
    flow = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        redirect_uri=redirect_uri,
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        installation_store=store,
        state_store=SignedStateStore(state, secret=settings.slack_state_secret.get_secret_value()),
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=installed, failure=failed),
        **extra,
    )
    # Bolt's default asks Slack (auth.test) on every request, on the ack path; once per
    # token is enough. Bot tokens only: the app never acts as a person.
    flow.authorize = InstallationStoreAuthorize(
        logger=log,
        installation_store=store,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        bot_only=True,
        cache_enabled=True,
        client=WebClient(base_url=settings.slack_api_url),
    )
    flow.installation_store_bot_only = True
    return flow
