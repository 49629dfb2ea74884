import pytest

from bot.ratelimit import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_tier_2_allows_twenty_a_minute_then_waits_for_the_window() -> None:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
    starts = []
    for _ in range(45):
        limiter.acquire("conversations.create")
        starts.append(time.now)
    # A minute and a 2 % margin, so our window never closes before Slack's does.
    assert starts[:20] == [0.0] * 20
    assert starts[20:40] == [pytest.approx(61.2)] * 20
    assert starts[40:] == [pytest.approx(122.4)] * 5


def test_posts_are_paced_per_channel_not_globally() -> None:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
    limiter.acquire("chat.postMessage", channel="C1")
    limiter.acquire("chat.postMessage", channel="C2")
    assert time.now == 0.0
    limiter.acquire("chat.postMessage", channel="C1")
    assert time.now == pytest.approx(1.05)  # a second, and 50 ms of margin


def test_unlisted_methods_are_not_paced() -> None:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
    for _ in range(1000):
        limiter.acquire("auth.test")
    assert time.slept == []


def test_posts_also_count_against_the_workspace() -> None:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
    for number in range(300):
        limiter.acquire("chat.postMessage", channel=f"U{number:04d}")
    assert time.now == 0.0
    limiter.acquire("chat.postMessage", channel="U9999")
    assert time.now == pytest.approx(61.2)
