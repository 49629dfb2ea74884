"""Right-to-left text that stays readable when Latin names, times and numbers sit inside it.

Slack lays each line out with the Unicode bidirectional algorithm. A Latin product name or a
time inside a Hebrew sentence can swap places with its neighbours; wrapping it in an *isolate*
keeps it one unit, laid out on its own, in its place.
"""

from __future__ import annotations

import unicodedata

FSI = "\u2068"  # FIRST STRONG ISOLATE: direction from the first letter inside
LRI = "\u2066"  # LEFT-TO-RIGHT ISOLATE: for times and numbers
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE: ends either
RLM = "\u200f"  # RIGHT-TO-LEFT MARK: makes a line that starts with a bullet or a name RTL


def has_rtl(text: str) -> bool:
    """Whether any letter in ``text`` is written right to left (Hebrew, Arabic…)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def isolate(text: str, *, opener: str = FSI) -> str:
    """``text`` as one isolated unit, line by line (an isolate ends at a line break)."""
    return "\n".join(f"{opener}{line}{PDI}" if line else line for line in text.split("\n"))
