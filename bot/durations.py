"""Human durations such as ``45s``, ``30m``, ``2h`` and ``1d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)\s*(ms|[smhd])")
_WHOLE = re.compile(r"^(?:\d+\s*(?:ms|[smhd])\s*)+$")

DURATION_HELP = "a number followed by s, m, h or d, such as 45s, 30m, 2h or 1d (or 1h30m)"
# "500ms" is accepted too: only the scheduler's tick ever wants less than a second.
MAX_DURATION = timedelta(days=365)


class DurationError(ValueError):
    """Raised when a text is not a duration we understand."""


def parse_duration(text: str, *, allow_zero: bool = False) -> timedelta:
    """Parse ``45s``/``30m``/``2h``/``1d`` (or combinations like ``1h30m``) into a timedelta."""
    cleaned = text.strip().lower()
    if cleaned == "0" and allow_zero:
        return timedelta(0)
    if not cleaned or not _WHOLE.match(cleaned):
        raise DurationError(f"{text.strip()!r} is not a duration: use {DURATION_HELP}")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds == 0 and not allow_zero:
        raise DurationError(f"{text.strip()!r} is zero: use {DURATION_HELP}")
    if seconds > MAX_DURATION.total_seconds():
        raise DurationError(f"{text.strip()!r} is longer than a year: use {DURATION_HELP}")
    return timedelta(seconds=seconds)


def compact_duration(delta: timedelta) -> str:
    """Every unit, no spaces (``1d2h30m``): reads back with ``parse_duration`` exactly."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0"


def format_duration(delta: timedelta) -> str:
    """Render a timedelta the way people say it: ``2h 30m``, ``45s``, ``3d``."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0m"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])
