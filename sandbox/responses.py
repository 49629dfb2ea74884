"""response_url emulation: mint URLs, record what the app posts, apply it to the workspace."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.api_chat import MAX_TEXT, ephemeral_event
from sandbox.blockkit import BlockError, validate_blocks
from sandbox.workspace import JSON, Ephemeral, Message, Workspace

MAX_USES = 5


@dataclass
class ResponseUrl:
    """A minted response_url and the context it answers (channel, user, original message)."""

    id: str
    channel: str
    user: str
    message_ts: str | None = None
    uses: int = 0


@dataclass
class ResponsePost:
    """One body the app posted to a response_url."""

    url_id: str
    channel: str
    user: str
    response_type: str
    replace_original: bool
    delete_original: bool
    text: str
    blocks: list[JSON] | None
    thread_ts: str | None
    body: JSON
    status: int
    at: float
    result_ts: str | None = None


@dataclass
class ResponseUrls:
    """The emulator's response URLs and the record of posts to them."""

    ws: Workspace
    urls: dict[str, ResponseUrl] = field(default_factory=dict)
    posts: list[ResponsePost] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        """Forget every URL and what was posted to them."""
        with self.lock:
            self.urls.clear()
            self.posts.clear()

    def mint(self, channel: str, user: str, message_ts: str | None = None) -> ResponseUrl:
        """Create a response URL for an interaction by `user` in `channel`."""
        with self.lock:
            rid = self.ws.new_id("R")
            self.urls[rid] = ResponseUrl(rid, channel, user, message_ts)
            return self.urls[rid]

    def post(self, rid: str, body: JSON) -> tuple[int, str]:
        """Handle a POST to /response/<rid>; returns (HTTP status, body text) as Slack does."""
        with self.lock:
            url = self.urls.get(rid)
            if url is None:
                return 404, "no_service"
            if url.uses >= MAX_USES:
                return 404, "used_url"
            url.uses += 1
        status, text, ts = self._apply(url, body)
        blocks = body.get("blocks")
        post = ResponsePost(
            url_id=rid,
            channel=url.channel,
            user=url.user,
            response_type=str(body.get("response_type") or "ephemeral"),
            replace_original=_flag(body.get("replace_original")),
            delete_original=_flag(body.get("delete_original")),
            text=str(body.get("text") or ""),
            blocks=blocks if isinstance(blocks, list) else None,
            thread_ts=body.get("thread_ts"),
            body=body,
            status=status,
            at=self.ws.now(),
            result_ts=ts,
        )
        with self.lock:
            self.posts.append(post)
        return status, text

    def _apply(self, url: ResponseUrl, body: JSON) -> tuple[int, str, str | None]:
        ws = self.ws
        text = str(body.get("text") or "")
        blocks: Any = body.get("blocks")
        if _flag(body.get("delete_original")):
            return self._delete(url)
        if not text and not blocks:
            return 400, "no_text", None
        if len(text) > MAX_TEXT:
            return 400, "msg_too_long", None
        if blocks is not None:
            try:
                validate_blocks(blocks)
            except BlockError:
                return 400, "invalid_blocks", None
        bot = ws.bot
        with ws.mutate() as emit:
            if _flag(body.get("replace_original")) and url.message_ts:
                return self._replace(url, text, blocks or None)
            if body.get("response_type") == "in_channel":
                msg = Message(
                    ts=ws.next_ts(),
                    channel=url.channel,
                    user=bot.id,
                    text=text,
                    blocks=blocks or None,
                    bot_id=bot.bot_id,
                    thread_ts=body.get("thread_ts"),
                )
                ws.add_message(msg)
                return 200, "ok", msg.ts
            eph = Ephemeral(
                ts=ws.next_ts(),
                channel=url.channel,
                user=url.user,
                sender=bot.id,
                text=text,
                blocks=blocks or None,
                thread_ts=body.get("thread_ts"),
                bot_id=bot.bot_id,
            )
            ws.ephemerals.append(eph)
            emit(ephemeral_event(eph))
            return 200, "ok", eph.ts

    def _original(self, url: ResponseUrl) -> Message | Ephemeral | None:
        ts = url.message_ts or ""
        msg = self.ws.find_message(url.channel, ts)
        if msg is not None:
            return msg
        for eph in self.ws.ephemerals:
            if eph.ts == ts and eph.channel == url.channel:
                return eph
        return None

    def _replace(
        self, url: ResponseUrl, text: str, blocks: list[JSON] | None
    ) -> tuple[int, str, str | None]:
        ws = self.ws
        with ws.mutate() as emit:
            original = self._original(url)
            if original is None:
                return 404, "message_not_found", None
            original.text, original.blocks = text, blocks
            if isinstance(original, Message):
                original.edited = {"user": ws.bot.id, "ts": ws.next_ts()}
                emit(
                    {
                        "type": "message",
                        "subtype": "message_changed",
                        "channel": original.channel,
                        "message": ws.message_to_api(original),
                    }
                )
            else:
                emit(ephemeral_event(original))
            return 200, "ok", original.ts

    def _delete(self, url: ResponseUrl) -> tuple[int, str, str | None]:
        ws = self.ws
        with ws.mutate() as emit:
            original = self._original(url)
            if original is None:
                return 404, "message_not_found", None
            if isinstance(original, Message):
                del ws.messages[original.channel][original.ts]
                ws.pins.get(original.channel, {}).pop(original.ts, None)
            else:
                ws.ephemerals.remove(original)
            emit(
                {
                    "type": "message",
                    "subtype": "message_deleted",
                    "channel": original.channel,
                    "deleted_ts": original.ts,
                }
            )
            return 200, "ok", original.ts


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


__all__ = ["ResponsePost", "ResponseUrl", "ResponseUrls"]
