"""Slack's v0 request signatures, made with slack_sdk's own ``SignatureVerifier``."""

from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or ""}
