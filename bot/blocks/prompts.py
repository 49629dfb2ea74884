"""Questions to the person before the bot acts: open a second crisis for this customer?
Is this customer the account whose name it nearly is?"""

from __future__ import annotations

from bot import messages
from bot.blocks.kit import Block, actions, button, section

GO_TO_CRISIS = "crisis_go_to"
DECLARE_ANYWAY = "crisis_declare_anyway"
DECLARE_FOR_ACCOUNT = "crisis_declare_for_account"
DECLARE_NEW_CUSTOMER = "crisis_declare_new_customer"


def channel_url(channel_id: str) -> str:
    """A link that opens the channel in Slack, in the app or the browser."""
    return f"https://slack.com/app_redirect?channel={channel_id}"


def second_crisis_prompt(
    text: str, *, channel_id: str | None, channel_name: str | None, pending_id: int
) -> list[Block]:
    """Go to the open crisis, or declare the held one anyway."""
    choices: list[Block] = []
    if channel_id:
        choices.append(
            button(
                f"Go to #{channel_name or 'the crisis channel'}",
                GO_TO_CRISIS,
                channel_id,
                style="primary",
                url=channel_url(channel_id),
            )
        )
    choices.append(button("Declare anyway", DECLARE_ANYWAY, str(pending_id)))
    return [section(text), actions(*choices, block_id="second_crisis")]


def did_you_mean_prompt(
    text: str, *, typed: str, account_id: int, account_name: str, pending_id: int
) -> list[Block]:
    """Declare for the account the name nearly is, or for a new customer by the name typed."""
    return [
        section(text),
        actions(
            button(
                account_name,
                DECLARE_FOR_ACCOUNT,
                f"{pending_id}:{account_id}",
                style="primary",
            ),
            button(messages.new_customer(typed), DECLARE_NEW_CUSTOMER, str(pending_id)),
            block_id="did_you_mean",
        ),
    ]
