"""Logging set-up that never writes a Slack token or the signing secret."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Bot, user, app-level and refresh tokens; the SDK logs request headers at DEBUG.
_TOKEN = re.compile(r"\b(xox[abeprs]|xapp)-[A-Za-z0-9-]+")


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with Slack tokens and the given secrets replaced by a short masked form."""
    text = _TOKEN.sub(lambda m: m.group(1) + "-…", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return text


class SecretFilter(logging.Filter):
    """Rewrites each record's message with tokens and secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message, self.secrets)
        if masked != message or record.exc_info:
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.msg, record.args = masked, None
            if record.exc_text:
                record.exc_text = mask(record.exc_text, self.secrets)
        return True


def configure_logging(level: str, *, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at ``level``, with every handler masking secrets."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # Every tick and every migration plugin at INFO would bury what matters.
    for chatty in ("apscheduler.executors", "apscheduler.scheduler", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    secret_filter = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
