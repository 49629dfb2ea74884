"""Form state as Slack builds it: ``view.state.values`` from what a person typed or picked, and
the app's answers to a submission."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from sandbox.workspace import JSON, User

Offered = dict[tuple[str, str], dict[str, JSON]]


def form_state(
    blocks: list[JSON], values: JSON, users: dict[str, User], *, offered: Offered | None = None
) -> JSON:
    """Build `view.state.values` as Slack does from what the user typed or picked;
    ``offered``: the options the app gave each ``external_select`` (by block and action)."""
    state: JSON = {}
    for block in blocks:
        element = block.get("element") if block.get("type") == "input" else None
        if not isinstance(element, dict):
            continue
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        raw = (values.get(block_id) or {}).get(action_id)
        choices = (offered or {}).get((block_id, action_id), {})
        state[block_id] = {action_id: element_state(element, raw, users, offered=choices)}
    return state


def element_state(
    element: JSON, raw: Any, users: dict[str, User], *, offered: dict[str, JSON] | None = None
) -> JSON:
    """One input element's state: the shape depends on the element type."""
    kind = str(element.get("type"))
    out: JSON = {"type": kind}
    if kind == "external_select":
        # The option picked among those the app offered (Slack keeps the whole option).
        initial = element.get("initial_option")
        picked = (offered or {}).get(raw) if raw is not None else None
        if picked is None and isinstance(initial, dict) and raw in (None, initial.get("value")):
            picked = initial  # untouched: it still holds its initial option
        out["selected_option"] = dict(picked) if isinstance(picked, dict) else None
        return out
    if kind == "multi_external_select":
        # Every option picked among those the app offered, whole; untouched: its initial ones.
        if raw is None:
            initial = element.get("initial_options")
            out["selected_options"] = list(initial) if isinstance(initial, list) else []
            return out
        chosen = raw if isinstance(raw, list) else []
        out["selected_options"] = [dict(o) for v in chosen if (o := (offered or {}).get(v))]
        return out
    if raw is None:
        # Untouched: the element still holds its initial value, as in Slack's client.
        raw = initial_value(element)
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


def initial_value(element: JSON) -> Any:
    for key in ("initial_value", "initial_user", "initial_users", "initial_date", "initial_time"):
        if key in element:
            return element[key]
    if isinstance(element.get("initial_option"), dict):
        return element["initial_option"].get("value")
    if isinstance(element.get("initial_options"), list):
        return [o.get("value") for o in element["initial_options"]]
    return None


def json_answer(answer: str) -> JSON:
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
