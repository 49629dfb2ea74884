"""Modals: declare (listening first), post update, close, hand over."""

from __future__ import annotations

import json
from typing import Any

from bot import messages
from bot.blocks.kit import Block, context, plain
from bot.db.models import Account
from bot.domain import (
    DEFAULT_SEVERITY,
    KINDS,
    MAX_CUSTOMER,
    MAX_FIELD,
    MAX_RESOLUTION,
    NOT_A_CRISIS,
    SEVERITIES,
)
from bot.enums import Severity
from bot.text import clip, safe

DECLARE = "declare_crisis"
UPDATE = "post_update"
CLOSE = "close_crisis"
# The close form's "What will we change so this doesn't happen again?" (shown in the report).
PREVENTION = "prevention"
MAX_PREVENTION = 1000
HAND_OVER = "hand_over"
REOPEN = "reopen_crisis"
# The update and close forms' message for the customer, and the team's note beside it.
CUSTOMER_MESSAGE = "customer_message"
INTERNAL_NOTE = "internal_note"
MAX_CUSTOMER_MESSAGE = 2900
# The declare form's customer type-ahead (an external_select: the options come from us).
CUSTOMER_SEARCH = "customer_search"
# Its option values: an account, or a name for a customer the team keeps no account for.
ACCOUNT_CHOICE = "account:"
NEW_CHOICE = "new:"
# Slack shows at most 100 options, each value at most 150 characters.
MAX_OPTIONS = 100
MAX_OPTION_VALUE = 150

NEXT_UPDATE_CHOICES = [
    ("15m", "15 minutes"),
    ("30m", "30 minutes"),
    ("1h", "1 hour"),
    ("2h", "2 hours"),
    ("4h", "4 hours"),
    ("1d", "1 day"),
]


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, 75), "value": value}


def customer_options(found: list[Account], typed: str, *, known: bool) -> list[dict[str, Any]]:
    """The type-ahead's options: the accounts found, then the text typed as a new customer
    (unless it is ``known``: exactly an account's name or alias)."""
    options = [_option(f"{ACCOUNT_CHOICE}{account.id}", account.name) for account in found]
    options = options[: MAX_OPTIONS - 1]
    # Not cut to the longest name: one too long is refused, saying so, when the form is sent.
    name = " ".join(typed.split())[: MAX_OPTION_VALUE - len(NEW_CHOICE)]
    if name and not known:
        options.append(_option(f"{NEW_CHOICE}{name}", messages.new_customer(name)))
    return options


def customer_choice(value: str, label: str = "") -> tuple[int | None, str]:
    """What the customer field holds: (an account's id, its name as shown) or (None, a new
    customer's name)."""
    if value.startswith(ACCOUNT_CHOICE) and value[len(ACCOUNT_CHOICE) :].isdigit():
        return int(value[len(ACCOUNT_CHOICE) :]), label
    return None, value.removeprefix(NEW_CHOICE)


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text(
    action_id: str,
    *,
    multiline: bool = False,
    max_length: int = 3000,
    placeholder: str | None = None,
    initial: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": multiline,
        "max_length": max_length,
    }
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    if initial:
        element["initial_value"] = clip(initial, max_length)
    return element


def _modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": blocks,
    }


def declare_modal(
    *,
    user_id: str,
    origin_channel_id: str | None,
    customer: str = "",
    experienced: str = "",
    severity: Severity = DEFAULT_SEVERITY,
) -> dict[str, Any]:
    """Triage: who, what they experienced, what they expected, kind, severity, people."""
    kinds = [_option(value, label) for value, label in KINDS.items()]
    severities = [_option(value, label) for value, label in SEVERITIES.items()]
    blocks: list[Block] = [
        context(
            "Listen first: write what the customer experienced in their words, and what"
            " they expected instead."
        ),
        _input("customer", "Customer", _customer_select(customer)),
        _input(
            "experienced",
            "What the customer experienced",
            _text(
                "value",
                multiline=True,
                max_length=MAX_FIELD,
                initial=experienced,
                placeholder="Dashboards have shown no data since 09:10",
            ),
        ),
        _input(
            "expected",
            "What they expected",
            _text(
                "value",
                multiline=True,
                max_length=MAX_FIELD,
                placeholder="Live data for their morning trading review",
            ),
            optional=True,
        ),
        _input(
            "kind",
            "Kind of crisis",
            {
                "type": "static_select",
                "action_id": "value",
                "options": kinds,
                "placeholder": plain("Choose a kind"),
            },
            optional=True,
            hint=(
                'Leave it empty if you don\'t know yet; the card says "Kind not set yet".'
                f' Pick "{KINDS[NOT_A_CRISIS]}" and I\'ll point them to self-service instead.'
            ),
        ),
        _input(
            "severity",
            "Severity",
            {
                "type": "static_select",
                "action_id": "value",
                "options": severities,
                "initial_option": _option(severity, SEVERITIES[severity]),
            },
        ),
        _input(
            "owner",
            "Owner",
            {"type": "users_select", "action_id": "value"},
            optional=True,
            hint=(
                "The person who promises the customer their next update. Leave it empty:"
                " the account's CSM, or you."
            ),
        ),
        _input(
            "responders",
            "Responders",
            {"type": "multi_users_select", "action_id": "value", "max_selected_items": 50},
            optional=True,
        ),
    ]
    return _modal(
        DECLARE, "Declare a crisis", "Declare", blocks, {"origin_channel_id": origin_channel_id}
    )


def _customer_select(customer: str) -> dict[str, Any]:
    """A type-ahead over the accounts that still takes a new customer's name."""
    element: dict[str, Any] = {
        "type": "external_select",
        "action_id": CUSTOMER_SEARCH,
        "min_query_length": 0,
        "placeholder": plain("Type the customer's name, e.g. Acme Corp", 150),
    }
    name = " ".join(customer.split())[:MAX_CUSTOMER]
    if name:
        element["initial_option"] = _option(f"{NEW_CHOICE}{name}", name)
    return element


def update_modal(
    *, crisis_id: int, customer: str, cadence: str, customer_message: str | None = None
) -> dict[str, Any]:
    """A status update shaped as the seeds advise: what happened, what we do, next steps;
    and, when the crisis has an account, a message for the customer (``customer_message``,
    the template to start from) with a note for the team beside it."""
    choices = [_option(v, label) for v, label in NEXT_UPDATE_CHOICES]
    if cadence not in dict(NEXT_UPDATE_CHOICES):
        choices.insert(0, _option(cadence, cadence))
    initial = next(c for c in choices if c["value"] == cadence)
    blocks: list[Block] = [
        context(
            f"Update for *{safe(customer, 100)}*. Even without an answer yet, say that you"
            " are investigating and when they will hear next."
        ),
        _input("what_happened", "What happened", _text("value", multiline=True, max_length=900)),
        _input("doing", "What we are doing", _text("value", multiline=True, max_length=900)),
        _input(
            "next_steps",
            "Next steps",
            _text("value", multiline=True, max_length=900),
            optional=True,
        ),
        *_customer_fields(customer_message),
        _input(
            "next_in",
            "Next update in",
            {
                "type": "static_select",
                "action_id": "value",
                "options": choices,
                "initial_option": initial,
            },
        ),
    ]
    return _modal(UPDATE, "Post update", "Post", blocks, {"crisis_id": crisis_id})


def _customer_fields(customer_message: str | None) -> list[Block]:
    if customer_message is None:
        return []
    return [
        _input(
            CUSTOMER_MESSAGE,
            "Message to the customer",
            _text(
                "value", multiline=True, max_length=MAX_CUSTOMER_MESSAGE, initial=customer_message
            ),
            optional=True,
            hint=messages.customer_message_hint(),
        ),
        _input(
            INTERNAL_NOTE,
            "Internal note (team only)",
            _text("value", multiline=True, max_length=1000),
            optional=True,
            hint=messages.internal_note_hint(),
        ),
    ]


def close_modal(
    *, crisis_id: int, customer: str, closure_message: str | None = None
) -> dict[str, Any]:
    """Closure: what resolved it, what is left, and whether the customer agrees; and, when
    the crisis has an account, the closing message for the customer (``closure_message``)."""
    blocks: list[Block] = [
        context(f"Closing the crisis for *{safe(customer, 100)}*. Close every loose end."),
        _input(
            "resolution",
            "Resolution",
            _text("value", multiline=True, max_length=MAX_RESOLUTION),
        ),
        _input(
            "follow_ups",
            "Follow-ups",
            _text("value", multiline=True, max_length=1000),
            optional=True,
        ),
        _input(
            PREVENTION,
            messages.prevention_label(),
            _text("value", multiline=True, max_length=MAX_PREVENTION),
            optional=True,
            hint=messages.prevention_hint(),
        ),
        _input(
            "confirmed",
            "Has the customer confirmed?",
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": [_option("yes", "Yes, they confirmed"), _option("no", "Not yet")],
            },
        ),
    ]
    if closure_message is not None:
        blocks.append(
            _input(
                CUSTOMER_MESSAGE,
                "Closing message to the customer",
                _text(
                    "value",
                    multiline=True,
                    max_length=MAX_CUSTOMER_MESSAGE,
                    initial=closure_message,
                ),
                optional=True,
                hint=messages.closure_message_hint(),
            )
        )
    # "Close" next to Cancel and × would read as closing the form.
    return _modal(CLOSE, "Close crisis", "Close crisis", blocks, {"crisis_id": crisis_id})


def hand_over_modal(*, crisis_id: int, customer: str, channel_id: str | None) -> dict[str, Any]:
    """Hand over, naming the crisis: the form may be opened from a reminder DM."""
    where = f" (<#{channel_id}>)" if channel_id else ""
    blocks: list[Block] = [
        context(f"Hand over the crisis for *{safe(customer, 100)}*{where}."),
        _input(
            "owner",
            "New owner",
            {"type": "users_select", "action_id": "value"},
            hint="They get the reminders from now on; I'll tell you both.",
        ),
    ]
    return _modal(HAND_OVER, "Hand over the crisis", "Hand over", blocks, {"crisis_id": crisis_id})


def reopen_modal(*, crisis_id: int, customer: str) -> dict[str, Any]:
    """Reopening: say why, so the team and the timeline know what came back."""
    blocks: list[Block] = [
        context(f"Reopening the crisis for *{safe(customer, 100)}*; the clock restarts."),
        _input(
            "reason",
            "Why reopen?",
            _text("value", multiline=True, max_length=1500, placeholder="The errors came back"),
        ),
    ]
    return _modal(REOPEN, "Reopen crisis", "Reopen", blocks, {"crisis_id": crisis_id})
