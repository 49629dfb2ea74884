"""``crisisbot run`` with the sweep's fixed waits optionally shortened for a test.

The claim lease and the wait before a half-done declaration is resumed (minutes) are
constants; a test sets ``TEST_CLAIM_LEASE`` / ``TEST_RESUME_AFTER`` (seconds) to shrink
them, and ``TEST_RATE_WINDOW`` (seconds) to run Slack's per-minute pacing faster, as the other
tests shrink the emulator's windows. Everything else is the real command.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta


def main() -> int:
    from bot import ratelimit
    from bot.services import reminders, schedule

    if window := os.environ.get("TEST_RATE_WINDOW"):
        ratelimit.WINDOW = float(window)
    if lease := os.environ.get("TEST_CLAIM_LEASE"):
        reminders.CLAIM_LEASE = timedelta(seconds=float(lease))
    if resume := os.environ.get("TEST_RESUME_AFTER"):
        schedule.RESUME_AFTER = timedelta(seconds=float(resume))
    from crisisbot.cli import main as cli

    return cli(["run"])


if __name__ == "__main__":
    sys.exit(main())
