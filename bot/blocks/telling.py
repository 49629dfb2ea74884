"""``/crisis tell``: the private preview of a message for the customer, its buttons, and the
small form that edits it."""

from __future__ import annotations

import json
from typing import Any

from bot import messages
from bot.blocks.kit import Block, actions, button, context, plain, section
from bot.services.telling import Preview

SEND = "send_to_customer"
EDIT = "edit_customer_message"
TOLD = "customer_told"
EDIT_FORM = "customer_message_edit"
# What a section shows at most; a longer message is cut in the preview only.
SECTION_LIMIT = 3000


def preview_blocks(preview: Preview, *, not_in_channel: bool = False) -> list[Block]:
    """Exactly what the customer will see, where it goes, what to check, and the buttons:
    *Send* when it can go to their channel, *I sent it* when it is to be copied."""
    value = str(preview.message_id)
    blocks: list[Block] = [section(messages.tell_preview_header(preview.customer))]
    blocks.append(section(preview.text[:SECTION_LIMIT], block_id="customer_text"))
    if not preview.has_account:
        where = messages.tell_no_account(preview.customer)
    elif preview.channel is None:
        where = messages.tell_no_channel(preview.customer)
    elif not_in_channel:
        where = messages.tell_not_in_channel(preview.channel)
    else:
        where = messages.tell_goes_to(preview.channel)
    blocks.append(context(where))
    for finding in preview.findings:
        blocks.append(context(messages.tell_blame(finding.words, finding.suggestion)))
    if preview.leaks:
        blocks.append(section(messages.customer_leak(preview.leaks)))
        return [*blocks, actions(button("Edit", EDIT, value), block_id="customer_message")]
    choices: list[Block] = []
    if preview.channel is not None:
        choices.append(
            button(messages.send_to_customer_button(preview.customer), SEND, value, style="primary")
        )
    if preview.channel is None or not_in_channel:
        choices.append(button("I sent it", TOLD, value))
    choices.append(button("Edit", EDIT, value))
    return [*blocks, actions(*choices, block_id="customer_message")]


def edit_form(*, message_id: int, customer: str, text: str, note: str) -> dict[str, Any]:
    """The draft's text, and a note for the team that the customer never sees."""
    blocks: list[Block] = [
        context(messages.tell_preview_header(customer)),
        {
            "type": "input",
            "block_id": "text",
            "label": plain("Message for the customer", 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 2900,
                "initial_value": text[:2900],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "label": plain("Note for the team (never sent)", 2000),
            "optional": True,
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 1000,
                **({"initial_value": note[:1000]} if note else {}),
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": EDIT_FORM,
        "title": plain("Message for customer", 24),
        "submit": plain("Preview", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"message_id": message_id}),
        "blocks": blocks,
    }
