"""The parts of the app's manifest that decide what the emulated Slack sends the app."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_BOT_EVENTS = frozenset({"reaction_added", "app_home_opened"})


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
