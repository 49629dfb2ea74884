"""Each process's heartbeat: renews the leases of the work it is doing, every
``CRISISBOT_HEARTBEAT``, on a thread of its own (it keeps beating while the scheduler is
stopped and the last sends finish at shutdown)."""

from __future__ import annotations

import logging
import threading

from bot.deps import Deps
from scheduler.senders import renew_leases

log = logging.getLogger(__name__)


class Heartbeat:
    """A daemon thread renewing this process's leases until ``stop()``."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        every = self._deps.settings.heartbeat.total_seconds()
        while not self._stopped.wait(every):
            try:
                renew_leases(self._deps)
            except Exception:
                # A database hiccup: the next beat tries again (a lease outlasts a few beats).
                log.exception("renewing leases failed")
