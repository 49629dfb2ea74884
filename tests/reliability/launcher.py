"""``crisisbot run`` with Slack's per-minute pacing optionally shortened for a test.

A test sets ``TEST_RATE_WINDOW`` (seconds) to run Slack's per-minute pacing faster, as the
other tests shrink the emulator's windows (the leases are settings: ``CRISISBOT_LEASE``,
``CRISISBOT_HEARTBEAT``). Everything else is the real command.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    from bot import ratelimit

    if window := os.environ.get("TEST_RATE_WINDOW"):
        ratelimit.WINDOW = float(window)
    from crisisbot.cli import main as cli

    return cli(["run"])


if __name__ == "__main__":
    sys.exit(main())
