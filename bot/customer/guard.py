"""The leak guard: the one check every message passes before it may reach a customer channel.

A message meant for a customer is refused, naming the exact words, when it contains:

- a severity label (``SEV1``, ``sev 2``, ``SEV1 · critical``; any ``sev`` + a number);
- the internal note, or any run of :data:`NOTE_FRAGMENT_WORDS` consecutive words of it (a
  shorter note only whole);
- the internal crisis channel: a link to it (``<#C…>``), its id, or its name (with or without
  ``#``);
- a user or user group mention (``<@U…>``, ``<!subteam^S…>``), raw or escaped;
- a broadcast mention (``<!channel>``, ``<!here>``, ``<!everyone>``, or ``@here`` as text);
- the name or an alias of any *other* account.

Names, labels and the note are matched as :class:`~bot.customer.folding.Folded` text: case,
accents and punctuation ignored, on whole words: "Acme" is found in "ACME's outage",
"Acme, Inc." and "ácme", but not in "Acmeville" (words must match whole, so a customer whose
name merely starts like another account's passes). Hebrew names are also
found after attached one-letter words ("למגדל נתונים"). A match that lies inside the
customer's own name or alias is theirs, not a leak ("Acme" inside "Acme Europe").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.customer.folding import Folded, Span
from bot.db.models import Account, Crisis
from bot.domain import SEVERITIES
from bot.services.accounts import name_key

# How many consecutive words of the internal note make a leak.
NOTE_FRAGMENT_WORDS = 5

_OPEN, _CLOSE = r"(?:<|&lt;)", r"(?:\|[^<>]*?)?(?:>|&gt;)"
_MENTION = re.compile(rf"{_OPEN}(?:@[UWB][A-Z0-9]+|!subteam\^[A-Z0-9]+){_CLOSE}")
_BROADCAST = re.compile(
    rf"{_OPEN}!(?:channel|here|everyone){_CLOSE}|(?<![\w@])@(?:channel|here|everyone)\b",
    re.IGNORECASE,
)
_SEVERITY = re.compile(r"(?<!\S)sev ?\d+(?!\S)")


class LeakKind(StrEnum):
    SEVERITY = "severity"
    INTERNAL_NOTE = "internal_note"
    INTERNAL_CHANNEL = "internal_channel"
    MENTION = "mention"
    BROADCAST = "broadcast"
    OTHER_ACCOUNT = "other_account"


# What each leak is, for the sentence that tells the person why their message was held.
LEAK_KINDS: dict[LeakKind, str] = {
    LeakKind.SEVERITY: "the internal severity",
    LeakKind.INTERNAL_NOTE: "the internal note",
    LeakKind.INTERNAL_CHANNEL: "the internal crisis channel",
    LeakKind.MENTION: "a mention of a person or group",
    LeakKind.BROADCAST: "a mention that notifies everyone",
    LeakKind.OTHER_ACCOUNT: "another customer's name",
}


@dataclass(frozen=True)
class Leak:
    """Something internal in a customer message: what it is and the exact words."""

    kind: LeakKind
    words: str
    start: int
    end: int

    @property
    def what(self) -> str:
        return LEAK_KINDS[self.kind]


@dataclass(frozen=True)
class Confidential:
    """What must never reach this customer (the guard's context).

    ``other_accounts`` holds, for every other account, its name followed by its aliases;
    ``customer_names`` the customer's own name and aliases, which are never a leak.
    """

    severity_labels: tuple[str, ...] = ()
    internal_notes: tuple[str, ...] = ()
    internal_channel_id: str | None = None
    internal_channel_name: str | None = None
    other_accounts: tuple[tuple[str, ...], ...] = ()
    customer_names: tuple[str, ...] = ()


class LeakError(Exception):
    """A customer message was held back; ``leaks`` names what and where."""

    def __init__(self, leaks: Sequence[Leak]) -> None:
        self.leaks = tuple(leaks)
        super().__init__("; ".join(f"{leak.what}: {leak.words!r}" for leak in self.leaks))


def confidential_for(
    *, crisis: Crisis, accounts: Iterable[Account], internal_notes: Sequence[str] = ()
) -> Confidential:
    """The guard's context for a crisis: every severity label, its channel, its notes, and
    the names of every account that is not this crisis's customer."""
    own = crisis.account
    customer_names = (own.name, *own.aliases) if own is not None else (crisis.customer,)
    return Confidential(
        severity_labels=tuple(label for pair in SEVERITIES.items() for label in pair),
        internal_notes=tuple(internal_notes),
        internal_channel_id=crisis.channel_id,
        internal_channel_name=crisis.channel_name,
        other_accounts=tuple(
            (account.name, *account.aliases)
            for account in accounts
            if crisis.account_id is None or account.id != crisis.account_id
        ),
        customer_names=customer_names,
    )


def check_for_customer(text: str, *, context: Confidential) -> list[Leak]:
    """Every leak in ``text`` (as it would be posted: mrkdwn), in order; empty when it may go."""
    folded = Folded(text)
    leaks: list[Leak] = []

    def add(kind: LeakKind, spans: Iterable[Span]) -> None:
        leaks.extend(Leak(kind, s.words, s.start, s.end) for s in spans)

    add(LeakKind.SEVERITY, folded.search(_SEVERITY))
    for label in context.severity_labels:
        add(LeakKind.SEVERITY, folded.find(label))
    for note in context.internal_notes:
        add(LeakKind.INTERNAL_NOTE, _note_fragments(folded, note))
    add(LeakKind.INTERNAL_CHANNEL, _channel(text, folded, context))
    add(LeakKind.MENTION, _regex(text, _MENTION))
    add(LeakKind.BROADCAST, _regex(text, _BROADCAST))
    own = [span for name in context.customer_names for span in folded.find(name)]
    for names in context.other_accounts:
        for name in names:
            add(LeakKind.OTHER_ACCOUNT, (s for s in folded.find(name) if not _inside(s, own)))
    return _outermost(leaks)


_GUARD = object()


class CheckedMessage(str):
    """Text the guard let through: the only kind ``SlackPort.post_to_customer`` takes.

    Only :func:`ensure_for_customer` makes one, so nothing reaches a customer channel unchecked.
    """

    def __new__(cls, text: str, *, _made_by: object = None) -> CheckedMessage:
        if _made_by is not _GUARD:
            raise TypeError("only ensure_for_customer makes a CheckedMessage")
        return super().__new__(cls, text)


def ensure_for_customer(text: str, *, context: Confidential) -> CheckedMessage:
    """``text`` unchanged (as a :class:`CheckedMessage`) when nothing internal is in it;
    otherwise :class:`LeakError`."""
    leaks = check_for_customer(text, context=context)
    if leaks:
        raise LeakError(leaks)
    return CheckedMessage(text, _made_by=_GUARD)


def _regex(text: str, pattern: re.Pattern[str]) -> list[Span]:
    return [Span(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]


def _channel(text: str, folded: Folded, context: Confidential) -> list[Span]:
    spans: list[Span] = []
    if context.internal_channel_id:
        channel_id = re.escape(context.internal_channel_id)
        spans += _regex(text, re.compile(rf"{_OPEN}#{channel_id}{_CLOSE}|\b{channel_id}\b"))
    if context.internal_channel_name:
        for span in folded.find(context.internal_channel_name.lstrip("#")):
            if span.start > 0 and text[span.start - 1] == "#":
                span = Span(span.start - 1, span.end, text[span.start - 1 : span.end])
            spans.append(span)
    return spans


def _note_fragments(folded: Folded, note: str) -> list[Span]:
    """Runs of the note's words in the text: at least NOTE_FRAGMENT_WORDS, or the whole note."""
    note_words = name_key(note).split()
    if not note_words:
        return []
    need = min(NOTE_FRAGMENT_WORDS, len(note_words))
    words = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", folded.folded)]
    spans = []
    previous = [0] * (len(note_words) + 1)
    for i, (word, _, _) in enumerate(words):
        current = [0] * (len(note_words) + 1)
        for j, note_word in enumerate(note_words, start=1):
            if word == note_word:
                current[j] = previous[j - 1] + 1
        for j in range(1, len(note_words) + 1):
            run = current[j]
            ends_here = (
                i + 1 == len(words) or j == len(note_words) or words[i + 1][0] != note_words[j]
            )
            if run >= need and ends_here:
                spans.append(folded.span(words[i - run + 1][1], words[i][2]))
        previous = current
    return spans


def _inside(span: Span, others: Iterable[Span]) -> bool:
    return any(o.start <= span.start and span.end <= o.end for o in others)


def _outermost(leaks: list[Leak]) -> list[Leak]:
    """One leak per place: a match inside a longer one of the same kind is dropped."""
    kept = [
        leak
        for leak in set(leaks)
        if not any(
            other != leak
            and other.kind == leak.kind
            and other.start <= leak.start
            and leak.end <= other.end
            for other in leaks
        )
    ]
    return sorted(kept, key=lambda leak: (leak.start, leak.end, leak.kind))
