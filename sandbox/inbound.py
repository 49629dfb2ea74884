"""Inbound Slack traffic: what Slack sends to the app's request URL, signed and timed like Slack.

Slash commands and interactivity payloads are form posts; events are JSON envelopes. The app
must answer 2xx within 3 seconds: a late or failed command shows the user an error, and a
late or failed event is retried with ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sandbox.emulator import Emulator
from sandbox.workspace import JSON, Channel, Event, User

logger = logging.getLogger(__name__)

ACK_TIMEOUT = 3.0
# Slack retries a failed event three times: at once, after about a minute, after about five.
RETRY_DELAYS = (0.0, 60.0, 300.0)
DEFAULT_BOT_EVENTS = frozenset({"reaction_added", "app_home_opened"})
APP_ID = "A0SANDBOX"
VERIFICATION_TOKEN = "sandbox-verification-token"
SLACKBOT = "USLACKBOT"
# message.<kind> subscriptions, keyed by the channel_type of the message event.
MESSAGE_SUBSCRIPTIONS = {
    "channel": "message.channels",
    "group": "message.groups",
    "im": "message.im",
    "mpim": "message.mpim",
}


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for `body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{stamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def slash_command_form(
    emulator: Emulator,
    *,
    user_id: str,
    channel_id: str,
    text: str,
    command: str = "/crisis",
    app_id: str = "A0CRISIS",
) -> dict[str, str]:
    """The form Slack posts for a slash command, with a live response_url and trigger_id."""
    ws = emulator.workspace
    with ws.lock:
        user, channel = ws.users[user_id], ws.channels[channel_id]
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": user.team_id,
            "team_domain": ws.teams[user.team_id].domain,
            "channel_id": channel.id,
            "channel_name": _channel_name(channel),
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": app_id,
            "is_enterprise_install": "false",
            "response_url": emulator.new_response_url(channel.id, user.id),
            "trigger_id": emulator.issue_trigger(user.id),
        }


@dataclass(frozen=True)
class AppManifest:
    """The parts of the app's manifest that decide what Slack sends it."""

    bot_events: frozenset[str] = DEFAULT_BOT_EVENTS
    # Slash command -> should_escape (Slack then turns @name into <@U…|name> in the text).
    commands: dict[str, bool] = field(default_factory=lambda: {"/crisis": True})
    home_tab: bool = True
    messages_tab_read_only: bool = False


def load_manifest(path: Path | None) -> AppManifest:
    """Read manifest.yml; the defaults (reaction_added, app_home_opened, /crisis) without one."""
    if path is None or not path.is_file():
        return AppManifest()
    try:
        import yaml  # A dev dependency; without it we fall back to the defaults.
    except ImportError:
        logger.warning("sandbox: PyYAML missing, cannot read %s; using defaults", path)
        return AppManifest()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    settings, features = data.get("settings") or {}, data.get("features") or {}
    events = (settings.get("event_subscriptions") or {}).get("bot_events") or []
    commands = {
        str(c["command"]): bool(c.get("should_escape", False))
        for c in features.get("slash_commands") or []
        if isinstance(c, dict) and c.get("command")
    }
    home = features.get("app_home") or {}
    return AppManifest(
        bot_events=frozenset(str(e) for e in events),
        commands=commands,
        home_tab=bool(home.get("home_tab_enabled", False)),
        messages_tab_read_only=bool(home.get("messages_tab_read_only_enabled", False)),
    )


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
    """Sends Slack's requests to the app at `request_url`, signed with `signing_secret`."""

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
    ) -> None:
        self.emulator = emulator
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
        attempt = self._send("command", urlencode(form), "application/x-www-form-urlencoded")
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
        body = _json_answer(answer) or {"text": answer}
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
            payload = self._interaction("block_actions", user_id)
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
                payload["channel"] = {"id": channel_id, "name": _channel_name(channel)}
                if message is not None:
                    payload["message"] = ws.message_to_api(message)
                payload["response_url"] = self.emulator.new_response_url(
                    channel_id, user_id, message_ts
                )
            payload["state"] = {"values": {}}
        attempt = self._send_payload(payload)
        return Outcome(attempt.ok, attempt.error)

    def view_submission(self, user_id: str, view_id: str, values: JSON) -> Outcome:
        """Submit the user's modal; `values` maps block_id -> action_id -> typed value(s)."""
        ws = self.emulator.workspace
        with ws.lock:
            stored = ws.views[view_id]
            view = stored.to_api()
            view["state"] = {"values": form_state(view.get("blocks") or [], values, ws.users)}
            payload = self._interaction("view_submission", user_id)
            payload["view"] = view
            payload["response_urls"] = []
        attempt = self._send_payload(payload)
        if attempt.error is not None:
            return Outcome(False, attempt.error)
        answer = _json_answer(attempt.answer)
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
        payload = self._interaction("view_closed", user_id)
        payload.update(view=view, is_cleared=False)
        attempt = self._send_payload(payload)
        return Outcome(attempt.ok, attempt.error)

    def _interaction(self, kind: str, user_id: str) -> JSON:
        ws = self.emulator.workspace
        user = ws.users[user_id]
        return {
            "type": kind,
            "team": {"id": ws.team.id, "domain": ws.team.domain},
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": user.team_id,
            },
            "api_app_id": self.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.emulator.issue_trigger(user_id),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def _send_payload(self, payload: JSON) -> Attempt:
        body = urlencode({"payload": json.dumps(payload)})
        return self._send(str(payload["type"]), body, "application/x-www-form-urlencoded")

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
        ws = self.emulator.workspace
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": ws.team.id,
            "context_team_id": ws.team.id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev0SANDBOX{next(self._event_ids):06d}",
            "event_time": int(ws.now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": ws.team.id,
                    "user_id": ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        thread = threading.Thread(
            target=self._deliver, args=(json.dumps(envelope),), name="slack-event", daemon=True
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _deliver(self, body: str) -> None:
        try:
            attempt = self._send("event", body, "application/json")
            for number, delay in enumerate(self.retry_delays, start=1):
                if attempt.ok or self._stopping.wait(delay):
                    return
                reason = "http_timeout" if attempt.error == "operation_timeout" else "http_error"
                if attempt.status is None and attempt.error != "operation_timeout":
                    reason = "connection_failed"
                retry = {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": reason}
                attempt = self._send("event", body, "application/json", retry)
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

    # --- HTTP ----------------------------------------------------------------

    def _send(
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
        attempt = Attempt(kind, body, headers, status, answer, error, elapsed)
        with self._lock:
            self._attempts.append(attempt)
        return attempt


def _channel_name(channel: Channel) -> str:
    if channel.is_im:
        return "directmessage"
    if channel.is_private and not channel.is_mpim:
        return "privategroup"
    return channel.name


def form_state(blocks: list[JSON], values: JSON, users: dict[str, User]) -> JSON:
    """Build `view.state.values` as Slack does from what the user typed or picked."""
    state: JSON = {}
    for block in blocks:
        element = block.get("element") if block.get("type") == "input" else None
        if not isinstance(element, dict):
            continue
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        raw = (values.get(block_id) or {}).get(action_id)
        state[block_id] = {action_id: element_state(element, raw, users)}
    return state


def element_state(element: JSON, raw: Any, users: dict[str, User]) -> JSON:
    """One input element's state: the shape depends on the element type."""
    kind = str(element.get("type"))
    out: JSON = {"type": kind}
    if raw is None:
        # Untouched: the element still holds its initial value, as in Slack's client.
        raw = _initial(element)
    if kind in ("static_select", "radio_buttons"):
        option = find_option(element, raw)
        out["selected_option"] = option
    elif kind in ("multi_static_select", "checkboxes"):
        chosen = raw if isinstance(raw, list) else []
        out["selected_options"] = [o for v in chosen if (o := find_option(element, v))]
    elif kind == "users_select":
        out["selected_user"] = raw if raw in users else None
    elif kind == "multi_users_select":
        chosen = raw if isinstance(raw, list) else []
        out["selected_users"] = [u for u in chosen if u in users]
    elif kind in ("channels_select", "conversations_select"):
        key = "selected_channel" if kind == "channels_select" else "selected_conversation"
        out[key] = raw or None
    elif kind == "datepicker":
        out["selected_date"] = raw or None
    elif kind == "timepicker":
        out["selected_time"] = raw or None
    else:
        # Text-like inputs: Slack sends null, not "", for an empty optional field.
        out["value"] = raw if isinstance(raw, str) and raw != "" else None
    return out


def _initial(element: JSON) -> Any:
    for key in ("initial_value", "initial_user", "initial_users", "initial_date", "initial_time"):
        if key in element:
            return element[key]
    if isinstance(element.get("initial_option"), dict):
        return element["initial_option"].get("value")
    if isinstance(element.get("initial_options"), list):
        return [o.get("value") for o in element["initial_options"]]
    return None


def _json_answer(answer: str) -> JSON:
    """An app's ack body as JSON when it is a JSON object; {} when it is text or empty."""
    if answer.lstrip().startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            data = json.loads(answer)
            if isinstance(data, dict):
                return data
    return {}


def find_option(element: JSON, value: Any) -> JSON | None:
    """The option of a select (groups included) whose value is ``value``, as a copy."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return dict(option)
    return None


__all__ = [
    "ACK_TIMEOUT",
    "DEFAULT_BOT_EVENTS",
    "RETRY_DELAYS",
    "AppManifest",
    "Attempt",
    "Inbound",
    "Outcome",
    "form_state",
    "load_manifest",
    "sign",
]
