"""What a request from Slack looks like on the wire, checked before Bolt parses it.

Bolt trusts its input: a body that is not JSON, a JSON array, or a slash command without a
``user_id`` raises deep inside it. ``malformed`` parses the body the way Bolt will
(``slack_bolt.request.internals.parse_body``) and says in a few words what is wrong, never
quoting the body.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

# Fields Slack always sends with a slash command, which the listeners rely on.
COMMAND_FIELDS = ("command", "user_id", "channel_id", "team_id", "trigger_id", "response_url")
# Interactive payload types, and what each always carries besides ``user``.
INTERACTIVE: dict[str, tuple[str, ...]] = {
    "block_actions": ("actions",),
    "view_submission": ("view",),
    "view_closed": ("view",),
    "block_suggestion": (),
    "shortcut": ("callback_id", "trigger_id"),
    "message_action": ("callback_id", "trigger_id"),
}


def malformed(body: bytes, content_type: str) -> str | None:
    """None when ``body`` is shaped as Slack sends it; else what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if not text:
        return None
    if content_type == "application/json" or text.startswith("{"):
        return _json_problem(text, "the body") or _envelope_problem(json.loads(text))
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if payload is None:
            return None
        problem = _json_problem(payload, "the payload field")
        if problem:
            return problem
        parsed: dict[str, Any] = json.loads(payload)
        if not isinstance(parsed.get("type"), str):
            return "a payload without a type"
        return _envelope_problem(parsed)
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "command" in form:
        missing = [name for name in COMMAND_FIELDS if not form.get(name)]
        if missing:
            return "a slash command without " + ", ".join(missing)
    return None


def _json_problem(text: str, what: str) -> str | None:
    try:
        value = json.loads(text)
    except ValueError as error:
        # The position, not the message's excerpt: the log never quotes a body.
        position = getattr(error, "pos", None)
        return f"{what} is not valid JSON" + (f" (at character {position})" if position else "")
    if not isinstance(value, dict):
        return f"{what} is a JSON {_kind(value)}, not an object"
    return None


def _envelope_problem(envelope: dict[str, Any]) -> str | None:
    kind = envelope.get("type")
    if kind is not None and not isinstance(kind, str):
        return "its type is not a string"
    if kind == "event_callback":
        event = envelope.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event_callback without an event object with a type"
    elif kind == "url_verification":
        if not isinstance(envelope.get("challenge"), str):
            return "a url_verification without a challenge"
    elif kind in INTERACTIVE:
        return _interactive_problem(envelope)
    return _common_problem(envelope)


def _interactive_problem(payload: dict[str, Any]) -> str | None:
    kind = payload.get("type")
    if kind in INTERACTIVE:
        user = payload.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            return f"a {kind} payload without a user id"
        missing = [name for name in INTERACTIVE[kind] if not payload.get(name)]
        if missing:
            return f"a {kind} payload without " + ", ".join(missing)
        if kind == "block_actions" and not all(
            isinstance(action, dict) for action in _list(payload["actions"])
        ):
            return "a block_actions payload whose actions are not objects"
        if kind in ("view_submission", "view_closed") and not isinstance(payload["view"], dict):
            return f"a {kind} payload whose view is not an object"
    return _common_problem(payload)


def _common_problem(body: dict[str, Any]) -> str | None:
    """Fields Bolt reads from every request to find the workspace, user and channel."""
    for name in ("team", "user", "channel", "enterprise", "container"):
        if name in body and not isinstance(body[name], dict | str | None):
            return f"its {name} is a JSON {_kind(body[name])}"
    # Bolt reads these as objects whenever they are there.
    for name in ("event", "view"):
        if name in body and not isinstance(body[name], dict):
            return f"its {name} is a JSON {_kind(body[name])}, not an object"
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        return "its authorizations are not a list of objects"
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [None]


def _kind(value: Any) -> str:
    return {
        list: "array",
        str: "string",
        int: "number",
        float: "number",
        bool: "boolean",
        dict: "object",
    }.get(type(value), "null")
