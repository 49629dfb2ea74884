"""The leak guard: nothing internal, and no other customer, reaches a customer channel."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.customer import (
    Confidential,
    LeakError,
    LeakKind,
    check_for_customer,
    confidential_for,
    ensure_for_customer,
    render_update,
)
from bot.db.models import Account, Crisis

OTHERS: tuple[tuple[str, ...], ...] = (
    ("Initech", "Initech Inc"),
    ("מגדל נתונים", "Migdal Data"),
    ("Café Müller", "Mueller Cafe"),
    ("Acme",),
    ("O'Brien & Sons",),
)
CONTEXT = Confidential(
    severity_labels=("sev1", "SEV1 · critical"),
    internal_notes=("CEO is furious and threatening to churn before the renewal in March",),
    internal_channel_id="C0CRISIS",
    internal_channel_name="crisis-20261201-globex-corp",
    other_accounts=OTHERS,
    customer_names=("Globex Corp", "Globex", "Acme Europe"),
)


def found(text: str) -> list[tuple[LeakKind, str]]:
    return [(leak.kind, leak.words) for leak in check_for_customer(text, context=CONTEXT)]


def test_the_severity_label_in_any_spelling() -> None:
    assert found("This is a SEV1 · critical for us.") == [(LeakKind.SEVERITY, "SEV1 · critical")]
    assert found("Treated as sev-2 internally; Sev 3 later") == [
        (LeakKind.SEVERITY, "sev-2"),
        (LeakKind.SEVERITY, "Sev 3"),
    ]
    assert found("Several severe sevens") == []


def test_the_internal_note_whole_or_a_long_enough_fragment() -> None:
    assert found("Note: the CEO is furious, and threatening to churn!") == [
        (LeakKind.INTERNAL_NOTE, "CEO is furious, and threatening to churn")
    ]
    # Four words in a row are ordinary language, not the note.
    assert found("Your CEO is furious, we know.") == []
    short = Confidential(internal_notes=("call legal",))
    assert [leak.words for leak in check_for_customer("We will Call Legal.", context=short)] == [
        "Call Legal"
    ]


def test_the_internal_channel_by_link_id_or_name() -> None:
    assert found("See <#C0CRISIS|crisis-20261201-globex-corp> and C0CRISIS") == [
        (LeakKind.INTERNAL_CHANNEL, "<#C0CRISIS|crisis-20261201-globex-corp>"),
        (LeakKind.INTERNAL_CHANNEL, "C0CRISIS"),
    ]
    assert found("Discussed in #crisis-20261201-globex-corp.") == [
        (LeakKind.INTERNAL_CHANNEL, "#crisis-20261201-globex-corp")
    ]
    assert found("Discussed in crisis 20261201 Globex Corp") == [
        (LeakKind.INTERNAL_CHANNEL, "crisis 20261201 Globex Corp")
    ]


def test_mentions_of_people_groups_and_everyone() -> None:
    assert found("Ask <@U0CHEN> or <!subteam^S0ONCALL|@oncall>, or &lt;@U0BEN&gt;") == [
        (LeakKind.MENTION, "<@U0CHEN>"),
        (LeakKind.MENTION, "<!subteam^S0ONCALL|@oncall>"),
        (LeakKind.MENTION, "&lt;@U0BEN&gt;"),
    ]
    assert found("<!channel> <!here|here> <!everyone> @here") == [
        (LeakKind.BROADCAST, "<!channel>"),
        (LeakKind.BROADCAST, "<!here|here>"),
        (LeakKind.BROADCAST, "<!everyone>"),
        (LeakKind.BROADCAST, "@here"),
    ]
    assert found("Write to support@here.example or <!date^1796131800^{time}|14:30>") == []


def test_other_accounts_by_name_or_alias_but_not_the_customers_own() -> None:
    assert found("Like INITECH's outage, and cafe-muller's, and o brien sons") == [
        (LeakKind.OTHER_ACCOUNT, "INITECH"),
        (LeakKind.OTHER_ACCOUNT, "cafe-muller"),
        (LeakKind.OTHER_ACCOUNT, "o brien sons"),
    ]
    assert found("כמו אצל ולמגדל נתונים") == [(LeakKind.OTHER_ACCOUNT, "ולמגדל נתונים")]
    # Whole words only; "Acme" inside the customer's own "Acme Europe" is theirs.
    assert found("Acmeville, Initechnology and the Acme Europe team") == []
    assert found("Acme Europe and Acme") == [(LeakKind.OTHER_ACCOUNT, "Acme")]


def test_ensure_for_customer_refuses_naming_the_words() -> None:
    assert ensure_for_customer("All good.", context=CONTEXT) == "All good."
    with pytest.raises(LeakError) as refused:
        ensure_for_customer("Like Initech, a SEV1", context=CONTEXT)
    assert str(refused.value) == (
        "another customer's name: 'Initech'; the internal severity: 'SEV1'"
    )
    assert [leak.what for leak in refused.value.leaks] == [
        "another customer's name",
        "the internal severity",
    ]


def test_confidential_for_a_crisis_of_an_account() -> None:
    globex = Account(id=1, name="Globex Corp", name_key="globex corp", aliases=["Globex"])
    initech = Account(id=2, name="Initech", name_key="initech", aliases=["Initrode"])
    crisis = Crisis(
        customer="Globex Corp",
        account_id=1,
        account=globex,
        severity="sev1",
        channel_id="C0CRISIS",
        channel_name="crisis-20261201-globex-corp",
    )
    context = confidential_for(crisis=crisis, accounts=[globex, initech], internal_notes=["x"])
    assert context.other_accounts == (("Initech", "Initrode"),)
    assert context.customer_names == ("Globex Corp", "Globex")
    assert "SEV1 · critical" in context.severity_labels
    assert (context.internal_channel_id, context.internal_channel_name) == (
        "C0CRISIS",
        "crisis-20261201-globex-corp",
    )
    assert [leak.words for leak in check_for_customer("Globex and Initrode", context=context)] == [
        "Initrode"
    ]


def test_a_rendered_message_passes() -> None:
    message = render_update(
        kind="service_outage",
        language="en",
        customer="Globex Corp",
        experienced="Exports stopped at 09:10 & the dashboard is slow.",
        doing="We are rolling back release 4.2.",
        next_steps=["Confirm exports run"],
        next_due=datetime(2026, 12, 1, 13, 30, tzinfo=UTC),
        zone="Europe/Berlin",
    )
    assert check_for_customer(message.text, context=CONTEXT) == []


# Property-based: another account's name, disguised, anywhere in a message, is always found.

SEPARATORS = st.sampled_from([" ", "  ", "-", " - ", ".", ". ", "_", "/", ", ", "\n", "·", "'"])
FILLER = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40
)


@st.composite
def disguised(draw: st.DrawFn, name: str) -> str:
    """``name`` with its case changed, accents added and punctuation between its words."""
    out = []
    for ch in name:
        if ch.isalpha():
            ch = ch.upper() if draw(st.booleans()) else ch.lower()
            if draw(st.integers(0, 3)) == 0:
                # A combining accent (or Hebrew point) on the letter.
                ch += draw(st.sampled_from(["\u0301", "\u0308", "\u0300", "\u05b8", "\u05bc"]))
            if draw(st.booleans()):
                ch = unicodedata.normalize("NFC", ch)
        elif not ch.isalnum():
            ch = draw(SEPARATORS)
        out.append(ch)
    return "".join(out)


@st.composite
def message_with_another_account(draw: st.DrawFn) -> tuple[str, str]:
    names = draw(st.sampled_from(OTHERS))
    name = draw(st.sampled_from(names))
    before, after = draw(FILLER), draw(FILLER)
    hidden = draw(disguised(name))
    return f"{before} {hidden} {after}", name


@settings(max_examples=300, deadline=None)
@given(message_with_another_account())
def test_every_disguised_name_of_another_account_is_refused(case: tuple[str, str]) -> None:
    text, _ = case
    leaks = check_for_customer(text, context=CONTEXT)
    assert any(leak.kind == LeakKind.OTHER_ACCOUNT for leak in leaks), text
    with pytest.raises(LeakError):
        ensure_for_customer(text, context=CONTEXT)


CLEAN_WORDS = [
    "Globex",
    "Corp",
    "Acme Europe",
    "Europe",
    "Acmeville",
    "Initechnology",
    "Mullerite",
    "Cafeteria",
    "Sonsy",
    "exports",
    "restored",
    "we",
    "are",
    "on",
    "it",
    "4.2",
    "15:30",
    "מגדלים",
    "נתוני",
    "severity",
    "sevens",
    "C0SHARED",
    "crisis",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CLEAN_WORDS), SEPARATORS), max_size=30))
def test_clean_messages_pass(words: list[tuple[str, str]]) -> None:
    # Names that merely start like another account's ("Acmeville", "Initechnology"), and
    # "Acme" inside the customer's own "Acme Europe", are clean.
    text = "".join(word + separator for word, separator in words)
    assert check_for_customer(text, context=CONTEXT) == [], text
