"""Text folded the way account names are matched, with a way back to the words as written.

``bot.services.accounts.name_key`` ignores case, accents and punctuation; :class:`Folded` does
the same to a whole message while remembering where each folded character came from, so a
match can name the exact words the person wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.services.accounts import name_key

# Slack's three escapes read as the punctuation they stand for.
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_WORD = re.compile(r"[^\W_]")
# Hebrew attaches one-letter words to the next: "ל" (to), "ב" (in), "ו" (and), "ה" (the), "מ"
# (from), "ש" (that), "כ" (as), up to two of them, as in "ולמגדל" (and to Migdal).
HEBREW_PREFIXES = "ובכלמשה"
_HEBREW_LETTER = re.compile(r"[\u05d0-\u05ea]")


@lru_cache(maxsize=4096)
def _key(phrase: str) -> str:
    """``name_key`` of a phrase, cached: the guard folds the same account names for every
    message it checks."""
    return name_key(phrase)


@dataclass(frozen=True)
class Span:
    """Where a match is in the original text, and the words found there."""

    start: int
    end: int
    words: str


class Folded:
    """``text`` folded like ``name_key`` (single spaces between words), mapped back to ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text
        chars: list[str] = []
        origin: list[int] = []
        i = 0
        while i < len(text):
            entity = _ENTITY.match(text, i)
            if entity:
                self._separate(chars, origin, i)
                i = entity.end()
                continue
            for ch in unicodedata.normalize("NFKD", text[i]):
                if unicodedata.combining(ch):
                    continue
                for folded in ch.casefold():
                    if _WORD.match(folded):
                        chars.append(folded)
                        origin.append(i)
                    else:
                        self._separate(chars, origin, i)
            i += 1
        self.folded = "".join(chars)
        self._origin = origin

    @staticmethod
    def _separate(chars: list[str], origin: list[int], at: int) -> None:
        if chars and chars[-1] != " ":
            chars.append(" ")
            origin.append(at)

    def span(self, start: int, end: int) -> Span:
        """The original text behind ``folded[start:end]`` (with any accents that follow it)."""
        first = self._origin[start]
        last = self._origin[end - 1] + 1
        while last < len(self.text) and unicodedata.combining(self.text[last]):
            last += 1
        return Span(first, last, self.text[first:last])

    def find(self, phrase: str, *, hebrew_prefixes: bool = True) -> list[Span]:
        """Every place ``phrase`` occurs as whole words, ignoring case, accents and punctuation.

        A phrase that starts with a Hebrew letter also matches after Hebrew's attached
        one-letter words ("למגדל נתונים" names "מגדל נתונים").
        """
        key = _key(phrase)
        # Whole words are a substring first: most names checked (every other account's, for
        # each message of a broadcast) are not in the text at all, and this says so at once.
        if not key or key not in self.folded:
            return []
        prefix = ""
        if hebrew_prefixes and _HEBREW_LETTER.match(key):
            prefix = f"[{HEBREW_PREFIXES}]{{0,2}}"
        pattern = re.compile(rf"(?<!\S){prefix}{re.escape(key)}(?!\S)")
        return [self.span(m.start(), m.end()) for m in pattern.finditer(self.folded)]

    def search(self, pattern: re.Pattern[str]) -> list[Span]:
        """Every match of a pattern written against the folded text."""
        return [self.span(m.start(), m.end()) for m in pattern.finditer(self.folded) if m.group()]
