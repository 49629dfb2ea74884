"""Inbound Slack traffic: what Slack sends to the app's request URL, signed and timed like Slack,
or, for an app in Socket Mode, as envelopes over its WebSocket (see sandbox.socket_mode).

Slash commands and interactivity payloads are form posts; events are JSON envelopes. The app
must answer 2xx (or acknowledge the envelope) within 3 seconds: a late or failed command shows
the user an error, and a late or failed event is retried with ``X-Slack-Retry-Num`` /
``X-Slack-Retry-Reason`` (``retry_attempt`` / ``retry_reason`` in Socket Mode). Whatever the
transport, the answer (HTTP body or acknowledgement payload) is used the same way.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from sandbox.emulator import Emulator
from sandbox.forms import form_state, json_answer
from sandbox.manifest import DEFAULT_BOT_EVENTS
from sandbox.payloads import (
    APP_ID,
    block_suggestion,
    channel_name,
    event_envelope,
    interaction,
    slash_command_form,
)
from sandbox.signing import sign
from sandbox.socket_mode import ACCEPTS_RESPONSE_PAYLOAD, SocketMode
from sandbox.workspace import JSON, Event

logger = logging.getLogger(__name__)

ACK_TIMEOUT = 3.0
# An external_select asks for options once this many characters are typed, unless it says.
MIN_QUERY_LENGTH = 3
MAX_OPTIONS = 100
# Slack retries a failed event three times: at once, after about a minute, after about five.
RETRY_DELAYS = (0.0, 60.0, 300.0)
SLACKBOT = "USLACKBOT"
# message.<kind> subscriptions, keyed by the channel_type of the message event.
MESSAGE_SUBSCRIPTIONS = {
    "channel": "message.channels",
    "group": "message.groups",
    "im": "message.im",
    "mpim": "message.mpim",
}


@dataclass(frozen=True)
class Attempt:
    """One HTTP request to the app and how it went."""

    kind: str
    body: str
    headers: dict[str, str]
    status: int | None
    answer: str
    error: str | None
    elapsed: float
    # Socket Mode: the envelope's id (HTTP requests have none).
    envelope_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the app answered 2xx within the ack deadline."""
        return self.error is None


@dataclass
class Outcome:
    """What the user sees after a command, a click or a submission."""

    ok: bool
    error: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


class Inbound:
    """Sends Slack's requests to the app at `request_url`, signed with `signing_secret`; or,
    with `socket_mode`, as envelopes to the app's Socket Mode connection."""

    def __init__(
        self,
        emulator: Emulator,
        request_url: str,
        signing_secret: str,
        *,
        ack_timeout: float = ACK_TIMEOUT,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        bot_events: Iterable[str] = DEFAULT_BOT_EVENTS,
        app_id: str = APP_ID,
        socket_mode: SocketMode | None = None,
    ) -> None:
        self.emulator = emulator
        # Slack sends an app in Socket Mode nothing over HTTP, whatever its Request URLs say.
        self.socket_mode = socket_mode
        self.request_url = request_url
        self.signing_secret = signing_secret
        self.ack_timeout = ack_timeout
        self.retry_delays = tuple(retry_delays)
        self.bot_events = frozenset(bot_events)
        self.app_id = app_id
        self._event_ids = itertools.count(1)
        self._attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._unsubscribe: Callable[[], None] | None = None
        # The options the app last offered per (view, block, action): a pick is one of them.
        self._offered: dict[tuple[str, str, str], dict[str, JSON]] = {}

    # --- lifecycle -----------------------------------------------------------

    def attach(self) -> Inbound:
        """Turn people's reactions and messages in the workspace into events for the app."""
        if self._unsubscribe is None:
            self._unsubscribe = self.emulator.workspace.subscribe(self._on_workspace_event)
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, abandon pending retries and wait for deliveries in flight."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stopping.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def attempts(self) -> list[Attempt]:
        """Every request sent to the app so far, oldest first (a copy)."""
        with self._lock:
            return list(self._attempts)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no event delivery is in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._threads:
                    return True
            time.sleep(0.01)
        return False

    # --- slash commands ------------------------------------------------------

    def command(
        self, user_id: str, channel_id: str, text: str, command: str = "/crisis"
    ) -> Outcome:
        """`command text` typed by the user in the channel; the ack is shown like Slack does."""
        form = slash_command_form(
            self.emulator,
            user_id=user_id,
            channel_id=channel_id,
            text=text,
            command=command,
            app_id=self.app_id,
        )
        attempt = self._send(
            "command", urlencode(form), "application/x-www-form-urlencoded", payload=form
        )
        if attempt.error is not None:
            # Slack's own wording, shown only to the user who ran the command.
            notice = f'{command} failed with the error "{attempt.error}"'
            self.emulator.show_ephemeral(user_id, channel_id, notice, sender=SLACKBOT)
            return Outcome(False, attempt.error)
        self._show_ack(user_id, channel_id, attempt.answer)
        return Outcome(True)

    def _show_ack(self, user_id: str, channel_id: str, answer: str) -> None:
        if not answer.strip():
            return
        body = json_answer(answer) or {"text": answer}
        text, blocks = str(body.get("text") or ""), body.get("blocks")
        if not text and not blocks:
            return
        if body.get("response_type") == "in_channel":
            minted = self.emulator.responses.mint(channel_id, user_id)
            self.emulator.handle_response_url(minted.id, body)
        else:
            self.emulator.show_ephemeral(user_id, channel_id, text, blocks=blocks)

    # --- interactivity -------------------------------------------------------

    def block_action(
        self,
        user_id: str,
        action: JSON,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
    ) -> Outcome:
        """A click on an interactive element of a message (or ephemeral) or of a modal."""
        ws = self.emulator.workspace
        now = f"{ws.now():.6f}"
        with ws.lock:
            payload = interaction(self.emulator, "block_actions", user_id, app_id=self.app_id)
            payload["actions"] = [{**action, "action_ts": now}]
            if view_id is not None:
                view = ws.views[view_id]
                payload["container"] = {"type": "view", "view_id": view_id}
                payload["view"] = view.to_api()
            elif channel_id is not None:
                channel = ws.channels[channel_id]
                message = ws.find_message(channel_id, message_ts or "")
                payload["container"] = {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": channel_id,
                    "is_ephemeral": message is None,
                }
                payload["channel"] = {"id": channel_id, "name": channel_name(channel)}
                if message is not None:
                    payload["message"] = ws.message_to_api(message)
                payload["response_url"] = self.emulator.new_response_url(
                    channel_id, user_id, message_ts
                )
            payload["state"] = {"values": {}}
        attempt = self._send_payload(payload)
        return Outcome(attempt.ok, attempt.error)

    def block_suggestion(
        self, user_id: str, view_id: str, *, block_id: str, action_id: str, value: str
    ) -> tuple[Outcome, list[JSON]]:
        """Someone types in a modal's ``external_select`` (or ``multi_external_select``): from
        ``min_query_length``
        characters on (3 unless it says), Slack asks the app for options and shows the ones
        it answered within 3 seconds; an answer Slack would reject shows none."""
        ws = self.emulator.workspace
        with ws.lock:
            stored = ws.views.get(view_id)
            element = _element(stored.view if stored else {}, block_id, action_id)
            kind = element.get("type") if element is not None else None
            if element is None or kind not in ("external_select", "multi_external_select"):
                return Outcome(False, "no_such_element"), []
            if len(value) < int(element.get("min_query_length", MIN_QUERY_LENGTH)):
                return Outcome(True), []
            payload = block_suggestion(
                self.emulator,
                user_id,
                view_id,
                block_id=block_id,
                action_id=action_id,
                value=value,
                app_id=self.app_id,
            )
        attempt = self._send_payload(payload)
        if attempt.error is not None:
            return Outcome(False, attempt.error), []
        options = _options(json_answer(attempt.answer))
        if options is None:
            return Outcome(False, "invalid_options"), []
        with self._lock:
            answered = {o["value"]: o for o in options}
            if kind == "multi_external_select":
                # Picks add up across searches: what was picked from an earlier answer stays.
                answered = {**self._offered.get((view_id, block_id, action_id), {}), **answered}
            self._offered[(view_id, block_id, action_id)] = answered
        return Outcome(True), options

    def view_submission(self, user_id: str, view_id: str, values: JSON) -> Outcome:
        """Submit the user's modal; `values` maps block_id -> action_id -> typed value(s)
        (for an ``external_select``, the value of an option the app offered)."""
        ws = self.emulator.workspace
        with self._lock:
            offered = {
                (block, action): options
                for (view, block, action), options in self._offered.items()
                if view == view_id
            }
        with ws.lock:
            stored = ws.views[view_id]
            view = stored.to_api()
            blocks = view.get("blocks") or []
            view["state"] = {"values": form_state(blocks, values, ws.users, offered=offered)}
            payload = interaction(self.emulator, "view_submission", user_id, app_id=self.app_id)
            payload["view"] = view
            payload["response_urls"] = []
        attempt = self._send_payload(payload)
        if attempt.error is not None:
            return Outcome(False, attempt.error)
        answer = json_answer(attempt.answer)
        action = answer.get("response_action")
        if action == "errors":
            return Outcome(False, None, dict(answer.get("errors") or {}))
        if action == "update" and isinstance(answer.get("view"), dict):
            self.emulator.replace_view(user_id, view_id, answer["view"])
        elif action == "clear":
            self.emulator.close_views(user_id)
        elif action != "push":
            # An empty ack closes the submitted modal (and any pushed above it).
            self.emulator.close_views(user_id, view_id)
        return Outcome(True)

    def view_closed(self, user_id: str, view_id: str) -> Outcome:
        """The user dismissed a modal; the app hears of it only if it asked (notify_on_close)."""
        ws = self.emulator.workspace
        with ws.lock:
            stored = ws.views.get(view_id)
            notify = bool(stored and stored.view.get("notify_on_close"))
            view = stored.to_api() if stored else {}
        self.emulator.close_views(user_id, view_id)
        if not notify:
            return Outcome(True)
        payload = interaction(self.emulator, "view_closed", user_id, app_id=self.app_id)
        payload.update(view=view, is_cleared=False)
        attempt = self._send_payload(payload)
        return Outcome(attempt.ok, attempt.error)

    def _send_payload(self, payload: JSON) -> Attempt:
        body = urlencode({"payload": json.dumps(payload)})
        return self._send(
            str(payload["type"]), body, "application/x-www-form-urlencoded", payload=payload
        )

    # --- events --------------------------------------------------------------

    def app_home_opened(self, user_id: str, tab: str = "home") -> None:
        """The user opened the app's Home or Messages tab."""
        if "app_home_opened" not in self.bot_events:
            return
        ws = self.emulator.workspace
        channel, _ = ws.open_im(user_id)
        event: JSON = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel.id,
            "tab": tab,
            "event_ts": ws.next_ts(),
        }
        home = self.emulator.home_view(user_id)
        if home is not None and tab == "home":
            event["view"] = home.to_api()
        self.event(event)

    def event(self, event: JSON) -> None:
        """Deliver an event envelope on a background thread, retrying as Slack does."""
        envelope = event_envelope(
            self.emulator,
            event,
            event_id=f"Ev0SANDBOX{next(self._event_ids):06d}",
            app_id=self.app_id,
        )
        thread = threading.Thread(
            target=self._deliver, args=(envelope,), name="slack-event", daemon=True
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _deliver(self, envelope: JSON) -> None:
        body = json.dumps(envelope)
        try:
            attempt = self._send("event", body, "application/json", payload=envelope)
            for number, delay in enumerate(self.retry_delays, start=1):
                if attempt.ok or self._stopping.wait(delay):
                    return
                reason = "http_timeout" if attempt.error == "operation_timeout" else "http_error"
                if attempt.status is None and attempt.error != "operation_timeout":
                    reason = "connection_failed"
                retry = {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": reason}
                attempt = self._send("event", body, "application/json", retry, payload=envelope)
            if not attempt.ok:
                logger.warning("sandbox: gave up delivering an event: %s", attempt.error)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _on_workspace_event(self, event: Event) -> None:
        """Forward what a person did, if the app subscribes to it and can see it."""
        ws = self.emulator.workspace
        kind = event.get("type")
        if event.get("user") in (None, ws.bot_user_id) or event.get("bot_id"):
            return
        if kind == "reaction_added":
            channel_id = str((event.get("item") or {}).get("channel", ""))
            subscribed = "reaction_added" in self.bot_events
        elif kind == "message" and not event.get("subtype"):
            channel_id = str(event.get("channel", ""))
            wanted = MESSAGE_SUBSCRIPTIONS.get(str(event.get("channel_type")), "")
            subscribed = wanted in self.bot_events
            event = {**event, "event_ts": event.get("ts")}
        else:
            return
        with ws.lock:
            channel = ws.channels.get(channel_id)
            visible = channel is not None and ws.bot_user_id in channel.members
        if subscribed and visible:
            self.event(event)

    # --- transports ----------------------------------------------------------

    def _send(
        self,
        kind: str,
        body: str,
        content_type: str,
        extra: dict[str, str] | None = None,
        *,
        payload: JSON,
    ) -> Attempt:
        """One delivery: `body` over HTTP, or `payload` in an envelope in Socket Mode."""
        if self.socket_mode is not None:
            attempt = self._send_envelope(kind, body, payload, extra or {})
        else:
            attempt = self._post(kind, body, content_type, extra)
        with self._lock:
            self._attempts.append(attempt)
        return attempt

    def _send_envelope(self, kind: str, body: str, payload: JSON, extra: dict[str, str]) -> Attempt:
        assert self.socket_mode is not None
        envelope_type = {"command": "slash_commands", "event": "events_api"}.get(
            kind, "interactive"
        )
        ack = self.socket_mode.deliver(
            envelope_type,
            payload,
            timeout=self.ack_timeout,
            accepts_response_payload=(
                envelope_type in ACCEPTS_RESPONSE_PAYLOAD or kind in ACCEPTS_RESPONSE_PAYLOAD
            ),
            retry_attempt=int(extra.get("X-Slack-Retry-Num", 0)),
            retry_reason=extra.get("X-Slack-Retry-Reason", ""),
        )
        if ack.error == "dispatch_failed":
            logger.warning("sandbox: the app has no Socket Mode connection")
        # The acknowledgement's payload stands for the HTTP answer's body.
        answer = json.dumps(ack.payload) if ack.payload else ""
        return Attempt(kind, body, {}, None, answer, ack.error, ack.elapsed, ack.envelope_id)

    def _post(
        self, kind: str, body: str, content_type: str, extra: dict[str, str] | None = None
    ) -> Attempt:
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **sign(body, self.signing_secret),
            **(extra or {}),
        }
        parts = urlsplit(self.request_url)
        started = time.monotonic()
        status: int | None = None
        answer, error = "", None
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=self.ack_timeout
        )
        try:
            connection.request("POST", parts.path or "/", body=body.encode(), headers=headers)
            response = connection.getresponse()
            status, answer = response.status, response.read().decode("utf-8", "replace")
        except TimeoutError:
            error = "operation_timeout"
        except OSError as exc:
            error = "dispatch_failed"
            logger.warning("sandbox: cannot reach the app at %s: %s", self.request_url, exc)
        finally:
            connection.close()
        elapsed = time.monotonic() - started
        if error is None and elapsed > self.ack_timeout:
            error = "operation_timeout"
        elif error is None and status is not None and not 200 <= status < 300:
            error = "dispatch_failed"
        return Attempt(kind, body, headers, status, answer, error, elapsed)


def _element(view: JSON, block_id: str, action_id: str) -> JSON | None:
    """The input element ``action_id`` of the block ``block_id`` of a view."""
    for block in view.get("blocks") or []:
        element = block.get("element")
        if (
            block.get("block_id") == block_id
            and isinstance(element, dict)
            and element.get("action_id") == action_id
        ):
            return element
    return None


def _options(answer: JSON) -> list[JSON] | None:
    """The options an app answered (``options``, or ``option_groups`` flattened); None for
    an answer Slack rejects: more than 100, or an option without plain text of at most 75
    characters and a value of at most 150."""
    options = answer.get("options")
    if options is None and isinstance(answer.get("option_groups"), list):
        options = [o for g in answer["option_groups"] for o in (g.get("options") or [])]
    if not isinstance(options, list) or len(options) > MAX_OPTIONS:
        return None
    for option in options:
        text = option.get("text") if isinstance(option, dict) else None
        value = option.get("value") if isinstance(option, dict) else None
        if not (
            isinstance(text, dict)
            and text.get("type") == "plain_text"
            and 0 < len(str(text.get("text") or "")) <= 75
            and isinstance(value, str)
            and 0 < len(value) <= 150
        ):
            return None
    return options
