"""Slack's 3-second rule: listeners ack before any slow Slack work, which runs on the workers."""

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from sandbox import Emulator
from tests.harness import Bot


class HeldExecutor(Executor):
    """Holds submitted work until the test releases it."""

    def __init__(self) -> None:
        self.held: list[tuple[Callable[..., Any], Future[Any]]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.held.append((lambda: fn(*args, **kwargs), future))
        return future

    def release(self) -> None:
        while self.held:
            work, future = self.held.pop(0)
            future.set_result(work())


def test_declare_acks_before_touching_slack(bot: Bot, emulator: Emulator) -> None:
    held = HeldExecutor()
    object.__setattr__(bot.deps, "workers", held)
    answer = bot.command("new Acme: dashboards empty sev1")
    assert answer.status == 200 and "Declaring a crisis" in answer.text
    assert emulator.calls_to("conversations.create") == []
    assert len(held.held) == 1
    held.release()
    assert emulator.channel_by_name("crisis-20261122-acme") is not None
