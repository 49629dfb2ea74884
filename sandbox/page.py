"""The Slack look-alike page: static files, a small JSON API and Server-Sent Events."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sandbox.api_conversations import ts_key
from sandbox.apicommon import SlackApiError
from sandbox.emulator import Emulator
from sandbox.forms import find_option
from sandbox.inbound import SLACKBOT, Inbound, Outcome
from sandbox.manifest import AppManifest
from sandbox.server import PageReply
from sandbox.workspace import JSON, Channel, Event, Message, User

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# Browsers drop an idle EventSource after a while; a comment line keeps it open.
KEEPALIVE = 15.0
# Channels the bot creates for crises; the sidebar lists them in their own section.
CRISIS_PREFIX = "crisis-"
_MENTION = re.compile(r"(?<![\w<])([@#])([a-z0-9][a-z0-9._-]*)")


class BadRequest(Exception):
    """The page sent something we cannot act on; answered with 400 and the reason."""


class _Fields(dict[str, Any]):
    """A request's JSON fields; a missing one is a 400 that names it."""

    def __missing__(self, key: str) -> Any:
        raise BadRequest(f"missing field {key!r}")


class PageApp:
    """Serves the page and turns what people do in it into Slack traffic for the app."""

    def __init__(
        self, emulator: Emulator, inbound: Inbound, manifest: AppManifest | None = None
    ) -> None:
        self.emulator = emulator
        self.inbound = inbound
        self.manifest = manifest or AppManifest()
        self.ws = emulator.workspace
        self._seq = 0
        self._changed = threading.Condition()
        self._closed = False
        self._unsubscribe = self.ws.subscribe(self._on_event)
        self._routes: dict[str, Callable[[JSON], JSON]] = {
            "/sandbox/command": self._command,
            "/sandbox/post": self._post,
            "/sandbox/react": self._react,
            "/sandbox/action": self._action,
            "/sandbox/submit": self._submit,
            "/sandbox/options": self._options,
            "/sandbox/close": self._close_view,
            "/sandbox/home": self._home,
        }

    def close(self) -> None:
        """Stop feeding live updates so event streams end."""
        self._unsubscribe()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _on_event(self, event: Event) -> None:
        with self._changed:
            self._seq += 1
            self._changed.notify_all()

    # --- routing -------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: bytes) -> PageReply | None:
        """Answer one request for the page, or None (404)."""
        if method == "GET":
            if path in ("/", "/index.html"):
                return self._static("index.html")
            if path.startswith("/static/"):
                return self._static(path[len("/static/") :])
            if path == "/sandbox/state":
                args = {k: v[-1] for k, v in parse_qs(query).items()}
                return _json(200, self.state(args.get("user", ""), args.get("channel")))
            if path == "/sandbox/events":
                return PageReply(200, content_type="text/event-stream", stream=self._stream)
            return None
        route = self._routes.get(path)
        if method != "POST" or route is None:
            return None
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise BadRequest("expected a JSON object")
            return _json(200, route(_Fields(data)))
        except (BadRequest, json.JSONDecodeError) as exc:
            return _json(400, {"ok": False, "error": str(exc)})
        except KeyError as exc:  # an id the workspace does not have
            return _json(400, {"ok": False, "error": f"unknown {exc}"})
        except SlackApiError as exc:
            return _json(200, {"ok": False, "error": exc.error})

    def _static(self, name: str) -> PageReply | None:
        # Only files that exist directly in static/ are served, so no path can escape it.
        known = {p.name: p for p in STATIC.iterdir() if p.is_file()}
        path = known.get(name)
        if path is None:
            return None
        ctype = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return PageReply(200, path.read_bytes(), ctype)

    def _stream(self, write: Callable[[bytes], bool]) -> None:
        with self._changed:
            seen = self._seq
        if not write(f"retry: 1000\nevent: change\ndata: {seen}\n\n".encode()):
            return
        while True:
            with self._changed:
                self._changed.wait_for(partial(self._moved_on, seen), KEEPALIVE)
                if self._closed:
                    return
                changed, seen = self._seq != seen, self._seq
            data = f"event: change\ndata: {seen}\n\n" if changed else ": keep-alive\n\n"
            if not write(data.encode()):
                return

    def _moved_on(self, seen: int) -> bool:
        return self._closed or self._seq != seen

    # --- state ---------------------------------------------------------------

    def state(self, user_id: str, channel_id: str | None) -> JSON:
        """Everything the page shows to `user_id`, with `channel_id` open."""
        ws = self.ws
        with ws.lock:
            me = ws.users.get(user_id)
            if me is None or me.is_bot:
                me = next(u for u in ws.users.values() if not u.is_bot)
            channels = sorted(
                (c for c in ws.channels.values() if me.id in c.members and not c.is_im),
                key=lambda c: c.name,
            )
            im = ws.channels.get(ws.ims.get(me.id, ""))
            current = ws.channels.get(channel_id or "")
            if current is None or me.id not in current.members:
                # First visit: #cs-crises where crises are announced, else the first channel.
                preferred = [c for c in channels if c.id == "C0CRISES"] + channels
                current = preferred[0] if preferred else im
            with self._changed:
                seq = self._seq
            top = ws.view_stacks.get(me.id) or []
            home = ws.views.get(ws.home_views.get(me.id, ""))
            return {
                "seq": seq,
                "team": {"id": ws.team.id, "name": ws.team.name, "domain": ws.team.domain},
                "me": me.id,
                "bot": ws.bot_user_id,
                "users": [self._user(u) for u in ws.users.values()],
                # User groups, so `<!subteam^S…>` reads as @handle.
                "usergroups": [
                    {"id": gid, "handle": handle} for gid, (handle, _) in ws.usergroups.items()
                ],
                "channels": [self._channel_summary(c) for c in channels],
                # The channels `<#C…>` can name for this person, as Slack resolves them: the
                # ones they are in, and every public one of their own organization.
                "directory": [
                    {"id": c.id, "name": c.name, "is_private": c.is_private}
                    for c in ws.channels.values()
                    if not c.is_im
                    and (me.id in c.members or (not c.is_private and me.team_id == ws.team.id))
                ],
                "dm": im.id if im else None,
                # What the bot sent to this person's DM, newest last, for the unread marker.
                "dm_news": self._news(im, me) if im else [],
                "channel": self._channel(current, me) if current else None,
                "modal": ws.views[top[-1]].to_api() if top else None,
                "home": home.to_api() if home else None,
                "app": {
                    "commands": sorted(self.manifest.commands),
                    "home_tab": self.manifest.home_tab,
                    "messages_read_only": self.manifest.messages_tab_read_only,
                },
            }

    def _user(self, user: User) -> JSON:
        team = self.ws.teams.get(user.team_id)
        return {
            "id": user.id,
            "name": user.name,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": user.tz_label,
            "is_bot": user.is_bot,
            "external": user.team_id != self.ws.team.id,
            "guest": user.is_restricted or user.is_ultra_restricted,
            "team_name": team.name if team else user.team_id,
        }

    def _channel_summary(self, ch: Channel) -> JSON:
        return {
            "id": ch.id,
            "name": ch.name,
            "is_private": ch.is_private,
            "is_shared": ch.is_ext_shared,
            "is_archived": ch.is_archived,
            "is_crisis": ch.name.startswith(CRISIS_PREFIX),
            "created": ch.created,
            "latest": next(reversed(self.ws.messages.get(ch.id, {})), None),
        }

    def _news(self, im: Channel, me: User, keep: int = 20) -> list[str]:
        """The last `keep` timestamps of messages others posted in a DM (no system notices)."""
        news = [
            m.ts
            for m in self.ws.messages.get(im.id, {}).values()
            if m.user != me.id and not m.subtype
        ]
        return news[-keep:]

    def _channel(self, ch: Channel, me: User) -> JSON:
        ws = self.ws
        messages = list(ws.messages.get(ch.id, {}).values())
        ephemerals = [e for e in ws.ephemerals if e.user == me.id and e.channel == ch.id]
        shown: list[JSON] = [self._message(m) for m in messages if m.subtype != "tombstone"]
        for eph in ephemerals:
            shown.append(
                {
                    "type": "message",
                    "user": eph.sender,
                    "text": eph.text,
                    "blocks": eph.blocks,
                    "ts": eph.ts,
                    "thread_ts": eph.thread_ts,
                    "ephemeral": True,
                    "bot_id": eph.bot_id,
                }
            )
        shown.sort(key=lambda m: ts_key(str(m["ts"]), "invalid_ts"))
        pins = ws.pins.get(ch.id, {})
        return {
            **self._channel_summary(ch),
            "is_im": ch.is_im,
            "im_user": ch.im_user,
            "topic": ch.topic.value,
            "purpose": ch.purpose.value,
            "members": sorted(ch.members),
            "messages": shown,
            "pins": [self._message(ws.messages[ch.id][ts]) for ts in pins],
        }

    def _message(self, msg: Message) -> JSON:
        return {**self.ws.message_to_api(msg), "channel": msg.channel}

    # --- actions -------------------------------------------------------------

    def _member_channel(self, data: JSON) -> tuple[str, str]:
        user_id, channel_id = str(data["user"]), str(data["channel"])
        with self.ws.lock:
            ch = self.ws.channels.get(channel_id)
            if user_id not in self.ws.users or ch is None or user_id not in ch.members:
                raise BadRequest("not a member of that channel")
        return user_id, channel_id

    def _command(self, data: JSON) -> JSON:
        user_id, channel_id = self._member_channel(data)
        line = str(data.get("text", "")).strip()
        command, _, text = line.partition(" ")
        if command not in self.manifest.commands:
            notice = (
                f"`{command}` is not a valid command. In Slack, all messages that start with "
                'the "/" character are interpreted as commands.'
            )
            self.emulator.show_ephemeral(user_id, channel_id, notice, sender=SLACKBOT)
            return _outcome(Outcome(False, "unknown_command"))
        should_escape = self.manifest.commands[command]
        escaped = self.slack_text(text.strip(), links=should_escape, labels=True)
        return _outcome(self.inbound.command(user_id, channel_id, escaped, command))

    def _post(self, data: JSON) -> JSON:
        user_id, channel_id = self._member_channel(data)
        text = str(data.get("text", "")).strip()
        if not text:
            raise BadRequest("empty message")
        thread_ts = data.get("thread_ts") or None
        msg = self.emulator.post_as_user(
            user_id, channel_id, self.slack_text(text, links=True), thread_ts=thread_ts
        )
        return {"ok": True, "ts": msg.ts}

    def slack_text(self, text: str, *, links: bool, labels: bool = False) -> str:
        """Typed text as Slack sends it: `&<>` escaped; with `links`, @name and #channel linked.

        Commands link (as `<@U…|name>`) only when the manifest says should_escape.
        """
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if not links:
            return escaped
        ws = self.ws

        def link(match: re.Match[str]) -> str:
            sigil, name = match.group(1), match.group(2)
            with ws.lock:
                if sigil == "@":
                    user = next((u for u in ws.users.values() if u.name == name), None)
                    if user is not None:
                        return f"<@{user.id}|{name}>" if labels else f"<@{user.id}>"
                else:
                    channel = ws.channel_by_name(name)
                    if channel is not None:
                        return f"<#{channel.id}|{name}>"
            return match.group(0)

        return _MENTION.sub(link, escaped)

    def _react(self, data: JSON) -> JSON:
        user_id, channel_id = self._member_channel(data)
        ts, name = str(data["ts"]), str(data["name"]).strip(":")
        msg = self.ws.find_message(channel_id, ts)
        if msg is None:
            raise BadRequest("no such message")
        if user_id in msg.reactions.get(name, []):
            self.emulator.remove_reaction(user_id, channel_id, ts, name)
            return {"ok": True, "added": False}
        self.emulator.add_reaction(user_id, channel_id, ts, name)
        return {"ok": True, "added": True}

    def _action(self, data: JSON) -> JSON:
        user_id = str(data["user"])
        block_id, action_id = str(data.get("block_id", "")), str(data["action_id"])
        view_id = data.get("view_id")
        with self.ws.lock:
            if view_id:
                view = self.ws.views.get(str(view_id))
                if view is None or view.user != user_id:
                    raise BadRequest("no such view")
                blocks = view.view.get("blocks") or []
            else:
                user_id, channel_id = self._member_channel(data)
                blocks = self._message_blocks(user_id, channel_id, str(data["ts"]))
            found = _find_element(blocks, block_id, action_id)
            if found is None:
                raise BadRequest("no such element")
            block, element = found
        action = _action_payload(block, element, data.get("selected"))
        if view_id:
            return _outcome(self.inbound.block_action(user_id, action, view_id=str(view_id)))
        return _outcome(
            self.inbound.block_action(
                user_id, action, channel_id=str(data["channel"]), message_ts=str(data["ts"])
            )
        )

    def _message_blocks(self, user_id: str, channel_id: str, ts: str) -> list[JSON]:
        msg = self.ws.find_message(channel_id, ts)
        if msg is not None:
            return msg.blocks or []
        for eph in self.ws.ephemerals:
            if eph.ts == ts and eph.user == user_id and eph.channel == channel_id:
                return eph.blocks or []
        raise BadRequest("no such message")

    def _submit(self, data: JSON) -> JSON:
        user_id, view_id = str(data["user"]), str(data["view_id"])
        self._own_view(user_id, view_id)
        values = data.get("values") or {}
        if not isinstance(values, dict):
            raise BadRequest("values must be an object")
        return _outcome(self.inbound.view_submission(user_id, view_id, values))

    def _options(self, data: JSON) -> JSON:
        """Typing in a modal's ``external_select``: the options the app offers for it."""
        user_id, view_id = str(data["user"]), str(data["view_id"])
        self._own_view(user_id, view_id)
        outcome, options = self.inbound.block_suggestion(
            user_id,
            view_id,
            block_id=str(data.get("block_id", "")),
            action_id=str(data.get("action_id", "")),
            value=str(data.get("value") or ""),
        )
        return {**_outcome(outcome), "options": options}

    def _close_view(self, data: JSON) -> JSON:
        user_id, view_id = str(data["user"]), str(data["view_id"])
        self._own_view(user_id, view_id)
        return _outcome(self.inbound.view_closed(user_id, view_id))

    def _own_view(self, user_id: str, view_id: str) -> None:
        with self.ws.lock:
            if view_id not in self.ws.view_stacks.get(user_id, []):
                raise BadRequest("that modal is not open")

    def _home(self, data: JSON) -> JSON:
        user_id = str(data["user"])
        if user_id not in self.ws.users:
            raise BadRequest("no such user")
        tab = "messages" if data.get("tab") == "messages" else "home"
        channel, _ = self.ws.open_im(user_id)
        self.inbound.app_home_opened(user_id, tab)
        return {"ok": True, "channel": channel.id}


def _find_element(blocks: list[JSON], block_id: str, action_id: str) -> tuple[JSON, JSON] | None:
    for block in blocks:
        if str(block.get("block_id", "")) != block_id:
            continue
        elements = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for element in elements:
            if element.get("action_id") == action_id:
                return block, element
    return None


def _action_payload(block: JSON, element: JSON, selected: Any) -> JSON:
    """The `actions[]` entry Slack sends for a click on `element`."""
    action: JSON = {
        "type": element.get("type"),
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
    }
    if element.get("type") == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
    elif element.get("type") in ("static_select", "radio_buttons", "overflow"):
        action["selected_option"] = find_option(element, selected)
    elif element.get("type") == "users_select":
        action["selected_user"] = selected
    return action


def _outcome(outcome: Outcome) -> JSON:
    return {"ok": outcome.ok, "error": outcome.error, "errors": outcome.errors}


def _json(status: int, body: Any) -> PageReply:
    return PageReply(status, json.dumps(body).encode("utf-8"))


__all__ = ["PageApp"]
