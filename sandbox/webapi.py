"""The Web API method table and dispatcher (transport-independent)."""

from __future__ import annotations

import sandbox.api_chat as api_chat
import sandbox.api_conversations as api_conversations
import sandbox.api_files as api_files
import sandbox.api_items as api_items
import sandbox.api_misc as api_misc
import sandbox.api_views as api_views
from sandbox.apicommon import Caller, Method, SlackApiError
from sandbox.workspace import JSON, Workspace

METHODS: dict[str, Method] = {
    **api_misc.METHODS,
    **api_conversations.METHODS,
    **api_chat.METHODS,
    **api_files.METHODS,
    **api_items.METHODS,
    **api_views.METHODS,
}

__all__ = ["METHODS", "Caller", "SlackApiError", "call_method", "error_body"]


def call_method(ws: Workspace, caller: Caller, method: str, args: JSON) -> JSON:
    """Run one method and return Slack's success body, or raise SlackApiError."""
    fn = METHODS.get(method)
    if fn is None:
        raise SlackApiError("unknown_method", req_method=method)
    return {"ok": True, **fn(ws, caller, args)}


def error_body(exc: SlackApiError) -> JSON:
    """Return Slack's error body for an error."""
    return {"ok": False, "error": exc.error, **exc.extra}
