"""Every message to a customer channel goes through one function: the guard makes the only
kind of text ``post_to_customer`` takes, and only ``telling.to_customer`` calls it, right
after the guard (``/crisis tell``'s *Send* and an outage's broadcast and closing messages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.customer import CheckedMessage, Confidential, ensure_for_customer
from bot.slack_gateway import SlackGateway

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    p for d in ("bot", "handlers", "scheduler", "crisisbot") for p in (ROOT / d).rglob("*.py")
]


def calls(pattern: str) -> list[str]:
    found = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(pattern, line) and not line.lstrip().startswith(("def ", "class ")):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


def test_only_telling_to_customer_posts_to_a_customer_channel() -> None:
    (call,) = calls(r"\.post_to_customer\(")
    assert call.startswith("bot/services/telling.py:")
    source = (ROOT / "bot/services/telling.py").read_text()
    one_way = source[source.index("def to_customer(") : source.index("def told(")]
    assert "ensure_for_customer(" in one_way and ".post_to_customer(" in one_way
    send = source[source.index("def send(") : source.index("def to_customer(")]
    assert "to_customer(" in send
    outages = (ROOT / "bot/services/outages.py").read_text()
    assert outages.count("telling.to_customer(") == 2


def test_only_the_guard_makes_a_checked_message() -> None:
    assert [c.split(":")[0] for c in calls(r"CheckedMessage\(")] == ["bot/customer/guard.py"]
    with pytest.raises(TypeError):
        CheckedMessage("SEV1: we broke it")
    assert isinstance(ensure_for_customer("All good.", context=Confidential()), CheckedMessage)


def test_the_gateway_takes_nothing_unchecked_into_a_customer_channel() -> None:
    gateway = SlackGateway.__new__(SlackGateway)
    with pytest.raises(TypeError):
        gateway.post_to_customer(channel="C0SHARED", message="SEV1 for Initech")  # type: ignore[arg-type]
