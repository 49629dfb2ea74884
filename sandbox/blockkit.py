"""Block Kit validation with Slack's documented limits (messages, modals, Home tabs)."""

from __future__ import annotations

from typing import Any

MESSAGE_MAX_BLOCKS = 50
SURFACE_MAX_BLOCKS = 100
MAX_ID = 255
MAX_TITLE = 24
MAX_PRIVATE_METADATA = 3000

BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "video",
}
ELEMENT_TYPES = {
    "button",
    "channels_select",
    "checkboxes",
    "conversations_select",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "external_select",
    "file_input",
    "image",
    "multi_channels_select",
    "multi_conversations_select",
    "multi_external_select",
    "multi_static_select",
    "multi_users_select",
    "number_input",
    "overflow",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "static_select",
    "timepicker",
    "url_text_input",
    "users_select",
    "workflow_button",
}


class BlockError(ValueError):
    """A Block Kit limit was broken; the message names the JSON pointer, like Slack does."""

    def __init__(self, pointer: str, problem: str) -> None:
        super().__init__(f"{problem} [json-pointer:{pointer}]")


def _text(obj: Any, ptr: str, *, limit: int, plain_only: bool = False) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise BlockError(ptr, "must be a text object")
    allowed = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
    if obj.get("type") not in allowed:
        raise BlockError(f"{ptr}/type", f"must be one of {sorted(allowed)}")
    if not obj["text"]:
        raise BlockError(f"{ptr}/text", "must be more than 0 characters")
    if len(obj["text"]) > limit:
        raise BlockError(f"{ptr}/text", f"must be less than {limit + 1} characters")


def _max_len(obj: dict[str, Any], key: str, ptr: str, limit: int) -> None:
    value = obj.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise BlockError(f"{ptr}/{key}", f"must be a string of at most {limit} characters")


def _options(options: Any, ptr: str, *, most: int) -> None:
    if not isinstance(options, list) or not options or len(options) > most:
        raise BlockError(ptr, f"must provide between 1 and {most} options")
    for i, opt in enumerate(options):
        if not isinstance(opt, dict):
            raise BlockError(f"{ptr}/{i}", "must be an option object")
        _text(opt.get("text"), f"{ptr}/{i}/text", limit=75)
        _max_len(opt, "value", f"{ptr}/{i}", 150)


def _element(el: Any, ptr: str, action_ids: set[str]) -> None:
    if not isinstance(el, dict) or el.get("type") not in ELEMENT_TYPES:
        raise BlockError(f"{ptr}/type", "must be a known element type")
    _max_len(el, "action_id", ptr, MAX_ID)
    action_id = el.get("action_id")
    if action_id is not None:
        if action_id in action_ids:
            raise BlockError(f"{ptr}/action_id", "must be unique within the block")
        action_ids.add(action_id)
    kind = el["type"]
    if kind == "button":
        _text(el.get("text"), f"{ptr}/text", limit=75, plain_only=True)
        _max_len(el, "value", ptr, 2000)
        _max_len(el, "url", ptr, 3000)
        if el.get("style") not in (None, "primary", "danger"):
            raise BlockError(f"{ptr}/style", "must be primary or danger")
    elif kind == "image":
        _max_len(el, "alt_text", ptr, 2000)
    if "placeholder" in el:
        _text(el["placeholder"], f"{ptr}/placeholder", limit=150, plain_only=True)
    if kind in ("static_select", "multi_static_select") and "option_groups" not in el:
        _options(el.get("options"), f"{ptr}/options", most=100)
    elif kind == "overflow":
        _options(el.get("options"), f"{ptr}/options", most=5)
    elif kind in ("checkboxes", "radio_buttons"):
        _options(el.get("options"), f"{ptr}/options", most=10)


def _elements(block: dict[str, Any], ptr: str, most: int) -> list[Any]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements or len(elements) > most:
        raise BlockError(f"{ptr}/elements", f"must provide between 1 and {most} items")
    return elements


def _block(block: Any, ptr: str) -> None:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        raise BlockError(f"{ptr}/type", "must be a known block type")
    kind = block["type"]
    action_ids: set[str] = set()
    if kind == "section":
        if "text" not in block and "fields" not in block:
            raise BlockError(ptr, "must provide text or fields")
        if "text" in block:
            _text(block["text"], f"{ptr}/text", limit=3000)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not fields or len(fields) > 10:
                raise BlockError(f"{ptr}/fields", "must provide between 1 and 10 items")
            for i, f in enumerate(fields):
                _text(f, f"{ptr}/fields/{i}", limit=2000)
        if "accessory" in block:
            _element(block["accessory"], f"{ptr}/accessory", action_ids)
    elif kind == "header":
        _text(block.get("text"), f"{ptr}/text", limit=150, plain_only=True)
    elif kind == "actions":
        for i, el in enumerate(_elements(block, ptr, 25)):
            _element(el, f"{ptr}/elements/{i}", action_ids)
    elif kind == "context":
        for i, el in enumerate(_elements(block, ptr, 10)):
            if isinstance(el, dict) and el.get("type") == "image":
                _element(el, f"{ptr}/elements/{i}", action_ids)
            else:
                _text(el, f"{ptr}/elements/{i}", limit=3000)
    elif kind == "image":
        if not block.get("image_url") and not block.get("slack_file"):
            raise BlockError(f"{ptr}/image_url", "is required")
        _max_len(block, "alt_text", ptr, 2000)
        if not block.get("alt_text"):
            raise BlockError(f"{ptr}/alt_text", "is required")
    elif kind == "input":
        _text(block.get("label"), f"{ptr}/label", limit=2000, plain_only=True)
        _element(block.get("element"), f"{ptr}/element", action_ids)
        if "hint" in block:
            _text(block["hint"], f"{ptr}/hint", limit=2000, plain_only=True)
    elif kind == "rich_text":
        _elements(block, ptr, 1000)


def validate_blocks(blocks: Any, *, max_blocks: int = MESSAGE_MAX_BLOCKS) -> None:
    """Raise BlockError when `blocks` breaks a Block Kit rule or limit."""
    if not isinstance(blocks, list):
        raise BlockError("/blocks", "must be an array")
    if len(blocks) > max_blocks:
        raise BlockError("/blocks", f"no more than {max_blocks} items allowed")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"/blocks/{i}"
        _block(block, ptr)
        _max_len(block, "block_id", ptr, MAX_ID)
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                raise BlockError(f"{ptr}/block_id", "must be unique")
            block_ids.add(block_id)


def validate_view(view: Any, *, types: tuple[str, ...]) -> None:
    """Raise BlockError when a modal or Home tab view breaks Slack's rules."""
    if not isinstance(view, dict):
        raise BlockError("/view", "must be an object")
    if view.get("type") not in types:
        raise BlockError("/type", f"must be one of {list(types)}")
    validate_blocks(view.get("blocks"), max_blocks=SURFACE_MAX_BLOCKS)
    if view["type"] == "modal":
        _text(view.get("title"), "/title", limit=MAX_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                _text(view[key], f"/{key}", limit=MAX_TITLE, plain_only=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"])
        if has_input and "submit" not in view:
            raise BlockError("/submit", "is required when an input block is within blocks")
    _max_len(view, "private_metadata", "", MAX_PRIVATE_METADATA)
    _max_len(view, "callback_id", "", MAX_ID)
    _max_len(view, "external_id", "", MAX_ID)
