import logging

import pytest

from bot.logs import SecretFilter, mask


def test_tokens_and_secrets_are_masked() -> None:
    text = "Authorization: Bearer xoxb-123-456-abcDEF and xapp-1-A0-xyz, secret s3cr3t-value"
    assert mask(text, ["s3cr3t-value"]) == ("Authorization: Bearer xoxb-… and xapp-…, secret …")


def test_the_filter_masks_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("crisisbot.test")
    caplog.handler.addFilter(SecretFilter(["signing-secret-123"]))
    try:
        logger.warning("headers %s", {"Authorization": "Bearer xoxb-999-888-zzz"})
        try:
            raise ValueError("bad token xoxp-1-2-3 signing-secret-123")
        except ValueError:
            logger.exception("failed")
    finally:
        caplog.handler.filters.clear()
    logged = caplog.text
    assert "xoxb-999" not in logged and "xoxp-1-2-3" not in logged
    assert "signing-secret-123" not in logged
    assert "Bearer xoxb-…" in logged and "ValueError: bad token xoxp-… …" in logged
