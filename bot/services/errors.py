"""Errors the user sees, with a message saying how to do it right."""

from __future__ import annotations


class CrisisError(Exception):
    """Something the user asked for cannot be done; ``str(error)`` is the message for them."""

    def __init__(
        self, message: str, *, field: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        # The form field at fault, so a modal can show the message next to it; ``fields``
        # has every field at fault with its own sentence, to show them all at once.
        self.field = field
        self.fields = fields or ({field: message} if field else {})
