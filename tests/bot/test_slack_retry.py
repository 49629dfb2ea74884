"""The Web API retry budget: 429s, 5xx and dropped connections are retried for
``CRISISBOT_SLACK_RETRY_FOR``, waiting as Slack asks; nothing here really sleeps."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import ConfigError
from bot.slack_gateway import make_client
from bot.slack_retry import RetryTime, retrying_for
from sandbox import Emulator
from sandbox.faults import DROP, Failure
from tests.conftest import make_settings


class FakeTime(RetryTime):
    """A clock that only sleeping moves; records every wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        super().__init__(clock=lambda: self.now, sleep=self._sleep, random=lambda: 0.5)

    def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def client(emulator: Emulator, time: FakeTime, retry_for: float = 600.0) -> WebClient:
    return make_client(
        token="xoxb-sandbox", base_url=emulator.api_url, retry_for=retry_for, time_source=time
    )


def test_a_429_is_waited_out_for_its_retry_after(emulator: Emulator) -> None:
    time = FakeTime()
    emulator.faults.script("chat.postMessage", Failure("ratelimited", 429, retry_after=7), 3)
    client(emulator, time).chat_postMessage(channel="C0GENERAL", text="hello")
    assert [c.status for c in emulator.calls_to("chat.postMessage")] == [429, 429, 429, 200]
    assert time.waits == [pytest.approx(7.05)] * 3


def test_5xx_and_dropped_connections_back_off_and_keep_trying(emulator: Emulator) -> None:
    time = FakeTime()
    for status in (500, DROP, 503, 502, DROP, 500, 500):
        emulator.faults.script("chat.update", Failure("internal_error", status), 1)
    with pytest.raises(SlackApiError) as raised:
        client(emulator, time).chat_update(channel="C0GENERAL", ts="1.1", text="x")
    # Seven faults in a row (more than the SDK's default handlers would take), then
    # Slack's real answer.
    assert raised.value.response["error"] == "message_not_found"
    assert len(emulator.calls_to("chat.update")) == 8
    # Exponential backoff at 0.75 of each ceiling: 0.5, 1, 2, 4, 8, 15 (capped) seconds.
    assert time.waits == pytest.approx([0.375, 0.75, 1.5, 3.0, 6.0, 11.25, 11.25])


def test_the_retries_stop_when_the_budget_is_spent(emulator: Emulator) -> None:
    time = FakeTime()
    emulator.fail_next("pins.add", "service_unavailable", status=503, times=10_000)
    with pytest.raises(SlackApiError) as raised:
        client(emulator, time, retry_for=120.0).pins_add(channel="C0GENERAL", timestamp="1.1")
    assert raised.value.response.status_code == 503
    # Never past the budget, and not given up long before it.
    assert 120 - 15 <= time.now <= 120


def test_slack_refusing_a_call_is_not_retried(emulator: Emulator) -> None:
    time = FakeTime()
    emulator.fail_next("chat.postMessage", "channel_not_found", times=5)
    with pytest.raises(SlackApiError):
        client(emulator, time).chat_postMessage(channel="C0NOPE", text="x")
    assert len(emulator.calls_to("chat.postMessage")) == 1 and time.waits == []


def test_the_retry_budget_is_a_setting() -> None:
    assert make_settings().slack_retry_for.total_seconds() == 600
    assert make_settings(slack_retry_for="45s").slack_retry_for.total_seconds() == 45
    assert make_settings(slack_retry_for="500ms").slack_retry_for.total_seconds() == 0.5
    with pytest.raises(ConfigError, match="CRISISBOT_SLACK_RETRY_FOR: 'soon' is not a duration"):
        make_settings(slack_retry_for="soon")


def test_calls_before_an_ack_get_a_shorter_budget(emulator: Emulator) -> None:
    time = FakeTime()
    emulator.fail_next("users.info", "service_unavailable", status=503, times=10_000)
    with pytest.raises(SlackApiError), retrying_for(1.5):
        client(emulator, time).users_info(user="U0ANA")
    assert time.now <= 1.5
