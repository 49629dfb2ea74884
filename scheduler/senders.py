"""The sweep's one pipeline, the same in production and in tests: a tick claims what is due
(``reminders.claim_due``), the sender pool sends each claimed crisis's reminder
(``reminders.send_next``), and the recorder writes down what was sent, many to a
transaction (``reminders.record_sent``), handing a crisis with more due straight back to the
senders.

Production runs the senders on 32 threads and the recorder on one; the test harness injects
executors that run each step inline, so ``bot.sweep()`` returns with everything sent and
recorded, in due order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.deps import Deps
from bot.services import leases, reminders
from bot.services.reminders import CLAIM_BATCH, MAX_AT_ONCE, MAX_BATCHES, Posted, Sent

log = logging.getLogger(__name__)

SENDER_THREADS = 32
RECORD_BATCH = 200


class InlineExecutor(Executor):
    """Runs each task to completion when it is submitted (tests: one deterministic order). An
    error is kept in the future, as on a thread; what stands for a crash (a BaseException
    that is no Exception) stops the caller too, as a SIGKILL would."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


@dataclass(frozen=True)
class _Job:
    """One crisis in the pipeline: the tick it was claimed at, and how many of its reminders
    have gone out in this claim."""

    crisis_id: int
    now: datetime
    sent: list[Sent]
    done: int = 0


class Recorder:
    """Records what the senders sent, many reminders to a transaction, on its executor: the
    senders go straight on to the next reminder.

    A reminder is in Slack before it is recorded here. If the process dies in between, the
    outbox row stays unsent and the claim's lease runs out; the next sweep finds the message by
    its key and records it without sending it again.
    """

    def __init__(self, deps: Deps, executor: Executor, *, max_batch: int = RECORD_BATCH) -> None:
        self._deps = deps
        self._executor = executor
        self._max_batch = max_batch
        self._queue: list[tuple[Posted, _Job]] = []
        self._lock = threading.Lock()
        self._draining = False
        self.again: Callable[[_Job], None] = lambda job: None

    def put(self, posted: Posted, job: _Job) -> None:
        """Record ``posted`` soon (at once with an inline executor)."""
        with self._lock:
            self._queue.append((posted, job))
            if self._draining:
                return
            self._draining = True
        self._executor.submit(self._drain).add_done_callback(_log_failure)

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                if not batch:
                    self._draining = False
                    return
            try:
                self._record(batch)
            except BaseException:
                # Stopped dead: these claims are no longer worked on; their leases run out.
                for posted, _ in batch:
                    self._deps.claims.drop(posted.crisis_id)
                with self._lock:
                    self._draining = False
                raise

    def _record(self, batch: list[tuple[Posted, _Job]]) -> None:
        claims = self._deps.claims
        jobs = dict(batch)
        try:
            more = self._record_all([posted for posted, _ in batch])
        except Exception:
            log.exception("recording %s sent reminders failed; recording one by one", len(batch))
            more = []
            for posted, _ in batch:
                try:
                    more.extend(self._record_all([posted]))
                except Exception:
                    # The lease runs out and the next sweep finds it in Slack by its key.
                    log.exception(
                        "recording crisis %s's %s failed", posted.crisis_id, posted.due.kind
                    )
        again = {posted.crisis_id for posted in more}
        for posted, _ in batch:
            if posted.crisis_id not in again:
                claims.drop(posted.crisis_id)
        for posted in more:
            self.again(jobs[posted])

    def _record_all(self, batch: list[Posted]) -> list[Posted]:
        with self._deps.session_factory() as session:
            return reminders.record_sent(
                session, batch, settings=self._deps.settings, claims=self._deps.claims
            )


class Senders:
    """The sweep's sender pool and its recorder."""

    def __init__(self, deps: Deps, *, pool: Executor, recording: Executor) -> None:
        self.deps = deps
        self.pool = pool
        self._recording = recording
        self.recorder = Recorder(deps, recording)
        self.recorder.again = self._again
        self._stopping = threading.Event()

    @classmethod
    def start(cls, deps: Deps) -> Senders:
        """Production: reminders due together go out together, each on its own thread (and
        DB session); what they sent is recorded many to a transaction, off those threads."""
        return cls(
            deps,
            pool=ThreadPoolExecutor(max_workers=SENDER_THREADS, thread_name_prefix="sweep"),
            recording=ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-recorder"),
        )

    @classmethod
    def inline(cls, deps: Deps) -> Senders:
        """The same pipeline, every step run as it is submitted: a sweep returns done."""
        return cls(deps, pool=InlineExecutor(), recording=InlineExecutor())

    def submit(self, job: _Job) -> None:
        try:
            self.pool.submit(self._send, job).add_done_callback(_log_failure)
        except RuntimeError:
            # Shutting down: the claim stays held and is given back when the process stops.
            log.info("crisis %s: left for the next sweep (stopping)", job.crisis_id)

    def _again(self, job: _Job) -> None:
        """A crisis with another reminder due already (an overdue nag and the escalation)."""
        if job.done >= MAX_AT_ONCE:
            with self.deps.session_factory() as session:
                reminders.release(session, job.crisis_id, self.deps.claims.token, check_at=job.now)
            self.deps.claims.drop(job.crisis_id)
            return
        self.submit(job)

    def _send(self, job: _Job) -> None:
        deps = self.deps
        if self._stopping.is_set():
            return  # not started: its claim is given back when the process stops
        try:
            # Claimed in due order, sent in due order: the place in line is taken now.
            with deps.slack.keep_place(), deps.session_factory() as session:
                posted = reminders.send_next(
                    session,
                    slack=deps.slack,
                    settings=deps.settings,
                    crisis_id=job.crisis_id,
                    now=job.now,
                    claims=deps.claims,
                    clock=deps.clock,
                    slack_for=deps.slack_for if deps.many_workspaces else None,
                )
        except BaseException:
            deps.claims.drop(job.crisis_id)  # the lease runs out; the next sweep retries
            raise
        if posted is None:
            deps.claims.drop(job.crisis_id)
            return
        job.sent.append(Sent(job.crisis_id, posted.due.kind, job.now))
        self.recorder.put(posted, _Job(job.crisis_id, job.now, job.sent, job.done + 1))

    def stop_starting(self) -> None:
        """Start no more sends: the process is stopping, and what has not started is given
        back to the other replicas (``release_claims``) rather than sent late by this one."""
        if not self._stopping.is_set():
            self._stopping.set()
            log.info("stopping: no new sends, finishing those under way")

    def shutdown(self, *, wait: bool = True) -> None:
        """Finish the sends under way and record them; sends not started yet are dropped
        (their claims are given back by ``leases.release``)."""
        self.stop_starting()
        if isinstance(self.pool, ThreadPoolExecutor):
            self.pool.shutdown(wait=wait, cancel_futures=True)
        else:
            self.pool.shutdown(wait=wait)
        self._recording.shutdown(wait=wait)


def sweep(deps: Deps, senders: Senders) -> list[Sent]:
    """One tick: claim what is due now and hand each crisis to the senders; returns what was
    sent (all of it with inline senders; with threads it fills in as they go)."""
    now = deps.now()
    sent: list[Sent] = []
    for _ in range(MAX_BATCHES):
        with deps.session_factory() as session:
            ids = reminders.claim_due(
                session, now=now, claims=deps.claims, lease=deps.settings.lease
            )
        for crisis_id in ids:
            senders.submit(_Job(crisis_id, now, sent))
        if len(ids) < CLAIM_BATCH:
            break
    return sent


def renew_leases(deps: Deps) -> int:
    """The heartbeat: push the lease of every crisis and broadcast this process is working on
    forward."""
    if not deps.claims.busy():
        return 0
    with deps.session_factory() as session:
        return leases.renew(session, claims=deps.claims, now=deps.now(), lease=deps.settings.lease)


def release_claims(deps: Deps) -> int:
    """At shutdown: give back every claim this process holds (a broadcast it stopped sending
    included), so another replica takes the work at once."""
    with deps.session_factory() as session:
        released = leases.release(session, claims=deps.claims, now=deps.now())
    log.info("gave back %s claims for other replicas", released)
    return released


def _log_failure(future: Future[Any]) -> None:
    error = future.exception()
    if error is not None:
        log.error("sending a reminder failed", exc_info=error)
