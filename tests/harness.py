"""The bot as Slack sees it: a real Bolt App behind our HTTP server, talking to the emulator.

Requests are built the way Slack builds them and signed with the signing secret; the
app's WebClient points (``base_url``) at the local Slack emulator.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.config import Settings
from bot.db.session import SessionFactory
from bot.deps import Deps
from bot.ratelimit import RateLimiter
from bot.slack_gateway import SlackGateway, make_client
from crisisbot.app import build_app
from crisisbot.http import make_server
from crisisbot.runtime import schema_readiness
from sandbox import Emulator
from sandbox.payloads import block_suggestion, slash_command_form
from sandbox.signing import sign as slack_signature
from scheduler.jobs import sweep_due
from scheduler.senders import Senders
from tests.support import SIGNING_SECRET, Clock, FastRetryTime, event_envelope, reaction_added


class InlineExecutor(Executor):
    """Runs each listener to completion before the request returns, so tests are deterministic."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


@dataclass
class Answer:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        """The message an ack carried: Bolt sends plain text, or JSON with blocks."""
        if self.body.startswith("{"):
            return str(self.json().get("text", ""))
        return self.body


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Slack's v0 signature headers, as the sandbox's inbound traffic signs them."""
    return slack_signature(body, secret, timestamp)


class Bot:
    """crisisbot served over HTTP on loopback, and ways to talk to it as Slack would."""

    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: SessionFactory,
        clock: Clock,
        emulator: Emulator,
    ) -> None:
        self.emulator = emulator
        self.clock = clock
        client = make_client(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=emulator.api_url,
            timeout=5,
            retry_for=settings.slack_retry_for.total_seconds(),
            time_source=FastRetryTime(),
        )
        self.deps = Deps(
            settings=settings,
            session_factory=session_factory,
            # Slack's pacing, a thousand times faster: tests never wait on the minute windows.
            slack=SlackGateway(client, limiter=RateLimiter(window=0.06)),
            clock=clock,
            workers=InlineExecutor(),
        )
        self.app = build_app(self.deps, client=client, listener_executor=InlineExecutor())
        # The production sweep pipeline, each step run as it is submitted: a sweep returns
        # with everything sent and recorded, in due order.
        self.senders = Senders.inline(self.deps)
        # The production server (crisisbot.http), as `crisisbot run` serves it.
        self.server = make_server(
            self.app,
            host="127.0.0.1",
            port=0,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            ready=schema_readiness(session_factory.kw["bind"]),
        )
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._event_seq = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> Answer:
        request = urllib.request.Request(self.url, data=body.encode(), method="POST")
        request.add_header("Content-Type", content_type)
        for key, value in (headers if headers is not None else sign(body)).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Answer(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode())

    def command(self, text: str, *, user: str = "U0ANA", channel: str = "C0GENERAL") -> Answer:
        """``/crisis <text>`` typed by ``user`` in ``channel``."""
        form = slash_command_form(self.emulator, user_id=user, channel_id=channel, text=text)
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def interact(self, payload: dict[str, Any]) -> Answer:
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U0ANA",
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> Answer:
        """A ``block_actions`` payload for a button."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": "T0CRISIS", "domain": "acme-success"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0CRISIS"},
            "api_app_id": "A0CRISIS",
            "trigger_id": self.emulator.issue_trigger(user),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "action_ts": str(time.time()),
                }
            ],
        }
        if channel:
            payload["channel"] = {"id": channel}
            payload["container"] = {
                "type": "message",
                "channel_id": channel,
                "message_ts": message_ts or "",
            }
            payload["response_url"] = self.emulator.new_response_url(channel, user, message_ts)
        return self.interact(payload)

    def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = "U0ANA"
    ) -> Answer:
        """A ``view_submission`` of ``view`` with ``values`` as {block_id: element state}."""
        state = {block: {"value": element} for block, element in values.items()}
        payload = {
            "type": "view_submission",
            "team": {"id": "T0CRISIS"},
            "user": {"id": user, "team_id": "T0CRISIS"},
            "api_app_id": "A0CRISIS",
            "view": {"id": f"V0TEST{id(values)}", **view, "state": {"values": state}},
        }
        return self.interact(payload)

    def suggest(
        self,
        view_id: str,
        value: str,
        *,
        block_id: str = "customer",
        action_id: str = "customer_search",
        user: str = "U0ANA",
    ) -> Answer:
        """A ``block_suggestion``: ``user`` has typed ``value`` in an external_select of the
        modal ``view_id`` (as the emulator holds it), and Slack asks for the options."""
        payload = block_suggestion(
            self.emulator, user, view_id, block_id=block_id, action_id=action_id, value=value
        )
        return self.interact(payload)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> Answer:
        """An Events API ``event_callback`` envelope."""
        self._event_seq += 1
        body = json.dumps(event_envelope(event, event_id=event_id or f"Ev{self._event_seq:08d}"))
        headers = sign(body)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(body, "application/json", headers)

    def react(self, name: str, *, user: str, channel: str, ts: str) -> Answer:
        """A person adds a reaction in Slack, and Slack tells the bot."""
        self.emulator.add_reaction(user, channel, ts, name)
        return self.event(reaction_added(name, user=user, channel=channel, ts=ts))

    def sweep(self) -> list[Any]:
        return sweep_due(self.deps, self.senders)
