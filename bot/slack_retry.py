"""Retrying a Web API call that met a 429, a 5xx or a dropped connection, for a time budget.

A flaky Slack should delay the bot's work, not fail it: a call keeps being retried (waiting
out ``Retry-After``, or backing off) until ``CRISISBOT_SLACK_RETRY_FOR`` has passed since its
first failure; only then does the caller hear ``SlackFailure``.

A post is not safe to send again blindly: a 5xx or a dropped connection may come after Slack
posted it. Inside ``looking_before_resending`` only 429s (Slack refused before doing anything)
are retried here; the caller looks the post up by its metadata key and re-sends only if it is
not there (``SlackGateway.post``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.error import URLError

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Answers that say "not now" rather than "no": Slack's own 5xx and a proxy's.
SERVER_ERRORS = frozenset({500, 502, 503, 504})
# Backoff for 5xx and connection errors: 0.5 s, 1 s, 2 s … up to 15 s, each scaled by a random
# factor in [0.5, 1) so that many callers that failed together do not retry together.
BACKOFF_FIRST = 0.5
BACKOFF_CAP = 15.0
# Slack sends Retry-After in whole seconds; a missing or unreadable one means about a second.
DEFAULT_RETRY_AFTER = 1.0
# A little past Retry-After, so the retry lands after Slack's window has moved.
RETRY_AFTER_PAD = 0.05
# A shorter budget for the calls made before an acknowledgement (see ``retrying_for``).
_SHORTER: ContextVar[float | None] = ContextVar("crisisbot_retry_for", default=None)
# The caller looks a failed call up before sending it again (see ``looking_before_resending``).
_LOOKS_FIRST: ContextVar[bool] = ContextVar("crisisbot_looks_first", default=False)
# RetryState.custom_values keys.
_STARTED = "crisisbot_retry_started"
_WAIT = "crisisbot_retry_wait"


@dataclass
class RetryTime:
    """The clock and sleep the retries use; tests inject their own so nothing really waits."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = field(default=random.random)


class SlackRetryHandler(RetryHandler):
    """One slack_sdk retry handler for 429 (waits ``Retry-After``), 5xx and connection
    errors (exponential backoff with jitter), bounded by the time since the call first failed
    instead of by a count. Install it alone: it covers what the three built-in handlers do."""

    def __init__(self, *, retry_for: float, time_source: RetryTime | None = None) -> None:
        super().__init__(max_retry_count=1_000_000)
        self.retry_for = retry_for
        self.time = time_source or RetryTime()

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        wait = self._wait(state, response, error)
        if wait is None:
            return False
        refused = response is not None and response.status_code == 429
        if _LOOKS_FIRST.get() and not refused:
            return False  # Slack may have done it: the caller looks before sending again
        values = state.custom_values = state.custom_values or {}
        now = self.time.clock()
        started = values.setdefault(_STARTED, now)
        if now + wait - started > self.budget():
            return False
        values[_WAIT] = wait
        return True

    def _wait(
        self, state: RetryState, response: HttpResponse | None, error: Exception | None
    ) -> float | None:
        """How long to wait before the next try, or None when this failure is not transient."""
        if response is not None and response.status_code == 429:
            return retry_after(response) + RETRY_AFTER_PAD
        transient = (response is not None and response.status_code in SERVER_ERRORS) or (
            response is None and _is_connection_error(error)
        )
        if not transient:
            return None
        return self.backoff(state.current_attempt)

    def backoff(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (from 0) after a 5xx or a lost connection."""
        ceiling = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** min(attempt, 16))
        return ceiling * (0.5 + self.time.random() / 2)

    def budget(self) -> float:
        """How long, in seconds, a failing call is retried on this thread now."""
        shorter = _SHORTER.get()
        return self.retry_for if shorter is None else min(shorter, self.retry_for)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = float((state.custom_values or {}).get(_WAIT, BACKOFF_FIRST))
        self.time.sleep(wait)
        state.increment_current_attempt()


@contextmanager
def retrying_for(seconds: float) -> Iterator[None]:
    """Retry the Web API calls this thread makes inside for at most ``seconds``: for the
    look-ups a request needs before its acknowledgement, which Slack wants within 3 s (a
    person told "try again" beats a request Slack itself reports as failed)."""
    token = _SHORTER.set(seconds)
    try:
        yield
    finally:
        _SHORTER.reset(token)


@contextmanager
def looking_before_resending() -> Iterator[None]:
    """Inside, a call that met a 5xx or a lost connection is not sent again here (Slack may
    have done it before the answer was lost): the caller looks first. 429s are still waited
    out: Slack refuses those before doing anything."""
    token = _LOOKS_FIRST.set(True)
    try:
        yield
    finally:
        _LOOKS_FIRST.reset(token)


def retry_after(response: HttpResponse) -> float:
    """Slack's ``Retry-After`` in seconds (headers are lists in the SDK's response)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(0.0, float(str(value)))
            except ValueError:
                break
    return DEFAULT_RETRY_AFTER


def _is_connection_error(error: Exception | None) -> bool:
    # What slack_sdk's ConnectionErrorRetryHandler retries: URLError (a refused or reset
    # connection while sending) and a connection dropped before the answer (RemoteDisconnected
    # is a ConnectionResetError). Not a read timeout: Slack may have done that call already.
    if isinstance(error, TimeoutError):
        return False
    return isinstance(error, URLError | ConnectionError)
