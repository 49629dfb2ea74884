"""Safe text for Slack: escaping user input, cutting to Block Kit limits, mentions and dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

ELLIPSIS = "…"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape user text for mrkdwn: ``<!channel>`` and ``<@U…>`` show as text, ping nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TOKEN = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def unescape(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def from_slack(text: str) -> str:
    """Text as Slack sent it (escaped, with ``<@U…|ana>`` tokens) as the person typed it.

    Mentions become plain ``@ana``, channels ``#name`` and links their label, so what we
    store and echo later can never ping anyone.
    """

    def plain_token(match: re.Match[str]) -> str:
        sigil, body, label = match.group(1), match.group(2), match.group(3)
        if sigil in ("@", "!"):
            name = label or body.split("^")[0]
            return "@" + name.lstrip("@")
        if sigil == "#":
            return f"#{label or body}"
        return f"{label} ({body})" if label and label != body else body

    return unescape(_TOKEN.sub(plain_token, text))


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Never leave half an escape sequence such as "&am" at the end.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp <= 5:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def safe(text: str, limit: int) -> str:
    """Escape, then cut to ``limit`` characters."""
    return clip(escape(text), limit)


SHORTENED = " … _(shortened)_"


def safe_marked(text: str, limit: int, *, note: str = SHORTENED) -> str:
    """Escape; when that is over ``limit`` characters, cut it and say so visibly (``note``)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    return clip(escaped, limit - len(note) + 1).removesuffix(ELLIPSIS).rstrip() + note


def plain(text: str, limit: int) -> str:
    """For plain_text fields (no mrkdwn): only cut."""
    return clip(text, limit)


def is_user_id(value: str) -> bool:
    return bool(_USER_ID.match(value))


def mention(user_id: str) -> str:
    """A user mention; only ever built from ids Slack gave us, never from typed text."""
    return f"<@{user_id}>" if is_user_id(user_id) else escape(user_id)


def mentions(user_ids: list[str]) -> str:
    return ", ".join(mention(u) for u in user_ids) if user_ids else "nobody yet"


def date_token(moment: datetime, *, style: str = "{date_short_pretty} at {time}") -> str:
    """Slack's date token: each reader sees ``moment`` in their own time zone."""
    moment = moment.astimezone(UTC)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{style}|{fallback}>"


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A time for plain text, where no date token renders: ``14:30 CET Nov 22``."""
    local = moment.astimezone(zone)
    return f"{local:%H:%M} {local.tzname() or ''} {local:%b %d}".replace("  ", " ")
