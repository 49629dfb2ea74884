"""The blame check: phrases that put the fault on a person or on the customer.

"Focus on the outcome, not blame" (our seeds): whether our product caused the damage or the
customer mishandled something, the customer should hear "I'm with you, and we'll solve this
together". The check warns the person writing; it never blocks a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.customer.folding import Folded

SUGGESTION = "focus on the outcome: say what we are doing about it"

# Matched as whole words, ignoring case, accents and punctuation ("you shouldn't have" is
# "you shouldn t have"); Hebrew phrases also after attached one-letter words ("ובאשמתכם").
BLAME_PHRASES: tuple[str, ...] = (
    # On the customer.
    "your fault",
    "you should have",
    "you shouldn't have",
    "you should not have",
    "you failed to",
    "you forgot to",
    "you didn't follow",
    "you did not follow",
    "your mistake",
    "your error",
    "your own error",
    "caused by you",
    "caused by your team",
    "you caused",
    "you broke",
    "user error",
    "pebkac",
    "not our fault",
    "not our problem",
    # On a person.
    "human error",
    "operator error",
    "his fault",
    "her fault",
    "their fault",
    "his mistake",
    "her mistake",
    "to blame",
    # Hebrew.
    "שגיאת משתמש",
    "טעות משתמש",
    "טעות אנוש",
    "באשמתכם",
    "באשמתך",
    "באשמתו",
    "באשמתה",
    "האשמה שלכם",
    "אשמתכם",
    "הייתם צריכים",
    "היית צריך",
    "היית צריכה",
    "הייתם אמורים",
    "הטעות שלכם",
    "טעות שלכם",
    "לא אשמתנו",
    "בגללכם",
)


@dataclass(frozen=True)
class BlameFinding:
    """A blaming phrase: the words as written, where they are, and what to say instead."""

    words: str
    start: int
    end: int
    suggestion: str = SUGGESTION


def find_blame(text: str) -> list[BlameFinding]:
    """Every blaming phrase in ``text`` (English and Hebrew), in order of position."""
    folded = Folded(text)
    spans = {span for phrase in BLAME_PHRASES for span in folded.find(phrase)}
    # A phrase inside a longer one found at the same place ("אשמתכם" in "באשמתכם") once.
    kept = [
        s for s in spans if not any(o != s and o.start <= s.start and s.end <= o.end for o in spans)
    ]
    return [BlameFinding(s.words, s.start, s.end) for s in sorted(kept, key=lambda s: s.start)]
