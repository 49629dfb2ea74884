"""Build the Bolt ``App``: nothing happens at import time."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.deps import DEPS_KEY, Deps, deps_of
from bot.services import handled
from handlers import register_listeners
from handlers.access import refuse_outsiders

log = logging.getLogger(__name__)


def build_app(
    deps: Deps,
    *,
    client: WebClient,
    listener_executor: Executor | None = None,
    oauth_settings: OAuthSettings | None = None,
) -> App:
    """A Bolt app wired to our listeners; ``deps`` reach them through the context, bound to
    the request's workspace. With ``oauth_settings`` it is installed in many workspaces
    (``/slack/install``), each request authorized with its workspace's installation."""
    settings = deps.settings
    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=client,
        # Listeners run on worker threads after ack(); Bolt's default of 5 is too few for a
        # mass outage where every declare waits on Slack.
        listener_executor=listener_executor
        or ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="bolt"),
        # One auth.test at start: checks the token and tells Bolt who the bot is, so concurrent
        # first requests don't each ask Slack.
        token_verification_enabled=True,
        raise_error_for_unhandled_request=False,
        oauth_settings=oauth_settings,
    )

    @app.middleware
    def inject_deps(context: BoltContext, next: Any) -> Any:
        # Everything a listener does is for the request's workspace: its gateway, its rows.
        mine = deps.for_team(context.team_id or "")
        context[DEPS_KEY] = mine
        known = context.authorize_result
        if known is not None:
            mine.slack.learn_identity(
                bot_user_id=known.bot_user_id or "", team_id=known.team_id or ""
            )
        return next()

    @app.middleware
    def keep_outsiders_out(
        context: BoltContext, body: dict[str, Any], respond: Respond | None, next: Any
    ) -> Any:
        """Only teammates act: every command, button, form and event of someone from another
        organisation or a guest is refused here, before any listener (and before the event
        is recorded as handled)."""
        refusal = refuse_outsiders(deps_of(context), body, respond)
        return refusal if refusal is not None else next()

    @app.middleware
    def drop_duplicate_events(body: dict[str, Any], next: Any) -> Any:
        """Slack redelivers events it thinks we missed; handle each ``event_id`` once. The
        listener marks it handled with its effect (bot/services/handled.py): one that failed
        or died before that is handled again when Slack retries it."""
        event_id = body.get("event_id")
        if not event_id:
            return next()
        with deps.session_factory() as session:
            if handled.already(session, str(event_id)):
                log.info("event %s already handled; ignoring the redelivery", event_id)
                return BoltResponse(status=200, body="")
        return next()

    register_listeners(app)
    return app
