"""The ledger's wording on the card and in the account's record."""

from bot import messages


def test_the_card_line_says_how_many_were_late_and_by_how_much() -> None:
    assert messages.promises_kept(4, 4, 0, 0) == "Promises kept: 4 of 4"
    assert messages.promises_kept(3, 4, 1, 720) == "Promises kept: 3 of 4 (one 12 min late)"
    assert (
        messages.promises_kept(5, 6, 2, 5400) == "Promises kept: 5 of 6 (2 late, by up to 1h 30m)"
    )


def test_the_account_record_counts_its_crises() -> None:
    assert messages.account_promise_record(1, 0, 0, 1) == (
        "*Promises to them* (across 1 crisis)\n1 kept on time · 0 kept late · 0 broken"
    )
