import threading
import time

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


def test_waiters_are_served_first_come_first_served() -> None:
    """Sixty threads queue for a tier-2 method (20 a window): each refill goes to those who
    have waited longest, so nobody is pushed into a later window by a later arrival."""
    limiter = RateLimiter(window=1.0)  # real time: a 1 s "minute", padded to 1.05 s
    started: dict[int, float] = {}
    t0 = time.monotonic()

    def call(number: int) -> None:
        limiter.acquire("conversations.create")
        started[number] = time.monotonic() - t0
        limiter.finished()  # its answer (the gateway reports every call's)

    threads = []
    for number in range(60):
        thread = threading.Thread(target=call, args=(number,))
        thread.start()
        threads.append(thread)
        time.sleep(0.004)  # arrive in order
    for thread in threads:
        thread.join(timeout=10)
    assert len(started) == 60
    for number, at in started.items():
        turn = number // 20  # the window this caller's place in the queue entitles it to
        assert turn * 1.05 - 0.01 <= at < turn * 1.05 + 0.5, (number, at)


def test_a_post_held_back_by_its_channel_does_not_hold_up_other_channels() -> None:
    time_ = FakeTime()
    limiter = RateLimiter(clock=time_.clock, sleep=time_.sleep)
    limiter.acquire("chat.postMessage", channel="C1")
    limiter.acquire("chat.postMessage", channel="C1")  # waits for C1's second
    assert time_.now == pytest.approx(1.05)
    limiter.acquire("chat.postMessage", channel="C2")
    assert time_.now == pytest.approx(1.05)


def test_work_that_took_its_place_first_gets_the_last_slot() -> None:
    """A nag claimed first keeps the minute's last slot, though its database work is slower
    than a later nag's."""
    limiter = RateLimiter(window=1.0)  # real time: a 1 s "minute", padded to 1.05 s
    for _ in range(19):
        limiter.acquire("conversations.create")
    started: dict[str, float] = {}
    t0 = time.monotonic()
    in_line = threading.Event()

    def first() -> None:
        with limiter.in_line("conversations.create"):
            in_line.set()
            time.sleep(0.2)  # slow work before the call
            limiter.acquire("conversations.create")
            started["first"] = time.monotonic() - t0

    def second() -> None:
        in_line.wait()
        limiter.acquire("conversations.create")
        started["second"] = time.monotonic() - t0

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert 0.2 <= started["first"] < 0.5
    assert started["second"] >= 1.0  # the next slot, when the first call of the minute ages out


def test_a_post_counts_until_its_answer_and_then_from_the_answer() -> None:
    """Slack counts a post when it arrives, somewhere between our letting it go and its
    answer: a post whose answer is later than usual (delayed on its way) pushes the next post
    to that channel back by as much, so the next never lands within a second of it."""
    time_ = FakeTime()
    limiter = RateLimiter(clock=time_.clock, sleep=time_.sleep)
    for number in range(3):  # posts answered in 10 ms: the usual round trip
        limiter.acquire("chat.postMessage", channel=f"C{number}")
        time_.now += 0.01
        limiter.finished()

    time_.now = 10.0
    limiter.acquire("chat.postMessage", channel="C1")
    time_.now = 10.01
    limiter.finished()
    limiter.acquire("chat.postMessage", channel="C1")
    # A usual answer keeps the usual pace: a second and 50 ms from when the call went.
    assert time_.now == pytest.approx(11.05)

    time_.now = 20.0
    limiter.acquire("chat.postMessage", channel="C2")
    time_.now = 20.3  # the answer, 300 ms later: Slack may have counted it at 20.29
    limiter.finished()
    limiter.acquire("chat.postMessage", channel="C2")
    # A second after it, and 5 ms (less the usual 10 ms round trip).
    assert time_.now == pytest.approx(21.295)


def test_a_call_still_waiting_for_its_answer_keeps_its_slot() -> None:
    """A post on its way for longer than the window still counts: the next post to that
    channel waits for its answer, and then the window again."""
    limiter = RateLimiter(window=6.0)  # real time: posts 100 ms apart per channel
    limiter.acquire("chat.postMessage", channel="C0")
    limiter.finished()  # a usual round trip: next to none
    answered = threading.Event()
    second: list[float] = []
    t0 = time.monotonic()

    def slow_post() -> None:
        limiter.acquire("chat.postMessage", channel="C1")
        answered.wait(timeout=5)  # the answer takes 300 ms, three windows
        limiter.finished()

    def next_post() -> None:
        limiter.acquire("chat.postMessage", channel="C1")
        second.append(time.monotonic() - t0)
        limiter.finished()

    first = threading.Thread(target=slow_post)
    first.start()
    time.sleep(0.01)
    after = threading.Thread(target=next_post)
    after.start()
    time.sleep(0.3)
    answered_at = time.monotonic() - t0
    answered.set()
    for thread in (first, after):
        thread.join(timeout=5)
    assert second and second[0] >= answered_at + 0.09, (second, answered_at)


def test_a_call_whose_answer_is_never_reported_stops_counting() -> None:
    time_ = FakeTime()
    limiter = RateLimiter(clock=time_.clock, sleep=time_.sleep)
    done = threading.Event()

    def lost() -> None:  # another thread, gone without ``finished``
        limiter.acquire("chat.postMessage", channel="C1")
        done.set()

    threading.Thread(target=lost).start()
    done.wait(timeout=5)
    limiter.acquire("chat.postMessage", channel="C1")
    assert 1.05 < time_.now <= 1.05 + 30.0 + 0.02
